"""Free-text redaction: consentkit's fast detector beside a plain presidio AnalyzerEngine.

Both run the same recognizers on the same notes (the sample of ``pii_quality``): the
baseline is ``build_presidio_analyzer()`` (presidio 2.2.366, blank spaCy tokenizers,
one ``EntityRecognizer`` per entity type and language calling consentkit's finders, the
known names as an ad-hoc recognizer) and ``AnalyzerEngine.analyze`` as integrators call
it; the fast detector is ``get_detector().analyze``. Rounds alternate between the two so
both see the same machine load; the figure is the median of the rounds, in CPU time of the
process (wall time on a shared machine also counts the waits for a core). The process is
pinned to one core for the throughput rows. Recall is measured on the same run's output:
the fast detector's exact-span recall, and the share of gold spans that presidio's raw,
unresolved output (at the detector's threshold) contains with the same type and offsets.

A second baseline is the reference's presidio configuration (presidio's own phone, e-mail and
IBAN recognizers, checked patterns for the identifiers, names as a deny list): not the same
recognizers, so it carries no target, but it shows what a stock presidio set-up costs.

Start-up is measured in fresh interpreters: import, build and the first call.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from consentkit.pseudonym.detect import THRESHOLD, Detector, Entity, get_detector
from consentkit.pseudonym.detect_presidio import build_presidio_analyzer
from pii_quality import TODAY, load, score

from table import Row, Section

TARGET_RATIO = 4.0


@contextmanager
def _one_core() -> Iterator[None]:
    """Pin this process to one CPU while measuring (where the OS allows it)."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _docs_per_second(fn: Callable[[], object], docs: int) -> float:
    # CPU time of this process: on a shared machine, wall time also counts the waits for a core.
    start = time.process_time()
    fn()
    return docs / (time.process_time() - start)


def _presidio_entities(analyzer: Any, notes: list[dict[str, Any]]) -> list[list[Entity]]:
    from consentkit.pseudonym._names import PERSON, name_matcher
    from consentkit.pseudonym.detect_presidio import CandidateRecognizer

    out = []
    for note in notes:
        matcher = name_matcher(tuple(note["known_names"]))
        ad_hoc = [CandidateRecognizer(PERSON, note["lang"], matcher.candidates)] if matcher else None
        results = analyzer.analyze(note["text"], language=note["lang"], ad_hoc_recognizers=ad_hoc,
                                   score_threshold=THRESHOLD)
        out.append([Entity(r.entity_type, r.start, r.end, r.score) for r in results])
    return out


# The reference's presidio configuration (pii-and-identifiers.md §3.3, §4): presidio's own
# PhoneRecognizer (PhoneNumberMatcher per region), EmailRecognizer and IbanRecognizer, one
# PatternRecognizer per identifier whose validate_result is consentkit's checksum, names as
# a deny list. Not the same recognizers as the fast detector: a second, wider baseline.
_STOCK_PATTERNS = {
    "GR_AMKA": r"\b\d{11}\b",
    "GR_AFM": r"\b(?:EL ?)?\d{9}\b",
    "SE_PERSONNUMMER": r"\b(?:\d{2})?\d{6}[-+]?\d{4}\b",
    "RU_SNILS": r"\b\d{3}-?\d{3}-?\d{3}[ -]?\d{2}\b",
    "RU_INN": r"\b\d{10}(?:\d{2})?\b",
    "RU_PASSPORT": r"\b\d{2} ?\d{2} ?(?:№ ?)?\d{6}\b",
    "RU_OMS": r"\b\d{16}\b",
    "KZ_IIN": r"\b\d{12}\b",
}


def _stock_analyzer() -> Any:
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, PhoneRecognizer

    from consentkit.pseudonym._context import LANGUAGES, keywords
    from consentkit.pseudonym._phones import REGIONS
    from consentkit.pseudonym.detect_presidio import BlankSpacyNlpEngine
    from consentkit.pseudonym.identifiers import is_valid

    class Checked(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return is_valid(self.supported_entities[0], pattern_text, today=TODAY)

    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for lang in LANGUAGES:
        registry.add_recognizer(PhoneRecognizer(supported_language=lang, supported_regions=REGIONS,
                                                context=list(keywords("PHONE_NUMBER"))))
        registry.add_recognizer(EmailRecognizer(supported_language=lang))
        registry.add_recognizer(IbanRecognizer(supported_language=lang))
        for kind, regex in _STOCK_PATTERNS.items():
            score = 0.05 if kind == "RU_PASSPORT" else 0.3
            registry.add_recognizer(Checked(supported_entity=kind, supported_language=lang,
                                            context=list(keywords(kind)), patterns=[Pattern(kind, regex, score)]))
    return AnalyzerEngine(registry=registry, nlp_engine=BlankSpacyNlpEngine(LANGUAGES),
                          supported_languages=list(LANGUAGES),
                          context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"))


def _stock_entities(analyzer: Any, notes: list[dict[str, Any]]) -> list[list[Entity]]:
    from presidio_analyzer import PatternRecognizer

    out = []
    for note in notes:
        names = [PatternRecognizer(supported_entity="PERSON", supported_language=note["lang"],
                                   deny_list=list(note["known_names"]))]
        results = analyzer.analyze(note["text"], language=note["lang"], ad_hoc_recognizers=names,
                                   score_threshold=THRESHOLD)
        out.append([Entity(r.entity_type, r.start, r.end, r.score) for r in results])
    return out


def _startup(code: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


_FAST_START = ("from consentkit.pseudonym.detect import get_detector\n"
               "get_detector().analyze('Tel. +30 691 234 5678', lang='el')")
_PRESIDIO_START = ("from consentkit.pseudonym.detect_presidio import build_presidio_analyzer\n"
                   "build_presidio_analyzer().analyze('Tel. +30 691 234 5678', language='el')")
_BARE_START = "import consentkit"


def run(quick: bool) -> list[Section]:
    """Throughput and recall side by side, and start-up costs."""
    notes = load()
    fast = get_detector()
    fast_today = Detector(today=TODAY)  # recall: the sample's personnummer centuries
    analyzer = build_presidio_analyzer(today=TODAY)
    rounds = 5 if quick else 15

    def run_fast() -> None:
        for note in notes:
            fast.analyze(note["text"], lang=note["lang"], known_names=note["known_names"])

    def run_presidio() -> None:
        _presidio_entities(analyzer, notes)

    run_fast()
    run_presidio()  # warm both (regex and name-pattern caches, lazy recognizer loads)
    stock = _stock_analyzer()

    def run_stock() -> None:
        _stock_entities(stock, notes)

    run_stock()
    fast_rates, presidio_rates, stock_rates = [], [], []
    with _one_core():
        for _ in range(rounds):
            fast_rates.append(_docs_per_second(run_fast, len(notes)))
            presidio_rates.append(_docs_per_second(run_presidio, len(notes)))
            stock_rates.append(_docs_per_second(run_stock, len(notes)))
    fast_rate, presidio_rate = statistics.median(fast_rates), statistics.median(presidio_rates)
    stock_rate = statistics.median(stock_rates)
    stock_quality = score(notes, _stock_entities(stock, notes))

    fast_quality = score(notes, [fast_today.analyze(n["text"], lang=n["lang"], known_names=n["known_names"])
                                 for n in notes])
    presidio_quality = score(notes, _presidio_entities(analyzer, notes))
    gold = sum(fast_quality.total.values())
    fast_recall = sum(fast_quality.found.values()) / gold
    presidio_recall = sum(presidio_quality.found.values()) / gold
    stock_recall = sum(stock_quality.found.values()) / gold

    throughput = Section(f"Redaction throughput, one core ({len(notes)} sample notes, "
                         f"{sum(len(n['text']) for n in notes) // len(notes)} characters on average)")
    throughput.rows += [
        Row("fast detector: Detector.analyze", fast_rate, "docs/s",
            baseline="presidio AnalyzerEngine.analyze, same recognizers", baseline_value=presidio_rate,
            target=f">= {TARGET_RATIO:.0f}x presidio", met=fast_rate >= TARGET_RATIO * presidio_rate),
        Row("fast detector: recall, all gold spans (exact type and offsets)", fast_recall, "",
            baseline="presidio raw output containing the gold span", baseline_value=presidio_recall,
            target="equal or better", met=fast_recall >= presidio_recall),
        Row("fast detector: decoys hit", fast_quality.decoys_hit, "decoys",
            baseline="presidio raw output", baseline_value=presidio_quality.decoys_hit),
        Row("fast detector: Detector.analyze", fast_rate, "docs/s",
            baseline="presidio with its own Phone/Email/Iban recognizers and checked patterns",
            baseline_value=stock_rate),
        Row("fast detector: recall, all gold spans", fast_recall, "",
            baseline="that presidio configuration, raw output", baseline_value=stock_recall),
        Row("fast detector: decoys hit", fast_quality.decoys_hit, "decoys",
            baseline="that presidio configuration, raw output", baseline_value=stock_quality.decoys_hit),
    ]
    missed = {kind: stock_quality.total[kind] - stock_quality.found[kind] for kind in stock_quality.total
              if stock_quality.found[kind] < stock_quality.total[kind]}
    throughput.notes += [
        "The second presidio configuration is the reference's (pii-and-identifiers.md §4): presidio's "
        "PhoneRecognizer for the six regions, EmailRecognizer (tldextract offline), IbanRecognizer, one "
        "PatternRecognizer per identifier validated by consentkit's checksums, the known names as a deny list. "
        "Gold spans it misses, by type: " + (", ".join(f"{k} {v}" for k, v in sorted(missed.items())) or "none")
        + "; stock rounds " + ", ".join(f"{r:,.0f}" for r in stock_rates) + ".",
        f"Median of {rounds} alternating rounds; per-round docs/s fast "
        + ", ".join(f"{r:,.0f}" for r in fast_rates) + "; presidio " + ", ".join(f"{r:,.0f}" for r in presidio_rates)
        + ".",
        f"presidio is called with score_threshold={THRESHOLD} (the detector's threshold). Its raw output is "
        "unresolved: overlapping readings of one number (a passport series that is also a phone number) "
        "all stay in it, so its recall counts any of them and its decoy hits are readings no resolution removed.",
    ]

    repeat = 1 if quick else 3
    bare = _startup(_BARE_START, repeat)
    start_fast = _startup(_FAST_START, repeat)
    start_presidio = _startup(_PRESIDIO_START, repeat)
    startup = Section("Detector start-up (fresh interpreter: import, build, first call)")
    startup.rows += [
        Row("fast detector", start_fast, "s", baseline="presidio analyzer (blank spaCy, same recognizers)",
            baseline_value=start_presidio, target="build once per process"),
        Row("interpreter + import consentkit alone", bare, "s"),
    ]
    startup.notes.append(f"Median of {repeat} fresh processes each. `consentkit redact --jsonl` builds the "
                         "detector once and reuses it for every line.")
    return [throughput, startup]

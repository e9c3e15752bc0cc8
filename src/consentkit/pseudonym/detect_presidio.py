"""The detector's recognizers inside a presidio ``AnalyzerEngine``, built offline.

presidio-analyzer with its defaults is unusable here: ``AnalyzerEngine()`` calls
``spacy.cli.download("en_core_web_lg")``, and its ``EmailRecognizer`` asks tldextract for
the public-suffix list, which on a network that accepts but never answers blocks for good
(``pii-and-identifiers.md`` §3, presidio#1205). This module therefore:

* sets ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS=""`` before presidio is imported (tldextract
  reads it at import), and never uses presidio's own e-mail recognizer anyway;
* builds the NLP engine from blank spaCy pipelines (tokenizers only, no model, nothing
  downloaded); spaCy has no Kazakh module, so ``kk`` falls back to the multi-language
  tokenizer; lemmas are the lower-cased tokens, which keeps presidio's context boosting
  working (recipe A of the reference);
* registers one ``EntityRecognizer`` per entity type and language that calls the same
  candidate finder as the fast engine, with the detector's context words as presidio
  context, and known names as an ad-hoc recognizer per call.

:func:`build_presidio_analyzer` is for integrators who run presidio already;
:class:`PresidioEngine` is what ``Detector(engine="presidio")`` uses: presidio finds the
candidates, the detector resolves them, so both engines give the same entities.
Importing this module imports presidio and spaCy (about 1.5 s): nothing else in
consentkit imports it unless that engine is asked for.
"""

from __future__ import annotations

import os

# Before presidio's import chain reaches tldextract (module-level TLDExtract()).
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import spacy
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

from consentkit.pseudonym._context import LANGUAGES, PHONE, keywords
from consentkit.pseudonym._names import PERSON, name_matcher
from consentkit.pseudonym._phones import phone_candidates
from consentkit.pseudonym._recognizers import (
    EMAIL,
    IBAN,
    ID_KINDS,
    Candidate,
    email_candidates,
    iban_candidates,
    id_candidates,
)

__all__ = ["BlankSpacyNlpEngine", "CandidateRecognizer", "PresidioEngine", "build_presidio_analyzer"]

#: Where consentkit's own score travels in ``RecognizerResult.recognition_metadata``
#: (presidio's context enhancer may change ``score`` itself).
SCORE_KEY = "consentkit_score"

Finder = Callable[[str], list[Candidate]]


def _blank(lang: str) -> Any:
    """A blank spaCy pipeline (tokenizer only); ``xx`` where spaCy has no module for ``lang``."""
    try:
        return spacy.blank(lang)
    except ImportError:  # spaCy E048: no language class (kk)
        return spacy.blank("xx")


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine on blank pipelines: tokens and lower-case lemmas, no NER, no download."""

    def __init__(self, languages: Sequence[str]) -> None:
        super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in languages])
        self._languages = tuple(languages)

    def load(self) -> None:
        """Build the blank pipelines (never ``spacy.load`` or ``spacy.cli.download``)."""
        # presidio declares ``nlp`` as None until loaded; this is the loaded state.
        self.nlp = {lang: _blank(lang) for lang in self._languages}  # type: ignore[assignment]

    def get_supported_entities(self) -> list[str]:
        """No NER: the pipelines are blank."""
        return []

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        # Blank pipelines have empty lemmas; lower-cased tokens keep context matching alive.
        return NlpArtifacts(entities=[], tokens=doc, tokens_indices=[token.idx for token in doc],
                            lemmas=[token.lower_ for token in doc], nlp_engine=self, language=language,
                            scores=[])


class CandidateRecognizer(EntityRecognizer):
    """A presidio recognizer for one entity type and language that runs a consentkit finder."""

    def __init__(self, entity: str, lang: str, finder: Finder, context: Sequence[str] = ()) -> None:
        self._finder = finder
        self._label = f"consentkit:{entity}:{lang}"
        super().__init__(supported_entities=[entity], name=self._label,
                         supported_language=lang, context=list(context))

    def load(self) -> None:
        """Nothing to load: the finders are compiled at import."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list[Any]:
        """Results for the finder's candidates; the score is also kept under ``SCORE_KEY``."""
        return [RecognizerResult(c.type, c.start, c.end, c.score,
                                 analysis_explanation=AnalysisExplanation(self._label, c.score),
                                 recognition_metadata={SCORE_KEY: c.score})
                for c in self._finder(text)]


def _today(fixed: date | None) -> date:
    return fixed or date.today()


def _recognizers(lang: str, threshold: float, today: date | None) -> list[CandidateRecognizer]:
    def ids(kind: str) -> Finder:
        only = frozenset({kind})
        return lambda text: id_candidates(text, only, lang, _today(today))

    found = [CandidateRecognizer(kind, lang, ids(kind), keywords(kind)) for kind in ID_KINDS]
    found.append(CandidateRecognizer(PHONE, lang, lambda text: phone_candidates(text, lang, threshold),
                                     keywords(PHONE)))
    found.append(CandidateRecognizer(EMAIL, lang, email_candidates))
    found.append(CandidateRecognizer(IBAN, lang, iban_candidates))
    return found


def build_presidio_analyzer(
    languages: Sequence[str] = LANGUAGES, *, threshold: float = 0.4, today: date | None = None
) -> AnalyzerEngine:
    """An offline ``AnalyzerEngine`` with consentkit's recognizers for ``languages``.

    No model is loaded or downloaded and nothing touches the network. Results are
    presidio's (candidates may overlap; context may raise scores); phone candidates under
    ``threshold`` are not produced. ``today`` resolves 10-digit personnummer centuries.
    """
    registry = RecognizerRegistry(supported_languages=list(languages))
    for lang in languages:
        for recognizer in _recognizers(lang, threshold, today):
            registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        registry=registry, nlp_engine=BlankSpacyNlpEngine(languages), supported_languages=list(languages),
        context_aware_enhancer=LemmaContextAwareEnhancer(context_matching_mode="whole_word"),
    )


class PresidioEngine:
    """Candidates found by presidio, for :class:`~consentkit.pseudonym.detect.Detector` to resolve."""

    def __init__(self, *, threshold: float, today: date | None) -> None:
        self.analyzer = build_presidio_analyzer(threshold=threshold, today=today)

    def candidates(self, text: str, lang: str, names: tuple[str, ...]) -> list[Candidate]:
        """Every reading presidio's engine reports, with consentkit's own scores."""
        ad_hoc: list[EntityRecognizer] | None = None
        matcher = name_matcher(names) if names else None
        if matcher is not None:
            ad_hoc = [CandidateRecognizer(PERSON, lang, matcher.candidates)]
        results = self.analyzer.analyze(text, language=lang, ad_hoc_recognizers=ad_hoc)
        return [Candidate(r.entity_type, r.start, r.end, float(r.recognition_metadata[SCORE_KEY]))
                for r in results]

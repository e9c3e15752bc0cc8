"""The offline free-text detector: national identifiers, phones, e-mail, IBAN and known names.

``get_detector()`` returns one process-wide :class:`Detector`; build it once and reuse it
(``consentkit redact --jsonl`` does). Two engines give the same entities:

* ``"fast"`` (the default, used by ``consentkit redact`` and the export's ``redact``
  columns): consentkit's own loop over the candidate finders in ``_recognizers``,
  ``_phones`` and ``_names``. A text without digits skips the number finders, one without
  ``@`` skips the e-mail finder, and libphonenumber only sees phone-shaped digit chunks.
* ``"presidio"``: the same finders as presidio ``EntityRecognizer``s in an
  ``AnalyzerEngine`` built offline (``detect_presidio.build_presidio_analyzer``), for
  integrators who run presidio already. presidio and spaCy are imported only then.

Either way the candidates are then resolved the same way: readings under the threshold
(0.4) are dropped, and of overlapping readings the higher score wins; on equal scores a
checksum-validated identifier beats a phone number, a phone number beats a name.

Nothing here logs or raises with the text: errors name the option to fix, never the input.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from consentkit.errors import InvalidInputError
from consentkit.pseudonym._context import LANGUAGES, PHONE, Context
from consentkit.pseudonym._names import PERSON, clean_names, name_matcher
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

if TYPE_CHECKING:
    from consentkit.pseudonym.detect_presidio import PresidioEngine

__all__ = [
    "ENTITY_TYPES",
    "LANGUAGES",
    "THRESHOLD",
    "Detector",
    "Entity",
    "NerBackend",
    "Redaction",
    "apply",
    "check_language",
    "get_detector",
    "guess_language",
]

#: Every entity type the detector reports (DESIGN.md, "Pseudonymisation and redaction").
ENTITY_TYPES: tuple[str, ...] = (*ID_KINDS, EMAIL, PHONE, IBAN, PERSON)
#: Readings scoring below this are not reported.
THRESHOLD = 0.4

# On equal scores the earlier type wins: identifiers whose check is hardest to pass by
# chance first, then the shapes, then names.
_PRIORITY = {kind: rank for rank, kind in enumerate((
    "KZ_IIN", "GR_AMKA", "SE_PERSONNUMMER", "RU_OMS", "RU_SNILS", "RU_INN", "GR_AFM", "RU_PASSPORT",
    IBAN, EMAIL, PHONE, PERSON))}
_ALL_IDS = frozenset(ID_KINDS)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Entity:
    """A detected entity: its type, ``start``/``end`` offsets into the input text, and a score."""

    type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Redaction:
    """Redacted text and the entities that were replaced (offsets into the *input* text)."""

    text: str
    entities: list[Entity]


@runtime_checkable
class NerBackend(Protocol):
    """An optional named-entity recogniser (natasha, a locally installed spaCy model...).

    ``languages`` says which note languages it reads; ``find`` returns its entities (usually
    ``PERSON``) with offsets into ``text``. Its entities compete with the others on score.
    """

    languages: frozenset[str]

    def find(self, text: str, lang: str) -> Iterable[Entity]:
        """Entities found in ``text``."""
        ...


def check_language(lang: str) -> str:
    """``lang`` if the detector knows it, else an :class:`InvalidInputError` naming the choices."""
    if lang not in LANGUAGES:
        raise InvalidInputError("language: expected one of " + ", ".join(LANGUAGES))
    return lang


_KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def guess_language(text: str) -> str:
    """A language for ``text`` from its script: Greek, Kazakh letters, Cyrillic, Swedish letters, else en."""
    greek = cyrillic = 0
    for char in text:
        if "\u0370" <= char <= "\u03ff" or "\u1f00" <= char <= "\u1fff":
            greek += 1
        elif "\u0400" <= char <= "\u04ff":
            if char in _KAZAKH_LETTERS:
                return "kk"
            cyrillic += 1
    if greek or cyrillic:
        return "el" if greek >= cyrillic else "ru"
    if any(char in "åäöÅÄÖ" for char in text):
        return "sv"
    return "en"


class Detector:
    """Finds personal data in free text; build once, call from any thread.

    ``engine`` is ``"fast"`` (consentkit's own loop) or ``"presidio"`` (the same finders as
    presidio recognizers in an offline ``AnalyzerEngine``). ``ner`` adds optional
    :class:`NerBackend` plug-ins. ``today`` fixes the date that resolves the century of
    10-digit personnummer (default: the system date at each call).
    """

    def __init__(
        self,
        *,
        engine: Literal["fast", "presidio"] = "fast",
        ner: Sequence[NerBackend] = (),
        threshold: float = THRESHOLD,
        today: date | None = None,
    ) -> None:
        if engine not in ("fast", "presidio"):
            raise InvalidInputError("engine: expected fast or presidio")
        self.engine = engine
        self.threshold = threshold
        self._today = today
        self._ner = tuple(ner)
        self._presidio: PresidioEngine | None = None
        if engine == "presidio":
            # Lazy: presidio and spaCy cost ~1.5 s to import; the fast engine never needs them.
            from consentkit.pseudonym.detect_presidio import PresidioEngine  # noqa: PLC0415

            self._presidio = PresidioEngine(threshold=threshold, today=today)

    def analyze(self, text: str, *, lang: str, known_names: Sequence[str] = ()) -> list[Entity]:
        """Entities in ``text`` (a note in ``lang``), in text order, none overlapping."""
        check_language(lang)
        names = clean_names(known_names)
        if self._presidio is not None:
            candidates = self._presidio.candidates(text, lang, names)
        else:
            candidates = self.candidates(text, lang, names)
        for backend in self._ner:
            if lang in backend.languages:
                candidates.extend(Candidate(e.type, e.start, e.end, e.score) for e in backend.find(text, lang))
        return resolve(candidates, self.threshold)

    def candidates(self, text: str, lang: str, names: tuple[str, ...]) -> list[Candidate]:
        """Every reading of the fast engine, before resolution."""
        found: list[Candidate] = []
        if _DIGIT.search(text) is not None:
            today = self._today or date.today()
            contexts: dict[tuple[int, int], Context] = {}
            found += id_candidates(text, _ALL_IDS, lang, today, contexts)
            settled: dict[tuple[int, int], float] = {}
            for candidate in found:
                span = (candidate.start, candidate.end)
                settled[span] = max(settled.get(span, 0.0), candidate.score)
            found += phone_candidates(text, lang, self.threshold, settled, contexts)
            found += iban_candidates(text)
        found += email_candidates(text)
        matcher = name_matcher(names) if names else None
        if matcher is not None:
            found += matcher.candidates(text)
        return found

    def redact(
        self,
        text: str,
        *,
        lang: str,
        known_names: Sequence[str] = (),
        replace: Callable[[Entity, str], str] | None = None,
    ) -> Redaction:
        """``text`` with every entity replaced by ``replace(entity, original)``.

        The default replacement is a typed placeholder such as ``<PHONE_NUMBER>``; pass
        ``replace`` to substitute consistent pseudonyms instead.
        """
        entities = self.analyze(text, lang=lang, known_names=known_names)
        return Redaction(apply(text, entities, replace), entities)


def placeholder(entity: Entity, _original: str) -> str:
    """The default replacement: ``<TYPE>``."""
    return f"<{entity.type}>"


def apply(text: str, entities: Sequence[Entity], replace: Callable[[Entity, str], str] | None = None) -> str:
    """Replace non-overlapping ``entities`` (in text order) in ``text``."""
    substitute = replace or placeholder
    pieces: list[str] = []
    position = 0
    for entity in entities:
        pieces.append(text[position:entity.start])
        pieces.append(substitute(entity, text[entity.start:entity.end]))
        position = entity.end
    pieces.append(text[position:])
    return "".join(pieces)


def resolve(candidates: Iterable[Candidate], threshold: float) -> list[Entity]:
    """Keep readings at or above ``threshold``; of overlapping ones, the best (score, then type)."""
    ranked = sorted((c for c in candidates if c.score >= threshold),
                    key=lambda c: (-c.score, _PRIORITY.get(c.type, len(_PRIORITY)), c.start - c.end, c.start))
    starts: list[int] = []  # of the chosen, which never overlap: sorted by start, ends in the same order
    chosen: list[Candidate] = []
    for candidate in ranked:
        index = bisect.bisect_left(starts, candidate.start)
        if index < len(chosen) and chosen[index].start < candidate.end:
            continue  # overlaps the next chosen one
        if index and chosen[index - 1].end > candidate.start:
            continue  # overlaps the previous chosen one
        starts.insert(index, candidate.start)
        chosen.insert(index, candidate)
    return [Entity(c.type, c.start, c.end, c.score) for c in chosen]


_LOCK = threading.Lock()
_DETECTOR: Detector | None = None


def get_detector() -> Detector:
    """The process-wide fast :class:`Detector` (built on first use, then shared)."""
    global _DETECTOR  # noqa: PLW0603 - one detector per process is the point
    if _DETECTOR is None:
        with _LOCK:
            if _DETECTOR is None:
                _DETECTOR = Detector()
    return _DETECTOR

"""Known-entity PERSON matching: the names a caller gives, in any case and inflected form.

No offline NER model exists for Greek or Swedish (``pii-and-identifiers.md`` §4.6), but a
case note is about a client whose name, and often whose relatives' names, the service
already holds. Each given name becomes a pattern that accepts:

* any letter case for the whole name (``KARIN BERG``, ``karin berg``), either order
  (``Petrov Ivan``), ``Surname, First`` and initials (``K. Berg``, ``Berg K.``);
* a single part of the name on its own when it starts with a capital (``Karin`` but not
  the Swedish noun ``berg``), from three letters on (``Ek`` and ``Li`` only next to
  another part of the name: ``Linnea Ek``);
* inflected forms: Russian and Kazakh case endings (``Ивана Петрова``, ``Смирновой``,
  ``Сапаровқа``), Greek endings with or without the accent, which moves in the genitive
  (``Παπαδόπουλου``, ``Παπαδοπούλου``, ``Μαρίας``), and the Swedish and English genitive
  (``Karins``, ``Miller's``).

Endings are stripped to a stem and a closed list of endings is allowed back, not any
letters, so ``Иван`` does not find the surname ``Иванов``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from consentkit.pseudonym._recognizers import Candidate

__all__ = ["PERSON", "NameMatcher", "clean_names", "known_name_of", "name_matcher"]

PERSON = "PERSON"
FULL_SCORE, INITIALS_SCORE, PART_SCORE = 0.9, 0.85, 0.7

_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_GREEK_VOWELS = {"α": "αά", "ε": "εέ", "η": "ηή", "ι": "ιίϊΐ", "ο": "οό", "υ": "υύϋΰ", "ω": "ωώ"}
_GREEK_PLAIN = str.maketrans("άέήίόύώϊΐϋΰ", "αεηιουωιιυυ")
_GREEK_STRIP = ("ος", "ης", "ας", "ες", "ου", "α", "η", "ο", "ε", "ι")
_GREEK_ENDINGS = "(?:ος|ου|ο|ε|οι|ων|ους|ης|η|ας|α|ες|ς)?"
_RUSSIAN_STRIP = ("ая", "яя", "ий", "ый", "ой", "а", "я", "ь", "й", "о", "е", "ы", "и")
_RUSSIAN_ENDINGS = ("(?:а|я|у|ю|ом|ем|ём|е|ы|и|ой|ей|ёй|ою|ею|ёю|ым|им|ого|его|ому|ему|ых|их|ую|юю|ая|яя|ий|ый|ое|ее|"
                    "ь|й)?")
# Kazakh case suffixes attach to the whole name (genitive, dative, accusative, locative,
# ablative, instrumental), with or without a hyphen.
_KAZAKH_SUFFIXES = ("(?:-?(?:ның|нің|дың|дің|тың|тің|ға|ге|қа|ке|на|не|ны|ні|ды|ді|ты|ті|"
                    "да|де|та|те|нда|нде|дан|ден|тан|тен|нан|нен|мен|бен|пен))?")
_LATIN_ENDINGS = "(?:s|'s|’s|'|’)?"
_WORD_START = r"(?<![^\W\d_])"
_WORD_END = r"(?![^\W\d_])"
_MIN_PART = 3


def _greek(token: str) -> str:
    lower = token.lower().translate(_GREEK_PLAIN)
    stem = lower
    for ending in _GREEK_STRIP:
        if lower.endswith(ending) and len(lower) - len(ending) >= 3:
            stem = lower[: -len(ending)]
            break
    letters = "".join(f"[{_GREEK_VOWELS[ch]}]" if ch in _GREEK_VOWELS else re.escape(ch) for ch in stem)
    return letters + _GREEK_ENDINGS


def _cyrillic(token: str) -> str:
    lower = token.lower()
    stems = [lower]
    for ending in _RUSSIAN_STRIP:
        if lower.endswith(ending) and len(lower) - len(ending) >= 3:
            stems = [lower[: -len(ending)]]
            break
    if lower.endswith("ий") and len(lower) >= 5:
        # First names in -ий keep the и: Дмитрий, Дмитрия, Дмитрию, Дмитрием (surnames in
        # -ский keep the first stem: Достоевского).
        stems.append(lower[:-1])
    forms = "|".join(f"{_yo(stem)}{_RUSSIAN_ENDINGS}" for stem in stems)
    return f"(?:{_yo(lower)}{_KAZAKH_SUFFIXES}|{forms})"


def _yo(text: str) -> str:
    """``text`` as a pattern in which е and ё stand for each other (ё is often written е)."""
    return "".join("[её]" if ch in "её" else re.escape(ch) for ch in text)


def _token(token: str) -> str:
    """Case-insensitive pattern of one name part with its inflected forms."""
    if _GREEK.search(token):
        return _greek(token)
    if _CYRILLIC.search(token):
        return _cyrillic(token)
    return re.escape(token.lower()) + _LATIN_ENDINGS


@dataclass(frozen=True)
class NameMatcher:
    """One compiled pattern for a set of known names; group ``i`` is name part ``owners[i-1]``."""

    pattern: re.Pattern[str]
    owners: tuple[tuple[int, int], ...]  # (name index, part index) per capturing group
    initials: tuple[frozenset[str], ...]  # per name: the casefolded first letters of its parts
    short: frozenset[tuple[int, int]] = frozenset()  # parts under three letters: only beside another part

    def candidates(self, text: str) -> list[Candidate]:
        """PERSON readings of ``text``: runs of adjacent name parts, with initials next to them."""
        found: list[Candidate] = []
        run: list[tuple[int, int, int, int]] = []  # start, end, name, part
        for match in self.pattern.finditer(text):
            name, part = self.owners[(match.lastindex or 1) - 1]
            if run and not _GAP.fullmatch(text, run[-1][1], match.start()):
                self._close(text, run, found)
                run = []
            run.append((match.start(), match.end(), name, part))
        if run:
            self._close(text, run, found)
        return found

    def _close(self, text: str, run: list[tuple[int, int, int, int]], found: list[Candidate]) -> None:
        start, end = run[0][0], run[-1][1]
        parts_per_name: dict[int, set[int]] = {}
        for _s, _e, name, part in run:
            parts_per_name.setdefault(name, set()).add(part)
        if any(len(parts) > 1 for parts in parts_per_name.values()):
            after = _INITIALS_AFTER.match(text, end)  # "..., Петровой О. В.": the initials go too
            if after is not None and after.group(1).casefold() in self.initials[run[-1][2]]:
                end = after.end()
            found.append(Candidate(PERSON, start, end, FULL_SCORE))
            return
        if all((name, part) in self.short for _s, _e, name, part in run):
            return  # "Ek" or "Li" alone is as likely a word as a name
        if not any(text[s].isupper() for s, _e, _n, _p in run):
            return  # a lone lower-case part is a word ("berg"), not a name
        letters = self.initials[run[0][2]]
        before = _INITIALS_BEFORE.search(text, max(0, start - 8), start)
        if before is not None and before.group(1).casefold() in letters:
            found.append(Candidate(PERSON, before.start(), end, INITIALS_SCORE))
            return
        after = _INITIALS_AFTER.match(text, end)
        if after is not None and after.group(1).casefold() in letters:
            found.append(Candidate(PERSON, start, after.end(), INITIALS_SCORE))
            return
        found.append(Candidate(PERSON, start, end, PART_SCORE))


# Between two parts of one name: spaces, or a comma and spaces ("Berg, Karin").
_GAP = re.compile(r"[ \u00a0]+|,[ \u00a0]*")
# "K. Berg", "K.A. Berg"; "Козлов С.", "Козлов С. И." (a patronymic initial may follow).
_INITIALS_BEFORE = re.compile(r"(?<![^\W\d_])([^\W\d_])\.(?:[ \u00a0]?[^\W\d_]\.)?[ \u00a0]?$")
_INITIALS_AFTER = re.compile(r"[ \u00a0]+([^\W\d_])\.(?:[ \u00a0]?[^\W\d_]\.)?")


@lru_cache(maxsize=512)
def name_matcher(names: tuple[str, ...]) -> NameMatcher | None:
    """The matcher for ``names`` (cached: a batch usually repeats the same few names)."""
    alternatives: list[str] = []
    owners: list[tuple[int, int]] = []
    initials: list[frozenset[str]] = []
    short: set[tuple[int, int]] = set()
    for index, name in enumerate(names):
        tokens = name.replace(",", " ").split()  # "Berg, Karin" as the caller may write it
        initials.append(frozenset(t[0].casefold() for t in tokens))
        for part, token in enumerate(tokens):
            alternatives.append(f"({_token(token)})")
            owners.append((index, part))
            if len(token) < _MIN_PART and len(tokens) > 1:
                short.add((index, part))
    if not alternatives:
        return None
    order = sorted(range(len(alternatives)), key=lambda i: len(alternatives[i]), reverse=True)
    pattern = re.compile(f"{_WORD_START}(?:{'|'.join(alternatives[i] for i in order)}){_WORD_END}", re.IGNORECASE)
    return NameMatcher(pattern, tuple(owners[i] for i in order), tuple(initials), frozenset(short))


def clean_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names worth matching: stripped, non-empty, each once, in the order given."""
    if not names:
        return ()
    return _clean(tuple(names))


@lru_cache(maxsize=512)
def _clean(names: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in names:
        stripped = " ".join(name.split())
        if stripped:
            seen.setdefault(stripped, None)
    return tuple(seen)


def known_name_of(fragment: str, names: Sequence[str]) -> str | None:
    """The given name that ``fragment`` (a PERSON span) is a form of, if one covers it whole.

    Lets consistent pseudonyms map ``Ивану Петрову`` and ``Иван Петров`` to one value.
    """
    for name in clean_names(names):
        matcher = name_matcher((name,))
        if matcher is not None and any(c.start == 0 and c.end == len(fragment)
                                       for c in matcher.candidates(fragment)):
            return name
    return None

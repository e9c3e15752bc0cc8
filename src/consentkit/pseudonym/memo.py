"""The memo of an export column: recent values and what an action made of them.

Pseudonyms, AES-SIV tokens and generalisations are deterministic, and exports repeat
identifiers (one client, many disclosures), so each such column of an
:class:`~consentkit.pseudonym.export.Exporter` remembers what it computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from consentkit.errors import InvalidInputError

__all__ = ["MEMO_REST", "MEMO_SIZE", "cell_text", "memoised"]

#: Distinct values per memo generation of a column (see :func:`memoised`).
MEMO_SIZE = 1 << 16
#: Chunks that skip the memo's lookups after one where it found almost nothing (see :func:`memoised`).
MEMO_REST = 8


def cell_text(value: Any) -> str:
    """A cell as text: strings as they are, JSON integers in decimal; anything else is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInputError("expected a text or integer value")


def memoised(compute: Callable[[list[str]], list[str]]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A column's values through ``compute`` (non-empty texts in, one result each out),
    remembering recent distinct values.

    Exports repeat identifiers (one client, many disclosures); pseudonyms, AES-SIV tokens
    and generalisations are deterministic, so a repeat costs one dict lookup instead of a
    validation, an HMAC or an encryption. Two generations of :data:`MEMO_SIZE` values
    each: when the young one would overfill it becomes the old one and the previous old
    one is dropped, and a hit in the old generation is copied back to the young one. That
    keeps the values in use (an approximate LRU, without LRU bookkeeping on every hit)
    and bounds memory at ``2 * MEMO_SIZE`` entries per column (a chunk holds far fewer
    rows). The values of a chunk that neither generation holds go to ``compute``
    together, each once.

    Looking up values that are not there costs about a fifth of computing them: when
    fewer than one in eight of a chunk's values were remembered (a list of distinct
    subjects), the next :data:`MEMO_REST` chunks skip the lookups, and only their results
    are remembered, so that a later chunk can tell whether values have started to repeat.

    Empty cells stay empty; JSON integers are read as their decimal text.
    """
    young: dict[str, str] = {}
    old: dict[str, str] = {}
    rest = 0

    def remember(results: dict[Any, Any]) -> None:
        nonlocal young, old
        if len(young) + len(results) > MEMO_SIZE:
            young, old = {}, young
        young.update(results)
        results[None] = None  # empty cells stay empty
        results[""] = ""

    def apply(values: Sequence[Any]) -> Sequence[Any]:
        nonlocal rest
        if rest:
            rest -= 1
            texts = _texts(values)
            results = dict.fromkeys(texts)
            results.pop(None, None)
            results.pop("", None)
            results = dict(zip(results, compute(list(results)), strict=True))
            remember(results)
            return list(map(results.__getitem__, texts))
        try:
            out: list[Any] = list(map(young.get, values))  # one C loop when every value is known
        except TypeError:  # a list or an object (JSON): refused by cell_text below
            out = [None] * len(values)
        if None not in out:
            return out
        misses = [position for position, result in enumerate(out) if result is None]
        missed = [values[position] for position in misses]
        texts = _texts(missed)
        found = dict.fromkeys(texts)
        found.pop(None, None)
        found.pop("", None)
        if texts is missed:  # text cells: each missed the young generation already
            found = dict(zip(found, map(old.get, found), strict=True))
        else:  # integers were looked up as numbers: the young generation holds their text
            found = {text: young[text] if text in young else old.get(text) for text in found}
        new = [text for text, result in found.items() if result is None]
        if new:
            found.update(zip(new, compute(new), strict=True))
            if len(new) * 8 > len(values) * 7:
                rest = MEMO_REST
        remember(found)  # new values and hits in the old generation
        if len(misses) == len(out):
            return list(map(found.__getitem__, texts))
        for position, text in zip(misses, texts, strict=True):
            out[position] = found[text]
        return out

    return apply


def _texts(values: Sequence[Any]) -> Sequence[Any]:
    """Cells as text or ``None``: JSON integers in decimal, anything else but text refused."""
    if all(type(value) is str for value in values):
        return values
    return [value if value is None else cell_text(value) for value in values]

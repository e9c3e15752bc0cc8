"""Hypothesis strategies for hostile input: raw bytes, and mutations of a valid document.

Purely random input mostly dies at the first check (not UTF-8, not JSON); mutating a document
that the parser accepts reaches the deeper rules, which is where unexpected types hide.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["NASTY", "dump_json", "json_values", "mutated_json", "mutated_text", "raw_bytes"]

#: Text that tends to break parsers: control characters, surrogate escapes, huge numbers,
#: YAML tags and anchors, JSON specials, path separators, SQL quotes.
NASTY = ["\x00", "\ud800", "\u202e", "\ufeff", "'", '"', "\\", "%s", "{}", "[]", "~", "null", "NaN", "-Infinity",
         "1e999", "-0", "9" * 40, "!!python/object:os.system", "&a", "*a", "<<: *a", "---", "...", "../../",
         "Patient/", "Patient/../../x", "\n", "\t", " ", "é", "Ω", "😀", "2026-02-30", "0000-00-00T25:61:61Z"]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20), st.sampled_from(NASTY),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
raw_bytes = st.binary(max_size=400)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if not rest and delete:
        del copy[head]
    else:
        copy[head] = _replace(copy[head], rest, new, delete=delete)
    return copy


@st.composite
def mutated_json(draw: st.DrawFn, document: Any, max_changes: int = 3) -> Any:
    """``document`` with up to ``max_changes`` values replaced by arbitrary JSON, or keys deleted."""
    value = document
    for _ in range(draw(st.integers(1, max_changes))):
        path = draw(st.sampled_from(_paths(value)))
        delete = bool(path) and draw(st.booleans())
        value = _replace(value, path, None if delete else draw(json_values), delete=delete)
    return value


@st.composite
def mutated_text(draw: st.DrawFn, text: str, max_changes: int = 3) -> str:
    """``text`` with up to ``max_changes`` slices deleted, duplicated or replaced by nasty fragments."""
    for _ in range(draw(st.integers(1, max_changes))):
        if not text:
            break
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 80)))
        action = draw(st.sampled_from(("delete", "duplicate", "replace", "insert")))
        fragment = draw(st.sampled_from(NASTY) | st.text(max_size=12))
        if action == "delete":
            text = text[:start] + text[end:]
        elif action == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        elif action == "replace":
            text = text[:start] + fragment + text[end:]
        else:
            text = text[:start] + fragment + text[start:]
    return text


def dump_json(value: Any) -> bytes:
    """JSON bytes of ``value`` (surrogates escaped, so any drawn text can be written)."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")

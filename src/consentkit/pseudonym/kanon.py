"""k-anonymity over declared quasi-identifiers: count the groups, find the ones under k.

A record is k-anonymous when at least ``k - 1`` other records share its values of every
quasi-identifier (Sweeney 2002); the export's *k reached* is the size of its smallest
group. The check runs on the exported (generalised) values, before anything is written,
so an export either reaches k or is refused, or its small groups are suppressed (dropped
whole, as ARX's record suppression does). Only the group keys are held in memory, never
the rows, so the cost grows with the number of distinct groups, not with the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GroupCounter", "KAnonymityReport", "SmallGroup"]

#: How many groups under k a report lists by value (the count is always complete).
LISTED_GROUPS = 100


@dataclass(frozen=True)
class SmallGroup:
    """One combination of quasi-identifier values shared by fewer than k rows."""

    values: tuple[Any, ...]  # exported values: text, or a JSON number or null from a keep column
    rows: int


@dataclass(frozen=True)
class KAnonymityReport:
    """The result of the check.

    ``k_reached`` is the smallest group among the rows kept (``None`` when no row is kept
    or no quasi-identifier is declared); ``suppressed`` the rows dropped with ``suppress``.
    """

    quasi_identifiers: tuple[str, ...]
    k: int
    rows: int
    groups: int
    k_reached: int | None
    groups_under_k: int
    rows_under_k: int
    listed: tuple[SmallGroup, ...]
    suppress: bool

    @property
    def suppressed(self) -> int:
        """Rows left out of the export because their group is under k."""
        return self.rows_under_k if self.suppress else 0

    @property
    def passed(self) -> bool:
        """True when the export may be written: every kept group has at least k rows."""
        return self.groups_under_k == 0 or self.suppress

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary (group values are generalised quasi-identifiers, never direct identifiers)."""
        return {
            "quasi_identifiers": list(self.quasi_identifiers), "k": self.k, "k_reached": self.k_reached,
            "groups": self.groups, "groups_under_k": self.groups_under_k, "rows_under_k": self.rows_under_k,
            "suppressed": self.suppressed,
            "small_groups": [{"values": dict(zip(self.quasi_identifiers, g.values, strict=True)), "rows": g.rows}
                             for g in self.listed],
        }


def _smallest_first(item: tuple[tuple[Any, ...], int]) -> tuple[int, tuple[tuple[int, str], ...]]:
    """Order groups by size, then by value. Values of a JSON ``keep`` column may mix text,
    numbers and nulls, which do not compare with each other: sort on (kind, text) instead."""
    key, count = item
    return count, tuple((0, "") if value is None else (1 if isinstance(value, str) else 2, str(value))
                        for value in key)


class GroupCounter:
    """Counts rows per quasi-identifier group (first pass of an export)."""

    __slots__ = ("_counts", "quasi_identifiers")

    def __init__(self, quasi_identifiers: Sequence[str]) -> None:
        self.quasi_identifiers = tuple(quasi_identifiers)
        self._counts: Counter[tuple[Any, ...]] = Counter()

    def add(self, key: tuple[Any, ...]) -> None:
        """Count one row whose generalised quasi-identifiers are ``key``."""
        self._counts[key] += 1

    def add_many(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Count one row for each key (a ``TypeError`` if a key holds a list or an object)."""
        self._counts.update(keys)

    def merge(self, other: GroupCounter) -> None:
        """Add the rows ``other`` counted (another part of the same input)."""
        self._counts.update(other._counts)

    def small_groups(self, k: int) -> frozenset[tuple[Any, ...]]:
        """The keys of every group with fewer than ``k`` rows (what ``suppress`` drops)."""
        return frozenset(key for key, count in self._counts.items() if count < k)

    def report(self, k: int, *, suppress: bool) -> KAnonymityReport:
        """Judge the counted rows against ``k``."""
        counts = self._counts
        under = sorted(((key, n) for key, n in counts.items() if n < k), key=_smallest_first)
        kept = [n for n in counts.values() if n >= k] if suppress else list(counts.values())
        return KAnonymityReport(
            quasi_identifiers=self.quasi_identifiers, k=k, rows=sum(counts.values()), groups=len(counts),
            k_reached=min(kept) if kept else None, groups_under_k=len(under),
            rows_under_k=sum(n for _, n in under),
            listed=tuple(SmallGroup(key, n) for key, n in under[:LISTED_GROUPS]), suppress=suppress,
        )

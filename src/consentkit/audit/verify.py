"""Verification of the audit chain: re-encode every entry, follow the hash chain, rebuild
the Merkle tree and compare it with the signed checkpoints.

Pure: the caller streams the rows (from the database or an export file) and supplies the
checkpoints it already authenticated. The first damage found is named with its entry and
its kind: ``changed``, ``deleted``, ``inserted``, ``reordered`` or ``truncated``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from consentkit.audit.envelope import ENTRY_FORMAT, GENESIS_HASH, encode_entry, entry_hash
from consentkit.audit.merkle import CompactRange

__all__ = ["ChainReport", "Damage", "EncodedRow", "RawRow", "TrustedRoot", "scan_chain", "scan_encoded"]

#: A stored row in column order: seq, ts, actor, action, subject, object, outcome,
#: details, sealed, prev_hash, entry_hash.
RawRow = tuple[int, str, str, str, str | None, str | None, str, str, str | None, bytes, bytes]
#: seq, the entry's bytes after its first two lines (format and origin), the stored entry hash.
EncodedRow = tuple[int, bytes, bytes]

_RECENT = 64  # how far back a chain link may point and still be recognised


@dataclass(frozen=True)
class Damage:
    """The first integrity failure: what kind, at which entry, in words."""

    kind: str
    seq: int | None
    message: str


@dataclass(frozen=True)
class TrustedRoot:
    """A root the verifier trusts (from a signed checkpoint): tree size, root, where it came from."""

    size: int
    root: bytes
    label: str


@dataclass
class ChainReport:
    """What a scan found."""

    size: int = 0
    root: bytes = b""
    damage: Damage | None = None
    checked_roots: list[TrustedRoot] = field(default_factory=list)
    sealed_events: int = 0


def _reencode(origin: str, row: RawRow, seq: int) -> bytes:
    return entry_hash(encode_entry(origin, seq, row[1], row[2], row[3], row[4], row[5], row[6],
                                   row[7], row[8], row[9]))


def _row_damage(origin: str, row: RawRow, expected: int, prev: bytes,
                recent: dict[bytes, int]) -> Damage | None:
    seq = row[0]
    if seq < expected:
        return Damage("inserted", seq, f"entry {seq} appears twice: a second entry was inserted")
    if seq > expected:
        missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
        return Damage("deleted", expected, f"entries {missing} are missing (deleted)")
    if _reencode(origin, row, seq) != row[10]:
        if seq > 0 and _reencode(origin, row, seq - 1) == row[10]:
            # This row was entry seq-1 and everything moved up by one: the entry now at
            # seq-1 (which verified on its own) was slipped in before it.
            return Damage("inserted", seq - 1,
                          f"entry {seq - 1} was inserted: entry {seq} holds what was entry {seq - 1}")
        if _reencode(origin, row, seq + 1) == row[10]:
            return Damage("reordered", seq,
                          f"entry {seq} holds the content of entry {seq + 1}: entries were reordered")
        return Damage("changed", seq, f"entry {seq} was changed: its content no longer matches its hash")
    if row[9] != prev:
        earlier = recent.get(row[9])
        if earlier is not None:
            return Damage("inserted", earlier + 1,
                          f"entry {seq} follows entry {earlier}: entries {earlier + 1}-{seq - 1} "
                          "were inserted")
        return Damage("deleted", seq, f"entry {seq} names a predecessor that is not in the log: "
                                      "an entry before it was deleted (or its link changed)")
    return None


def scan_chain(origin: str, rows: Iterable[RawRow], trusted: Sequence[TrustedRoot] = ()) -> ChainReport:
    """Verify raw ``rows`` (in seq order, e.g. from an export) against each trusted root."""
    current: list[RawRow] = []
    sealed = 0

    def encoded() -> Iterator[EncodedRow]:
        nonlocal sealed
        for row in rows:
            current[:] = [row]
            tail = "\n".join((str(row[0]), row[1], row[2], row[3], row[4] or "", row[5] or "", row[6], row[7],
                              row[8] or "", row[9].hex()))
            sealed += row[8] is not None
            yield row[0], tail.encode("utf-8"), row[10]

    report = scan_encoded(origin, encoded(), trusted, lambda _seq: current[0] if current else None)
    report.sealed_events = sealed
    return report


def scan_encoded(origin: str, rows: Iterable[EncodedRow], trusted: Sequence[TrustedRoot],
                 raw: Callable[[int], RawRow | None]) -> ChainReport:
    """Verify entries given as ``(seq, entry bytes after the first two lines, hash)``.

    ``raw(seq)`` returns the stored columns of a row that failed the fast checks, so its
    damage can be named (changed, inserted, reordered, deleted).
    """
    report = ChainReport()
    pending = sorted(trusted, key=lambda t: t.size)
    next_check = pending[0].size if pending else -1
    # The hot loop is inlined: an intact row costs one hash over its bytes, one node hash on
    # average and a few comparisons. Any row that fails goes through _row_damage.
    leaf = hashlib.sha256(b"\x00" + f"{ENTRY_FORMAT}\n{origin}\n".encode())
    node = hashlib.sha256(b"\x01")
    peaks: list[bytes] = []  # CompactRange's peaks: the leaf needs no length check, it equals a digest
    recent: list[bytes] = [b""] * _RECENT  # the last _RECENT entry hashes, at seq % _RECENT
    prev, prev_hex, expected = GENESIS_HASH, GENESIS_HASH.hex().encode(), 0
    last_good: TrustedRoot | None = None
    for seq, tail, stored in rows:
        if expected == next_check:
            last_good, next_check = _check_due(report, pending, expected, peaks, last_good)
            if report.damage:
                return report
        state = leaf.copy()
        state.update(tail)
        if seq != expected or tail[-64:] != prev_hex or state.digest() != stored:
            row = raw(seq)
            damage = (_row_damage(origin, row, expected, prev, _recent_map(recent, expected)) if row is not None
                      else Damage("changed", seq, f"entry {seq} could not be read back"))
            if damage is not None:
                report.damage = damage
                return report
        prev = recent[expected % _RECENT] = digest = stored
        prev_hex = stored.hex().encode()
        carry = expected  # CompactRange.append: merge equal-height peaks like a binary carry
        while carry & 1:
            state = node.copy()
            state.update(peaks.pop())
            state.update(digest)
            digest = state.digest()
            carry >>= 1
        peaks.append(digest)
        expected += 1
    if expected == next_check:
        last_good, next_check = _check_due(report, pending, expected, peaks, last_good)
        if report.damage:
            return report
    report.size, report.root = expected, CompactRange.from_peaks(expected, peaks).root()
    if pending:
        newest = pending[-1]
        report.damage = Damage(
            "truncated", expected,
            f"the log has {expected} entries but {newest.label} covers {newest.size}: "
            f"entries from {expected} on were removed")
    return report


def _recent_map(recent: list[bytes], expected: int) -> dict[bytes, int]:
    """Entry hash -> seq for the last _RECENT entries (built only when a row is damaged)."""
    return {recent[seq % _RECENT]: seq for seq in range(max(0, expected - _RECENT), expected)}


def _check_due(report: ChainReport, pending: list[TrustedRoot], size: int, peaks: list[bytes],
               last_good: TrustedRoot | None) -> tuple[TrustedRoot | None, int]:
    """Check every trusted root of ``size``; returns the last good one and the next size to check."""
    compact = CompactRange.from_peaks(size, peaks)
    while pending and pending[0].size == size:
        last_good = _check_root(report, compact, pending.pop(0), last_good)
        if report.damage:
            break
    return last_good, pending[0].size if pending else -1


def _check_root(report: ChainReport, compact: CompactRange, want: TrustedRoot,
                last_good: TrustedRoot | None) -> TrustedRoot:
    if compact.root() == want.root:
        report.checked_roots.append(want)
        return want
    since = last_good.size if last_good else 0
    report.damage = Damage(
        "changed", since,
        f"entries {since}-{want.size - 1} no longer match {want.label}: at least one was changed "
        "and the chain re-hashed after it was signed")
    return want

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
from itertools import islice
from typing import Any, TypeVar

from consentkit.audit.envelope import ENTRY_FORMAT, GENESIS_HASH, encode_entry, entry_hash
from consentkit.audit.merkle import C_CORE, HASH_SIZE, CompactRange, python_levels, tree_levels

__all__ = [
    "CHUNK_HEIGHT", "C_CORE", "NO_BLOCKS", "ChainReport", "Damage", "EncodedRow", "RangeScan", "RawLookup", "RawRow",
    "TrustedRoot", "check_roots", "finish", "join_ranges", "python_levels", "ranges_join", "scan_chain",
    "scan_encoded", "scan_leaves", "scan_range", "scan_stored", "tree_levels",
]

#: A stored row in column order: seq, ts, actor, action, subject, object, outcome,
#: details, sealed, prev_hash, entry_hash.
RawRow = tuple[int, str, str, str, str | None, str | None, str, str, str | None, bytes, bytes]
#: seq, the entry's bytes after its first two lines (format and origin), the predecessor's hash
#: the entry names (its last line, as bytes), the stored entry hash.
EncodedRow = tuple[int, bytes, bytes, bytes]

_RECENT = 64  # how far back a chain link may point and still be recognised
_Item = TypeVar("_Item")


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


def _reencode(origin: str, row: RawRow, seq: int) -> bytes:
    return entry_hash(encode_entry(origin, seq, row[1], row[2], row[3], row[4], row[5], row[6],
                                   row[7], row[8], row[9]))


def _row_damage(origin: str, row: RawRow, expected: int, prev: bytes,
                recent: dict[bytes, int], following: RawRow | None = None) -> Damage | None:
    """What is wrong with ``row``, found where entry ``expected`` should be; ``following`` is
    the row after it when the caller has it (an export file's rows are in file order)."""
    seq = row[0]
    if seq < expected:
        return Damage("inserted", seq, f"entry {seq} appears twice: a second entry was inserted")
    if seq > expected:
        if following is not None and following[0] == expected:
            return Damage("reordered", expected,
                          f"entry {expected} comes after entry {seq}: entries were reordered")
        if seq == expected + 1:
            return Damage("deleted", expected, f"entry {expected} is missing (deleted)")
        return Damage("deleted", expected, f"entries {expected}-{seq - 1} are missing (deleted)")
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
    """Verify raw ``rows`` (in the order given, e.g. an export's lines) against each trusted root.

    A damaged row is diagnosed with the row after it too, so two swapped rows of a file are
    named "reordered" (rows read in seq order, as from the database, are never swapped).
    """
    held: list[RawRow] = []  # the rows of the batch being scanned, then the first row of the next
    first = 0  # position of held[0] in the whole scan

    def batches() -> Iterator[list[EncodedRow]]:
        nonlocal first
        source = iter(rows)
        ahead: list[RawRow] = []
        while chunk := ahead + list(islice(source, 4096 - len(ahead))):
            ahead = list(islice(source, 1))
            held[:] = chunk + ahead
            yield [(row[0], _tail(row), row[9], row[10]) for row in chunk]
            first += len(chunk)

    def following(_seq: int, position: int) -> RawRow | None:
        at = position + 1 - first
        return held[at] if at < len(held) else None

    scan = scan_range(origin, batches(), sizes=[t.size for t in trusted],
                      raw=lambda _seq, position: held[position - first], following=following)
    return finish([scan], trusted)


def _tail(row: RawRow) -> bytes:
    return "\n".join((str(row[0]), row[1], row[2], row[3], row[4] or "", row[5] or "", row[6], row[7],
                      row[8] or "", row[9].hex())).encode("utf-8")


#: ``raw(seq, position)``: the stored columns of the row that failed the fast checks (the
#: ``position``-th row of the scan, whose seq column says ``seq``), so its damage can be named.
RawLookup = Callable[[int, int], RawRow | None]


@dataclass
class RangeScan:
    """What one scan of consecutive entries found, to be joined with its neighbours.

    A range that starts at a multiple of ``2**block_height`` hands over the roots of its
    complete blocks (perfect subtrees of the whole tree) and, at each size asked for, the
    peaks inside the block in progress: with the blocks before it, that is the tree at that
    size. A scan from 0 with no blocks keeps all its peaks (the classic compact range).
    """

    start: int
    size: int = 0
    first_prev: bytes = b""
    last_hash: bytes = b""
    blocks: list[bytes] = field(default_factory=list)
    peaks: list[bytes] = field(default_factory=list)
    #: (tree size, complete blocks of this range by then, peaks of the block in progress)
    snapshots: list[tuple[int, int, list[bytes]]] = field(default_factory=list)
    damage: Damage | None = None


NO_BLOCKS = 62  # a block larger than any log: the scan keeps every peak


def scan_range(origin: str, batches: Iterable[Sequence[EncodedRow]], *, start: int = 0,
               prev: bytes | None = GENESIS_HASH, block_height: int = NO_BLOCKS, sizes: Iterable[int] = (),
               raw: RawLookup | None = None, following: RawLookup | None = None) -> RangeScan:
    """Verify consecutive entries from seq ``start``, given in lists of ``(seq, entry bytes after
    the first two lines, predecessor hash named, stored hash)``; stops at the first damaged entry.

    The named predecessor must be the one the entry bytes end with (in hex): rows encoded
    from their fields have it by construction, and the database computes ``entry`` from
    the very ``prev_hash`` column read beside it (checked by ``entry_column_intact``).

    ``prev`` is the hash the first entry must name; ``None`` takes whatever the first entry
    names (a range after the first: the caller checks it joins its left neighbour). Without
    ``raw`` a damaged entry is only reported as "changed"; the caller rescans to name it.
    ``following(seq, position)`` gives the row after the damaged one, when the rows may be out
    of seq order (a file), so a swap is named "reordered" rather than "deleted".
    """
    if start & ((1 << block_height) - 1):
        raise ValueError("a range must start at a block boundary")
    scan = RangeScan(start)
    blocks, peaks, snapshots = scan.blocks, scan.peaks, scan.snapshots
    due = sorted({size for size in sizes if size >= start})
    due.append(-1)
    next_due, due_at = due[0], 0
    mask = (1 << block_height) - 1
    # An intact row costs one hash over its bytes, one node hash on average and a few
    # comparisons. Any row that fails goes through _row_damage.
    leaf = hashlib.sha256(b"\x00" + f"{ENTRY_FORMAT}\n{origin}\n".encode())
    node = hashlib.sha256(b"\x01")
    expected = start
    scan.first_prev = prev or b""
    previous: Sequence[EncodedRow] = ()
    for batch in batches:
        if prev is None and batch:
            prev = scan.first_prev = batch[0][2]
        batch_start = expected
        for seq, tail, named, stored in batch:
            if expected == next_due:
                snapshots.append((expected, len(blocks), peaks.copy()))
                due_at += 1
                next_due = due[due_at]
            state = leaf.copy()
            state.update(tail)
            if seq != expected or named != prev or state.digest() != stored:
                recent = [*previous[-_RECENT:], *batch[:expected - batch_start]][-_RECENT:]
                scan.damage = _damage_at(origin, raw, seq, expected, prev, {row[3]: row[0] for row in recent},
                                         following)
                scan.size, scan.last_hash = expected - start, prev or b""
                return scan
            prev = stored
            _add_peak(node, peaks, stored, expected & mask)
            expected += 1
            if not expected & mask:
                blocks.append(peaks.pop())
        previous = batch
    if expected == next_due:
        snapshots.append((expected, len(blocks), peaks.copy()))
    scan.size, scan.last_hash = expected - start, prev or b""
    return scan


#: Leaves hashed and folded per chunk by :func:`scan_leaves` (a perfect subtree each).
CHUNK_HEIGHT = 12


def scan_leaves(origin: str, batches: Iterable[Sequence[bytes]], *, start: int = 0,
                block_height: int = NO_BLOCKS, sizes: Iterable[int] = (),
                chunk_height: int = CHUNK_HEIGHT) -> RangeScan:
    """The fast path: rebuild the Merkle tree of consecutive entries from their bytes alone.

    ``batches`` give the entries from seq ``start`` in order, each as its bytes after the
    first two lines (the database's ``entry`` column). The result has the shape of
    :func:`scan_range`'s (blocks, peaks, snapshots at ``sizes``), so ranges join and roots
    compare the same way, but nothing here checks seq numbers or links: a tree whose roots
    match the signed checkpoints and the MAC'd head proves every entry it covers (each entry
    names its own seq and its predecessor's hash). When anything fails to match, the caller
    rescans with :func:`scan_range`, which names the first bad entry.

    Leaves are hashed a chunk of ``2**chunk_height`` at a time and each chunk folded level
    by level (:data:`tree_levels`: in C when the optional core was built, a few times
    faster than :func:`scan_range`'s per-entry loop in Python).
    """
    height = _chunk_height(start, block_height, chunk_height)
    return _scan_chunks(origin, ((entries, None) for entries in _chunks(batches, 1 << height)), start=start,
                        block_height=block_height, sizes=sizes, height=height)


def scan_stored(origin: str, batches: Iterable[Sequence[tuple[bytes, bytes]]], *, start: int = 0,
                block_height: int = NO_BLOCKS, sizes: Iterable[int] = (),
                chunk_height: int = CHUNK_HEIGHT) -> RangeScan:
    """:func:`scan_leaves` over stored rows ``(entry bytes, stored entry hash)``, which also checks
    that every stored hash is its entry's hash (inclusion proofs and the chain read that column).
    The first chunk where one is not is reported as damage, for the caller to name by a rescan."""
    height = _chunk_height(start, block_height, chunk_height)
    chunks = (([entry for entry, _ in rows], b"".join([digest for _, digest in rows]))
              for rows in _chunks(batches, 1 << height))
    return _scan_chunks(origin, chunks, start=start, block_height=block_height, sizes=sizes, height=height)


def _chunk_height(start: int, block_height: int, chunk_height: int) -> int:
    if start & ((1 << block_height) - 1):
        raise ValueError("a range must start at a block boundary")
    return min(chunk_height, block_height)


def _scan_chunks(origin: str, chunks: Iterable[tuple[list[bytes], bytes | None]], *, start: int,
                 block_height: int, sizes: Iterable[int], height: int) -> RangeScan:
    """Fold chunks of ``2**height`` entries (the last may be shorter), each with its entries'
    stored hashes concatenated (``None``: not checked), into a range scan."""
    chunk = 1 << height
    scan = RangeScan(start)
    blocks, upper, snapshots = scan.blocks, scan.peaks, scan.snapshots
    due = sorted({size for size in sizes if size >= start}, reverse=True)  # popped from the end
    prefix = b"\x00" + f"{ENTRY_FORMAT}\n{origin}\n".encode()
    node = hashlib.sha256(b"\x01")
    at, first, last = start, None, b""
    if due and due[-1] == start:
        snapshots.append((due.pop(), 0, []))
    for entries, stored in chunks:
        if first is None:
            first = entries[0]
        levels = tree_levels(prefix, entries)
        if stored is not None and stored != levels[0]:
            scan.damage = Damage("changed", None, "a stored entry hash is not the hash of its entry")
            break
        last = levels[0][-HASH_SIZE:]
        end = at + len(entries)
        while (due and due[-1] < end) or (due and due[-1] == end and len(entries) < chunk):
            size = due.pop()
            snapshots.append((size, len(blocks), [*upper, *_prefix_peaks(levels, size - at)]))
        if len(entries) < chunk:  # the last, partial chunk: its peaks end the range
            upper += _prefix_peaks(levels, len(entries))
            at = end
            break
        _add_peak(node, upper, levels[-1][:HASH_SIZE], (at >> height) & ((1 << (block_height - height)) - 1))
        at = end
        if not at & ((1 << block_height) - 1):
            blocks.append(upper.pop())
        if due and due[-1] == at:
            snapshots.append((due.pop(), len(blocks), upper.copy()))
    scan.size = at - start
    scan.first_prev = _named_prev(first) if first else (GENESIS_HASH if not start else b"")
    scan.last_hash = last or scan.first_prev
    return scan


def _add_peak(node: Any, peaks: list[bytes], digest: bytes, index: int) -> None:
    """``CompactRange.append``: add the ``index``-th subtree of equal height, merging equal-height
    peaks like a binary carry (``node`` is SHA-256 already fed the 0x01 node prefix)."""
    while index & 1:
        state = node.copy()
        state.update(peaks.pop())
        state.update(digest)
        digest = state.digest()
        index >>= 1
    peaks.append(digest)


def _chunks(batches: Iterable[Sequence[_Item]], chunk: int) -> Iterator[list[_Item]]:
    """Re-cut ``batches`` into lists of exactly ``chunk`` items (the last may be shorter)."""
    held: list[_Item] = []
    for batch in batches:
        if not held and len(batch) == chunk:
            yield batch if isinstance(batch, list) else list(batch)  # the common case: a fetch of one chunk
            continue
        held += batch
        while len(held) >= chunk:
            yield held[:chunk]
            held = held[chunk:]
    if held:
        yield held


def _named_prev(entry: bytes) -> bytes:
    """The predecessor hash an entry names on its last line (``b""`` if that is not one)."""
    line = entry[-65:]
    if line[:1] != b"\n" or not line[1:].isalnum():
        return b""
    try:
        return bytes.fromhex(line[1:].decode("ascii"))
    except ValueError:
        return b""


def _prefix_peaks(levels: list[bytes], count: int) -> list[bytes]:
    """The compact range (peaks, largest first) of the first ``count`` leaves of ``levels``."""
    peaks, base = [], 0
    for height in range(count.bit_length() - 1, -1, -1):
        if count >> height & 1:
            at = (base >> height) * HASH_SIZE
            peaks.append(levels[height][at:at + HASH_SIZE])
            base += 1 << height
    return peaks


def _damage_at(origin: str, raw: RawLookup | None, seq: int, expected: int, prev: bytes | None,
               recent: dict[bytes, int], following: RawLookup | None = None) -> Damage:
    if raw is None or prev is None:
        return Damage("changed", seq, f"entry {seq} does not verify")
    row = raw(seq, expected)
    if row is None:
        return Damage("changed", seq, f"entry {seq} could not be read back")
    damage = _row_damage(origin, row, expected, prev, recent,
                         following(seq, expected) if following is not None else None)
    # The fast checks failed but the columns re-encode fine: the stored entry disagrees.
    return damage or Damage("changed", seq, f"entry {seq} was changed: its content no longer matches its hash")


def join_ranges(scans: Sequence[RangeScan]) -> tuple[int, bytes, dict[int, bytes]]:
    """Join consecutive range scans: (size, root, {size: root at each snapshot}).

    Every range but the last must be complete and end on a block boundary (the caller
    checked that each range starts where the previous one ended and names its last hash).
    """
    blocks = CompactRange()
    roots: dict[int, bytes] = {}
    for scan in scans:
        used = 0
        for size, complete, partial in scan.snapshots:
            for block in scan.blocks[used:complete]:
                blocks.append(block)
            used = complete
            roots[size] = CompactRange.from_peaks(size, [*blocks.peaks, *partial]).root()
        for block in scan.blocks[used:]:
            blocks.append(block)
    size = scans[-1].start + scans[-1].size if scans else 0
    return size, CompactRange.from_peaks(size, [*blocks.peaks, *(scans[-1].peaks if scans else [])]).root(), roots


def check_roots(report: ChainReport, trusted: Sequence[TrustedRoot], roots: dict[int, bytes], *,
                intact: bool) -> None:
    """Compare the trusted roots of sizes up to ``report.size`` with the tree's roots there.

    Sets ``report.damage`` to the first mismatch; a trusted root beyond the end of an
    ``intact`` log means entries were cut off ("truncated").
    """
    last_good: TrustedRoot | None = None
    for want in sorted(trusted, key=lambda t: t.size):
        if want.size > report.size:
            if intact:
                newest = max(trusted, key=lambda t: t.size)
                report.damage = Damage(
                    "truncated", report.size,
                    f"the log has {report.size} entries but {newest.label} covers {newest.size}: "
                    f"entries from {report.size} on were removed")
            return
        if roots.get(want.size) == want.root:
            report.checked_roots.append(want)
            last_good = want
            continue
        since = last_good.size if last_good else 0
        report.damage = Damage(
            "changed", since,
            f"entries {since}-{want.size - 1} no longer match {want.label}: at least one was changed "
            "and the chain re-hashed after it was signed")
        return


def scan_encoded(origin: str, batches: Iterable[Sequence[EncodedRow]], trusted: Sequence[TrustedRoot],
                 raw: RawLookup) -> ChainReport:
    """Verify the whole log in one scan: entries in lists of ``(seq, entry bytes after the first
    two lines, hash)``, each trusted root compared with the tree at its size.

    ``raw(seq, position)`` returns the stored columns of a row that failed the fast checks,
    so its damage can be named (changed, inserted, reordered, deleted).
    """
    scan = scan_range(origin, batches, sizes=[t.size for t in trusted], raw=raw)
    return finish([scan], trusted)


def ranges_join(scans: Sequence[RangeScan], size: int) -> bool:
    """Whether intact range scans cover entries 0..size-1 exactly, each naming its left
    neighbour's last hash (the first range was scanned from the genesis hash)."""
    at, last = 0, GENESIS_HASH
    for scan in scans:
        if scan.damage is not None or scan.start != at or scan.first_prev != last:
            return False
        at, last = scan.start + scan.size, scan.last_hash
    return at == size


def finish(scans: Sequence[RangeScan], trusted: Sequence[TrustedRoot]) -> ChainReport:
    """The report of joined range scans: size, root, the first damage, the roots checked."""
    report = ChainReport()
    size, root, roots = join_ranges(scans)
    damaged = next((scan.damage for scan in scans if scan.damage is not None), None)
    report.size, report.root = size, root
    check_roots(report, trusted, roots, intact=damaged is None)
    if report.damage is None:
        report.damage = damaged
    return report

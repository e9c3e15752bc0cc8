"""The fast verification path (``scan_leaves``) rebuilds the same tree as the full scan.

``scan_range`` follows the chain entry by entry and is what names damage; ``scan_leaves``
only hashes and folds. Over intact entries the two must hand over identical range scans
(blocks, peaks, snapshots, first link, last hash), for any length, block size, chunk size
and range start, or parallel ranges would join into a different tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.audit import verify
from consentkit.audit.envelope import GENESIS_HASH, encode_entry, entry_hash
from consentkit.audit.merkle import CompactRange
from consentkit.audit.verify import NO_BLOCKS, RangeScan, finish, scan_leaves, scan_range

ORIGIN = "consentkit.test/fast-scan"
#: The ways the fast scan can hash: the C core when it was built, and hashlib (always).
HASHING = [pytest.param(verify.tree_levels, id="c-core" if verify.C_CORE else "hashlib")]
if verify.C_CORE:
    HASHING.append(pytest.param(verify.python_levels, id="hashlib"))


@contextmanager
def _hashing(levels: Callable[[bytes, list[bytes]], list[bytes]]) -> Iterator[None]:
    saved = verify.tree_levels
    verify.tree_levels = levels
    try:
        yield
    finally:
        verify.tree_levels = saved


def _log(size: int) -> list[tuple[bytes, bytes, bytes]]:
    """(entry bytes after the first two lines, named predecessor, entry hash) for a chained log."""
    rows, prev = [], GENESIS_HASH
    for seq in range(size):
        entry = encode_entry(ORIGIN, seq, f"2026-11-23T10:00:{seq % 60:02d}.000000Z", f"w{seq % 3}",
                             "consent.granted", None, None, "ok", f'{{"n":{seq}}}', None, prev)
        digest = entry_hash(entry)
        rows.append((entry.split(b"\n", 2)[2], prev, digest))
        prev = digest
    return rows


def _batches(items: list[bytes], cut: int) -> list[list[bytes]]:
    return [items[i:i + cut] for i in range(0, len(items), cut)] or [[]]


def _same(fast: RangeScan, full: RangeScan) -> None:
    assert full.damage is None and fast.damage is None
    assert (fast.start, fast.size, fast.first_prev, fast.last_hash) == \
           (full.start, full.size, full.first_prev, full.last_hash)
    assert fast.blocks == full.blocks
    assert fast.peaks == full.peaks
    assert fast.snapshots == full.snapshots


@pytest.mark.parametrize("levels", HASHING)
@settings(max_examples=150, deadline=None)
@given(size=st.integers(0, 140), block_height=st.sampled_from([0, 1, 2, 3, 4, NO_BLOCKS]),
       chunk_height=st.integers(0, 4), cut=st.integers(1, 50), data=st.data())
def test_fast_and_full_scans_hand_over_the_same_range(levels: Callable[[bytes, list[bytes]], list[bytes]],
                                                      size: int, block_height: int, chunk_height: int, cut: int,
                                                      data: st.DataObject) -> None:
    rows = _log(size)
    blocks = size >> block_height if block_height < NO_BLOCKS else 0
    start = data.draw(st.integers(0, blocks)) << block_height if block_height < NO_BLOCKS else 0
    sizes = data.draw(st.lists(st.integers(0, size + 3), max_size=8))
    mine = rows[start:]
    full = scan_range(ORIGIN, [[(start + i, tail, prev, digest) for i, (tail, prev, digest) in enumerate(mine)]],
                      start=start, prev=None if start else GENESIS_HASH, block_height=block_height, sizes=sizes)
    with _hashing(levels):
        fast = scan_leaves(ORIGIN, _batches([tail for tail, _, _ in mine], cut), start=start,
                           block_height=block_height, sizes=sizes, chunk_height=chunk_height)
    _same(fast, full)


@pytest.mark.parametrize("levels", HASHING)
@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 200), chunk_height=st.integers(0, 5), sizes=st.lists(st.integers(1, 200), max_size=6))
def test_the_fast_scan_roots_are_the_tree_roots(levels: Callable[[bytes, list[bytes]], list[bytes]], size: int,
                                                chunk_height: int, sizes: list[int]) -> None:
    rows = _log(size)
    with _hashing(levels):
        report = finish([scan_leaves(ORIGIN, [[tail for tail, _, _ in rows]], sizes=sizes,
                                     chunk_height=chunk_height)], [])
    tree = CompactRange()
    for _, _, digest in rows:
        tree.append(digest)
    assert (report.size, report.root) == (size, tree.root())


def test_a_changed_entry_changes_the_root_and_a_bad_last_line_breaks_the_link() -> None:
    rows = _log(40)
    tails = [tail for tail, _, _ in rows]
    intact = finish([scan_leaves(ORIGIN, [tails], chunk_height=3)], [])
    changed = finish([scan_leaves(ORIGIN, [[*tails[:7], tails[7].replace(b"w1", b"w2"), *tails[8:]]],
                                  chunk_height=3)], [])
    assert changed.root != intact.root
    first = scan_leaves(ORIGIN, [[tails[0][:-64] + b"zz" * 32, *tails[1:]]], chunk_height=3)
    assert first.first_prev == b""  # not a hash: the range cannot join the genesis

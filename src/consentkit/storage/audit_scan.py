"""Verifying a large audit log on several cores: one range of entries per process.

A 2-core machine hashes twice as many entries a second as one core, and verification is
mostly hashing. The log is cut at multiples of a block size, so each range's complete
blocks are perfect subtrees of the whole Merkle tree and the ranges join exactly
(``audit.verify.join_ranges``). Each worker opens its own connection and reads its range
in the same snapshot as the caller: PostgreSQL imports the caller's exported snapshot;
on SQLite the rows below the head never change once written (appends only add rows after
it), and anything else is damage the caller diagnoses with a single sequential scan.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing

from sqlalchemy import Connection, text

from consentkit.audit.verify import RangeScan, scan_range
from consentkit.storage._scan_worker import Target, scan_stored_range
from consentkit.storage.audit_log import AuditLog

__all__ = ["PARALLEL_MIN", "available_cores", "scan_in_parallel", "split", "worker_count"]

#: Below this many entries one process is faster than starting another (~0.3 s).
PARALLEL_MIN = 200_000
_MAX_WORKERS = 4
_BLOCK_HEIGHT = 12  # 4,096 entries a block when the log is large


def available_cores() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def split(size: int, workers: int) -> tuple[int, list[int]]:
    """Block height and the start of each range for ``workers`` ranges over ``size`` entries."""
    height = min(_BLOCK_HEIGHT, max(0, (size // (workers * 4)).bit_length() - 1))
    starts = sorted({(size * i // workers) >> height << height for i in range(workers)})
    return height, starts


def scan_in_parallel(conn: Connection, origin: str, size: int, workers: int, sizes: Sequence[int]) -> list[RangeScan]:
    """Scan entries 0..size-1 in ``workers`` ranges: the caller's process takes the first,
    child processes the others. Ranges come back in order; check they join before use."""
    height, starts = split(size, workers)
    ends = [*starts[1:], size]
    url = conn.engine.url
    if conn.dialect.name == "postgresql":
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        target: Target = ("postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False),
                          snapshot)
    elif url.database and url.database != ":memory:":
        target = ("sqlite", url.database, None)
    else:
        return []  # an in-memory database has no file a worker could open: the caller scans alone
    context = multiprocessing.get_context("spawn")  # no fork of a process holding connections
    with ProcessPoolExecutor(max_workers=len(starts) - 1, mp_context=context) as pool:
        futures = [pool.submit(scan_stored_range, target, origin, start, end, height,
                               _due(sizes, start, end))
                   for start, end in zip(starts[1:], ends[1:], strict=True)]
        with closing(AuditLog(conn).entries(ends[0])) as batches:
            first = scan_range(origin, batches, block_height=height, sizes=_due(sizes, 0, ends[0]))
        return [first, *(future.result() for future in futures)]


def _due(sizes: Sequence[int], start: int, end: int) -> list[int]:
    """The checkpoint sizes a range must snapshot: those it reaches (0 only for the first)."""
    return [s for s in sizes if start < s <= end or s == start == 0]


def worker_count(size: int, requested: int | None) -> int:
    """How many ranges to scan: as asked, else one per core (up to 4) for a large log."""
    if requested is not None:
        return max(1, min(requested, size // 2 or 1))
    if size < PARALLEL_MIN:
        return 1
    return max(1, min(_MAX_WORKERS, available_cores()))

"""Verifying a large audit log on several cores: one range of entries per process.

A 2-core machine hashes twice as many entries a second as one core, and verification is
mostly hashing. The log is cut at multiples of a block size, so each range's complete
blocks are perfect subtrees of the whole Merkle tree and the ranges join exactly
(``audit.verify.join_ranges``). Each worker opens its own connection and reads its range
in the same snapshot as the caller: PostgreSQL imports the caller's exported snapshot;
on SQLite the rows below the head never change once written (appends only add rows after
it), and anything else is damage the caller diagnoses with a single sequential scan.

Workers are plain ``python -c`` processes, not ``multiprocessing``: its ``spawn`` start
re-imports the caller's ``__main__`` in every worker (an application or script that
imports ``consentkit.kit`` pays its start-up again, measured at 0.7-0.9 s before the
worker read its first entry), and ``fork`` would copy a process that holds open
connections. A worker that cannot start or fails leaves the caller to
verify alone: slower, never a different answer.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from sqlalchemy import Connection, text

from consentkit.audit.verify import NO_BLOCKS, RangeScan
from consentkit.storage._scan_worker import Target, scan_from_json

__all__ = ["PARALLEL_MIN", "RangeWorkers", "available_cores", "due_sizes", "split", "start_ranges", "worker_count"]

#: Below this many entries one process is faster than starting another (~0.1 s).
PARALLEL_MIN = 200_000
_MAX_WORKERS = 4
_BLOCK_HEIGHT = 12  # 4,096 entries a block when the log is large
# The worker's first lines: the caller's import path (a checkout run from source has no
# installed package), then the job.
_WORKER_CODE = ("import json, sys; job = json.loads(sys.stdin.readline()); sys.path[:0] = job['path']; "
                "from consentkit.storage._scan_worker import main; main(job)")
_log = logging.getLogger(__name__)


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


def due_sizes(sizes: Sequence[int], start: int, end: int) -> list[int]:
    """The checkpoint sizes a range must snapshot: those it reaches (0 only for the first)."""
    return [s for s in sizes if start < s <= end or s == start == 0]


@dataclass
class RangeWorkers:
    """Worker processes verifying every range but the first, which the caller scans itself."""

    end: int  #: where the caller's own range (from 0) ends
    height: int  #: block height of every range
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def results(self) -> list[RangeScan] | None:
        """The workers' range scans in order, or ``None`` if any worker failed."""
        scans = []
        for process in self.processes:
            out = process.stdout.read() if process.stdout is not None else b""  # stdin is closed; stderr dropped
            if process.wait() != 0:
                _log.warning("an audit verification worker failed (exit %s): verifying in one process",
                             process.returncode)
                return None
            scans.append(scan_from_json(json.loads(out)))
        return scans

    def __enter__(self) -> RangeWorkers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def start_ranges(conn: Connection, origin: str, size: int, workers: int, sizes: Sequence[int]) -> RangeWorkers:
    """Start ``workers - 1`` processes on the ranges after the first; the caller scans entries
    ``0..end - 1`` with block height ``height`` itself, then collects :meth:`RangeWorkers.results`.

    With one worker, an in-memory database (no file a worker could open) or no Python
    executable to start, there are no workers and the caller's range is the whole log.
    """
    target = _target(conn) if workers > 1 else None
    if target is None or not sys.executable:
        return RangeWorkers(size, NO_BLOCKS)
    height, starts = split(size, workers)
    ends = [*starts[1:], size]
    ranges = RangeWorkers(ends[0], height)
    path = [p for p in sys.path if p]
    for start, end in zip(starts[1:], ends[1:], strict=True):
        job = {"path": path, "target": target, "origin": origin, "start": start, "end": end, "height": height,
               "sizes": due_sizes(sizes, start, end)}
        try:
            process = subprocess.Popen([sys.executable, "-c", _WORKER_CODE], stdin=subprocess.PIPE,  # noqa: S603
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            _log.warning("could not start an audit verification worker: verifying in one process")
            ranges.__exit__(None, None, None)
            return RangeWorkers(size, NO_BLOCKS)
        ranges.processes.append(process)
        if process.stdin is not None:  # always, with stdin=PIPE
            # On stdin, never on the command line, which other users can read (a PostgreSQL URL
            # carries its password). The worker reads it before anything else, so a job longer
            # than the pipe's buffer (many checkpoints) only waits, never deadlocks.
            try:
                process.stdin.write(json.dumps(job).encode() + b"\n")
                process.stdin.close()
            except OSError:  # the worker is already gone: results() sees its exit code
                pass
    return ranges


def _target(conn: Connection) -> Target | None:
    url = conn.engine.url
    if conn.dialect.name == "postgresql":
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False), snapshot
    if url.database and url.database != ":memory:":
        return "sqlite", url.database, None
    return None


def worker_count(size: int, requested: int | None) -> int:
    """How many ranges to scan: as asked, else one per core (up to 4) for a large log."""
    if requested is not None:
        return max(1, min(requested, size // 2 or 1))
    if size < PARALLEL_MIN:
        return 1
    return max(1, min(_MAX_WORKERS, available_cores()))

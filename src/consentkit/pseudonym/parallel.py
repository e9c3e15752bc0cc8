"""Exports on several cores: blocks of input lines exported by worker processes, in order.

An export spends its time in Python code run for every cell (parsing, checksums, MACs),
so a large file goes about twice as fast on two cores (docs/benchmarks.md). The caller
(the kit, which opens the file) hands over the input after its header as :class:`Block`
s of whole lines (:func:`blocks`). Each block goes to a worker process, which reads its
records and runs the export's first or second pass over them with an
:class:`~consentkit.pseudonym.export.Exporter` of its own, and returns the block's group
counts or its rendered text; results are taken in input order, with a few blocks in
flight, so memory stays constant. Workers are spawned (no fork of a process holding
database connections) and get the schema and the pseudonym keys through their pipe,
never a file or the command line. Nothing here opens a file.

A CSV block must begin and end on record boundaries, and a quoted field may span lines.
:func:`blocks` ends a block only where the number of quote characters read so far is
even, which is a boundary for all CSV but the rare file with a quote inside an unquoted
field. The worker's strict csv reader proves the end: it fails on a block cut inside a
quoted field. Any block a worker cannot export (malformed CSV or JSON, an invalid
identifier, a cut in the wrong place, a worker that died) is taken over by this
process, which exports the rest of the input from that block on, sequentially and as
one stream, with the same code as a sequential export: an error is then exactly the
sequential export's error, with its line and column, and never a value.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import chain
from types import TracebackType
from typing import Any, Protocol, TypeVar

from consentkit.errors import ConsentKitError
from consentkit.keys import SecretKey
from consentkit.pseudonym.export import Counts, Exporter, Progress
from consentkit.pseudonym.kanon import GroupCounter
from consentkit.pseudonym.records import CsvLayout, Record, read_csv_rows, read_jsonl
from consentkit.pseudonym.schema import ExportSchema

__all__ = ["BLOCK_BYTES", "PARALLEL_MIN_BYTES", "Block", "Job", "ParallelExport", "blocks", "worker_count"]

#: Inputs smaller than this are exported in one process: starting a worker takes ~0.5 s.
PARALLEL_MIN_BYTES = 8 << 20
#: About how much text a block holds (some 16,000 rows of a typical export).
BLOCK_BYTES = 1 << 20
_MAX_WORKERS = 2
_QUEUED_PER_WORKER = 2

_T = TypeVar("_T")


@dataclass(frozen=True)
class Block:
    """Whole lines of the input; ``before`` lines of the file precede them."""

    before: int
    text: str


@dataclass(frozen=True)
class Job:
    """What a worker needs to export blocks of one input (sent once, at its start)."""

    schema: ExportSchema
    keys: tuple[SecretKey, ...]
    today: date
    name: str  # the input's file name, for messages
    out_fmt: str
    layout: CsvLayout | None  # the CSV header's layout; None for JSON Lines


class _Lines(Protocol):
    def readlines(self, hint: int = -1, /) -> list[str]: ...

    def readline(self, size: int = -1, /) -> str: ...


def worker_count(size: int) -> int:
    """How many worker processes export an input of ``size`` bytes: 0 (export in this
    process) below :data:`PARALLEL_MIN_BYTES` or with one core available."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(cores, _MAX_WORKERS) if size >= PARALLEL_MIN_BYTES and cores > 1 else 0


def blocks(handle: _Lines, before: int, *, quoted: bool) -> Iterator[Block]:
    """The rest of ``handle`` in blocks of about :data:`BLOCK_BYTES`, after ``before`` lines.

    With ``quoted`` (CSV), a block ends only after an even number of ``"`` since the
    previous end, so no quoted field is cut (see the module docstring for the exception).
    """
    while lines := handle.readlines(BLOCK_BYTES):
        text = "".join(lines)
        count = len(lines)
        if quoted and text.count('"') % 2:
            extra: list[str] = []
            odd = True
            while odd and (line := handle.readline()):
                extra.append(line)
                odd ^= line.count('"') % 2 == 1
            text += "".join(extra)
            count += len(extra)
        yield Block(before, text)
        before += count


class ParallelExport:
    """The two passes of one export over blocks of its input, on ``workers`` processes.

    ``exporter`` is this process's exporter of the same schema and keys: it takes over
    from the first block a worker cannot export. Use as a context manager: the worker
    processes stop at its end.
    """

    def __init__(self, exporter: Exporter, job: Job, workers: int) -> None:
        self._exporter = exporter
        self._job = job
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ParallelExport:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding connections
        self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=context,
                                         initializer=_start, initargs=(self._job,))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def count_groups(self, parts: Iterable[Block], progress: Progress | None = None) -> GroupCounter:
        """First pass: :meth:`Exporter.count_groups` over every block."""
        counter = GroupCounter(self._job.schema.quasi_identifiers)
        done = 0
        for result, rest in self._ordered(_count_block, parts):
            if result is None:
                counter.merge(self._exporter.count_groups(self._records(rest), _after(progress, done)))
                return counter
            rows, counted = result
            counter.merge(counted)
            done = _advance(progress, done, rows)
        if progress is not None:
            progress(done)
        return counter

    def write(self, parts: Iterable[Block], counts: Counts, suppress: frozenset[tuple[Any, ...]] = frozenset(),
              progress: Progress | None = None, *, recount: GroupCounter | None = None) -> Iterator[str | bytes]:
        """Second pass: the rendered export (the header, then each block's text, UTF-8).

        Like :meth:`Exporter.transform_chunks` and :meth:`Exporter.render_chunks`.
        """
        exporter = self._exporter
        yield exporter.header(self._job.out_fmt)
        shared = pickle.dumps(suppress)
        done = 0
        for result, rest in self._ordered(_write_block, parts, shared):
            if result is None:
                tail = Counts()
                rows = exporter.transform_chunks(self._records(rest), tail, suppress, _after(progress, done),
                                                 recount=recount)
                yield from exporter.render_chunks(rows, self._job.out_fmt, header=False)
                counts.read = done + tail.read
                counts.written += tail.written
                counts.suppressed += tail.suppressed
                return
            text, part, counted = result
            yield text
            counts.written += part.written
            counts.suppressed += part.suppressed
            if recount is not None:
                recount.merge(counted)
            done = _advance(progress, done, part.read)
        counts.read = done
        if progress is not None:
            progress(done)

    def _ordered(self, task: Callable[..., _T | None], parts: Iterable[Block],
                 *args: Any) -> Iterator[tuple[_T | None, Iterator[Block]]]:
        """Each block's result in input order, a few blocks in flight. At the first block a
        worker could not export: ``None`` and every block from that one on, then the end."""
        pool = self._pool
        if pool is None:
            raise RuntimeError("use ParallelExport as a context manager")
        source = iter(parts)
        pending: deque[tuple[Block, Future[_T | None] | None]] = deque()
        limit = self._workers * _QUEUED_PER_WORKER
        while True:
            while len(pending) < limit and (part := next(source, None)) is not None:
                pending.append((part, _submit(pool, task, part, *args)))
            if not pending:
                return
            part, future = pending.popleft()
            result = None if future is None else _result(future)
            if result is None:
                for _, later in pending:
                    if later is not None:
                        later.cancel()
                yield None, chain([part], [p for p, _ in pending], source)
                return
            yield result, iter(())

    def _records(self, parts: Iterator[Block]) -> Iterator[Record]:
        """The records of consecutive blocks read as one stream (this process's fallback)."""
        first = next(parts)
        lines = chain.from_iterable(io.StringIO(part.text, newline="") for part in chain([first], parts))
        return _read(self._job, lines, first.before)


def _submit(pool: ProcessPoolExecutor, task: Callable[..., _T | None], *args: Any) -> Future[_T | None] | None:
    try:
        return pool.submit(task, *args)
    except BrokenExecutor:  # a worker died (out of memory, killed): this process takes over
        return None


def _result(future: Future[_T | None]) -> _T | None:
    try:
        return future.result()
    except BrokenExecutor:
        return None


def _after(progress: Progress | None, done: int) -> Progress | None:
    return None if progress is None else lambda more: progress(done + more)


def _advance(progress: Progress | None, done: int, more: int) -> int:
    total = done + more
    if progress is not None:
        progress(total)
    return total


def _read(job: Job, lines: Iterable[str], before: int) -> Iterator[Record]:
    columns = tuple(c.name for c in job.schema.columns)
    if job.layout is None:
        return read_jsonl(lines, job.name, columns, before=before)
    return read_csv_rows(lines, job.name, job.layout, before)


# -- in the worker processes -----------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start(job: Job) -> None:
    _WORKER["job"] = job
    _WORKER["exporter"] = Exporter(job.schema, job.keys, today=job.today)
    # What the worker has loaded lives as long as it does: out of the collector's sight,
    # so that collections triggered by a block's many rows only look at the block's objects.
    gc.freeze()


def _count_block(part: Block) -> tuple[int, GroupCounter] | None:
    job: Job = _WORKER["job"]
    exporter: Exporter = _WORKER["exporter"]
    rows: list[int] = [0]  # the last progress report is the block's row count
    try:
        counter = exporter.count_groups(_read(job, io.StringIO(part.text, newline=""), part.before),
                                        rows.append)
    except ConsentKitError:
        return None  # this process re-reads from here and reports the error itself
    return rows[-1], counter


def _write_block(part: Block, shared: bytes) -> tuple[bytes, Counts, GroupCounter] | None:
    job: Job = _WORKER["job"]
    exporter: Exporter = _WORKER["exporter"]
    if _WORKER.get("shared") != shared:  # the same suppressed groups for every block of a pass
        _WORKER["shared"], _WORKER["suppress"] = shared, pickle.loads(shared)  # noqa: S301 - from our parent
    counts = Counts()
    recount = GroupCounter(job.schema.quasi_identifiers)
    try:
        rows = exporter.transform_chunks(_read(job, io.StringIO(part.text, newline=""), part.before), counts,
                                         _WORKER["suppress"], recount=recount)
        text = "".join(exporter.render_chunks(rows, job.out_fmt, header=False))
    except ConsentKitError:
        return None
    return text.encode("utf-8"), counts, recount

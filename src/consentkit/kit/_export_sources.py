"""Where the rows of a pseudonymised export come from, and who reads them.

:func:`file_passes` decides for a file: small files, and any file on one core, are read
and exported in this process; larger ones are cut into blocks that worker processes
export (:mod:`consentkit.pseudonym.parallel`). A database query is always exported here
(:class:`InProcess`). Either way both passes of the export read the source afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TextIO

from consentkit.errors import InvalidInputError, OperationRefusedError
from consentkit.keys import SecretKey
from consentkit.pseudonym.export import Counts, Exporter, Progress
from consentkit.pseudonym.kanon import GroupCounter
from consentkit.pseudonym.parallel import Block, Job, ParallelExport, blocks, worker_count
from consentkit.pseudonym.records import (
    Record,
    first_undecodable_line,
    read_csv,
    read_csv_header,
    read_jsonl,
)

__all__ = ["InProcess", "Passes", "file_passes"]

_READERS: dict[str, Callable[[Iterable[str], str, tuple[str, ...]], Iterator[Record]]] = {
    "csv": read_csv, "jsonl": read_jsonl,
}


class Passes(Protocol):
    """The two passes of an export over one source."""

    def count(self, progress: Progress | None) -> GroupCounter: ...

    def write(self, counts: Counts, small: frozenset[tuple[Any, ...]], progress: Progress | None,
              recount: GroupCounter) -> Iterator[str | bytes]: ...


@dataclass(frozen=True)
class InProcess:
    """Both passes in this process, over records read afresh for each."""

    exporter: Exporter
    records: Callable[[], AbstractContextManager[Iterator[Record]]]
    out_fmt: str

    def count(self, progress: Progress | None) -> GroupCounter:
        with self.records() as rows:
            return self.exporter.count_groups(rows, progress)

    def write(self, counts: Counts, small: frozenset[tuple[Any, ...]], progress: Progress | None,
              recount: GroupCounter) -> Iterator[str | bytes]:
        with self.records() as rows:
            written = self.exporter.transform_chunks(rows, counts, small, progress, recount=recount)
            yield from self.exporter.render_chunks(written, self.out_fmt)


@dataclass(frozen=True)
class _OnWorkers:
    """Both passes on worker processes, over blocks of the file read afresh for each."""

    engine: ParallelExport
    path: Path
    job: Job

    def count(self, progress: Progress | None) -> GroupCounter:
        with _file_blocks(self.path, self.job) as parts:
            return self.engine.count_groups(parts, progress)

    def write(self, counts: Counts, small: frozenset[tuple[Any, ...]], progress: Progress | None,
              recount: GroupCounter) -> Iterator[str | bytes]:
        with _file_blocks(self.path, self.job) as parts:
            yield from self.engine.write(parts, counts, small, progress, recount=recount)


def file_passes(path: Path, in_fmt: str, out_fmt: str, exporter: Exporter, keys: Sequence[SecretKey],
                 today: date, stack: ExitStack) -> Passes:
    """A large file is exported on worker processes (their pool closes with ``stack``), others here."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # reading it will say what is wrong
    workers = worker_count(size)
    if not workers:
        read = _READERS[in_fmt]
        return InProcess(exporter, lambda: _file_records(path, read, exporter.columns), out_fmt)
    layout = None
    if in_fmt == "csv":
        with _open_input(path) as handle:
            layout = read_csv_header(handle, path.name, exporter.columns)
    job = Job(exporter.schema, tuple(keys), today, path.name, out_fmt, layout)
    return _OnWorkers(stack.enter_context(ParallelExport(exporter, job, workers)), path, job)


@contextmanager
def _file_records(path: Path, read: Callable[[Iterable[str], str, tuple[str, ...]], Iterator[Record]],
                  columns: tuple[str, ...]) -> Iterator[Iterator[Record]]:
    with _open_input(path) as handle:
        yield read(handle, path.name, columns)


@contextmanager
def _file_blocks(path: Path, job: Job) -> Iterator[Iterator[Block]]:
    """The file after its header in blocks for the workers; the header must be the one the
    workers were started with."""
    with _open_input(path) as handle:
        before = 0
        if job.layout is not None:
            if read_csv_header(handle, path.name, tuple(c.name for c in job.schema.columns)) != job.layout:
                raise OperationRefusedError(f"{path.name} changed while it was exported; nothing was written")
            before = job.layout.lines
        yield blocks(handle, before, quoted=job.layout is not None)


@contextmanager
def _open_input(path: Path) -> Iterator[TextIO]:
    """The input as UTF-8 text (a spreadsheet's byte-order mark is dropped); a decoding
    error becomes a one-line error naming its line."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InvalidInputError(f"cannot read {path} ({error.strerror or 'I/O error'})") from None
    with handle:
        try:
            yield handle
        except UnicodeDecodeError:
            with path.open("rb") as raw:
                line = first_undecodable_line(raw)
            where = f" line {line}" if line is not None else ""
            raise InvalidInputError(f"{path.name}{where}: not UTF-8 text") from None

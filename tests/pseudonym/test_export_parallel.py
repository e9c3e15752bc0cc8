"""Large exports on worker processes: the same file, counts, errors and audit as in one process.

The size threshold and the block size are lowered so that a small file goes to the workers
in many blocks; each test compares with the same export made in this process.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from consentkit.errors import InvalidInputError, OperationRefusedError
from consentkit.kit import ConsentKit, _export_sources
from consentkit.pseudonym import parallel
from consentkit.pseudonym.parallel import Block, ParallelExport, blocks
from consentkit.storage.audit_log import AuditFilter

SCHEMA = """
version: 1
domain: research-2026
k: 2
quasi_identifiers: [sex, birth_date]
columns:
  pnr: {pseudonym: {kind: SE_PERSONNUMMER}}
  email: pseudonym
  note: keep
  sex: keep
  birth_date: {generalise: {date: year}}
"""
HEADER = ("pnr", "email", "note", "sex", "birth_date")
PNRS = ("850709-2388", "8507092388", "19850709-2388", "811218-9876", "880320-0016")
NOTES = ("plain", "with, comma", 'a "quote"', "two\nlines", "")


def rows(count: int) -> list[tuple[str, ...]]:
    return [(PNRS[i % 5], f"Client.{i % 7}@example.org", NOTES[i % 5], "FM"[i % 2], f"198{i % 3}-07-09")
            for i in range(count)]


def write_csv(path: Path, data: list[tuple[str, ...]], header: tuple[str, ...] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(data)
    return path


@pytest.fixture
def on_workers(monkeypatch: pytest.MonkeyPatch) -> list[list[bool]]:
    """Exports go to two workers in blocks of a few rows. Returns, for each pass, whether
    each block came back exported (False: this process took over from there)."""
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 400)
    monkeypatch.setattr(_export_sources, "worker_count", lambda size: 2)
    passes: list[list[bool]] = []
    ordered = ParallelExport._ordered

    def recorded(self: ParallelExport, task: Any, parts: Any, *args: Any) -> Iterator[Any]:
        passes.append([])
        for result, rest in ordered(self, task, parts, *args):
            passes[-1].append(result is not None)
            yield result, rest

    monkeypatch.setattr(ParallelExport, "_ordered", recorded)
    return passes


def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, exports run in this process."""
    monkeypatch.setattr(_export_sources, "worker_count", lambda size: 0)


def export(kit: ConsentKit, source: Path, out: Path, **options: Any) -> tuple[Any, str]:
    schema = source.parent / "schema.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    result = kit.pseudonymise(source, schema=schema, out=out, **options)
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


def test_blocks_keep_quoted_fields_whole_and_count_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 1)  # one line a block, unless a quote is open
    text = 'a,b\n"x\ny",1\nz,2\n'
    handle = io.StringIO(text, newline="")
    assert list(blocks(handle, 0, quoted=True)) == [Block(0, "a,b\n"), Block(1, '"x\ny",1\n'), Block(3, "z,2\n")]
    handle = io.StringIO(text, newline="")
    assert [b.before for b in blocks(handle, 0, quoted=False)] == [0, 1, 2, 3]


@pytest.mark.parametrize("out_name", ["out.csv", "out.jsonl"])
def test_same_file_and_counts_as_in_one_process(kit: ConsentKit, tmp_path: Path, out_name: str,
                                                monkeypatch: pytest.MonkeyPatch, on_workers: list[list[bool]]) -> None:
    source = write_csv(tmp_path / "in.csv", [*rows(300), ("", "", "", "M", "1990-01-01")])
    result, text = export(kit, source, tmp_path / out_name, suppress=True)
    assert len(on_workers) == 2 and all(len(p) > 10 and all(p) for p in on_workers)  # both passes
    alone(monkeypatch)
    single, expected = export(kit, source, tmp_path / f"alone-{out_name}", suppress=True)
    assert text == expected
    assert (result.rows_read, result.rows_written, result.suppressed, result.k_reached) == (
        single.rows_read, single.rows_written, single.suppressed, single.k_reached) == (301, 300, 1, 50)


def test_jsonl_input(kit: ConsentKit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     on_workers: list[list[bool]]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(dict(zip(HEADER, row, strict=True))) + "\n" for row in rows(200)),
                      encoding="utf-8")
    _, text = export(kit, source, tmp_path / "out.jsonl")
    assert len(on_workers) == 2 and all(len(p) > 10 and all(p) for p in on_workers)
    alone(monkeypatch)
    _, expected = export(kit, source, tmp_path / "alone.jsonl")
    assert text == expected and text.count("\n") == 200


@pytest.mark.usefixtures("on_workers")
def test_a_bad_row_late_in_the_file_is_named_as_in_one_process(kit: ConsentKit, tmp_path: Path) -> None:
    data = rows(250)
    data[230] = ("850709-2389", *data[230][1:])  # wrong check digit
    source = write_csv(tmp_path / "in.csv", data)
    with pytest.raises(InvalidInputError) as raised:
        export(kit, source, tmp_path / "out.csv")
    lines = 1 + sum(1 + row[2].count("\n") for row in data[:231])  # header, rows, lines inside notes
    assert str(raised.value) == f"line {lines}, column 'pnr': SE_PERSONNUMMER is not valid: check digit does not match"
    assert "2389" not in str(raised.value)
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob("*.part"))
    assert kit.audit_log(AuditFilter(action="pseudonym.exported")) == []


def test_a_block_cut_inside_a_quoted_field_is_exported_here(kit: ConsentKit, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             on_workers: list[list[bool]]) -> None:
    # A quote inside an unquoted field (a"b) upsets the count of quotes, so a block ends
    # inside the quoted note that follows; the worker's reader fails and this process
    # exports the rest of the file itself, as in one process.
    data = rows(120)
    data[40] = (data[40][0], data[40][1], 'a"b', *data[40][3:])
    data[41] = (data[41][0], data[41][1], "spans\nthree\nlines", *data[41][3:])
    source = write_csv(tmp_path / "in.csv", data)
    text = source.read_text(encoding="utf-8").replace('"a""b"', 'a"b')  # as a spreadsheet might write it
    source.write_text(text, encoding="utf-8")
    result, written = export(kit, source, tmp_path / "out.csv")
    assert [p[-1] for p in on_workers] == [False, False] and all(all(p[:-1]) for p in on_workers)
    alone(monkeypatch)
    single, expected = export(kit, source, tmp_path / "alone.csv")
    assert written == expected and result.rows_written == single.rows_written == 120


@pytest.mark.usefixtures("on_workers")
def test_a_header_changed_between_the_passes_is_refused(kit: ConsentKit, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", rows(100))

    def tamper(phase: str, done: int, _total: int | None) -> None:
        if phase == "counting" and done == 100:  # the end of the first pass
            write_csv(source, [(r[1], r[0], *r[2:]) for r in rows(100)], ("email", "pnr", *HEADER[2:]))

    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    with pytest.raises(OperationRefusedError, match=r"in\.csv changed while it was exported"):
        kit.pseudonymise(source, schema=schema, out=tmp_path / "out.csv", progress=tamper)
    assert not (tmp_path / "out.csv").exists()


def test_a_dead_worker_pool_hands_the_export_to_this_process(kit: ConsentKit, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               on_workers: list[list[bool]]) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", broken)
    source = write_csv(tmp_path / "in.csv", rows(100))
    result, written = export(kit, source, tmp_path / "out.csv")
    assert on_workers == [[False], [False]]
    alone(monkeypatch)
    single, expected = export(kit, source, tmp_path / "alone.csv")
    assert written == expected and result.rows_written == single.rows_written == 100

"""Reading export input: CSV and JSON Lines files, or rows from a database query, each
as numbered records in the schema's column order.

Every reader refuses a column the schema does not list (never passes it through) and
numbers its records so an error can name the line. Nothing here opens a file: the
callers hand in text lines.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from consentkit.errors import InvalidInputError, ValidationError

__all__ = [
    "FORMATS", "LONE_SURROGATE", "CsvLayout", "Record", "first_undecodable_line", "format_of", "has_lone_surrogate",
    "read_csv", "read_csv_header", "read_csv_rows", "read_jsonl", "read_mappings",
]

FORMATS = ("csv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

#: A row as read: its line (or record) number and its values in schema column order.
Record = tuple[int, list[Any]]


def format_of(path: str, given: str | None = None) -> str:
    """The format of ``path``: ``given`` if set, else from the extension (.csv, .jsonl, .ndjson)."""
    if given is not None:
        if given not in FORMATS:
            raise InvalidInputError(f"--format: choose from {', '.join(FORMATS)}")
        return given
    suffix = path[path.rfind("."):].lower() if "." in path else ""
    found = _EXTENSIONS.get(suffix)
    if found is None:
        raise InvalidInputError(f"{path}: cannot tell the format from the extension; give --format csv or jsonl")
    return found


def first_undecodable_line(lines: Iterable[bytes]) -> int | None:
    """The number of the first line that is not UTF-8, if any.

    Files are read in text mode, which decodes ahead in blocks: a decoding error does not
    say on which line it is. Only on that error path is the file scanned again, line by
    line, to name the line.
    """
    for number, raw in enumerate(lines, 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return None


@dataclass(frozen=True)
class CsvLayout:
    """What a CSV header says: the number of fields a row has, and where each schema
    column is among them (``None``: in schema order already)."""

    width: int
    order: tuple[int, ...] | None
    #: Lines the header took (more than one if a quoted column name spans lines).
    lines: int


def read_csv(handle: Iterable[str], name: str, columns: Sequence[str]) -> Iterator[Record]:
    """Rows of a CSV file with a header line, in ``columns`` order.

    The header must name exactly the schema's columns (any order): an unknown column is
    refused rather than passed through, and a missing one is refused as a schema mismatch.
    """
    lines = iter(handle)
    layout = read_csv_header(lines, name, columns)
    return read_csv_rows(lines, name, layout, layout.lines)


def read_csv_header(lines: Iterator[str], name: str, columns: Sequence[str]) -> CsvLayout:
    """Read the header record from ``lines`` (and nothing after it) and check it against ``columns``."""
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise InvalidInputError(f"{name} line 1: {_csv_problem(error)}") from None
    if header is None:
        raise InvalidInputError(f"{name}: the file is empty; expected a header line naming the columns")
    order = _column_order(name, header, columns)
    identity = order == list(range(len(columns)))
    return CsvLayout(len(header), None if identity else tuple(order), reader.line_num)


def read_csv_rows(lines: Iterable[str], name: str, layout: CsvLayout, before: int) -> Iterator[Record]:
    """The records of CSV ``lines`` that follow a header (or an earlier part of the file):
    ``before`` lines precede them, so line numbers are those of the whole file."""
    reader = csv.reader(lines, strict=True)
    width, order = layout.width, layout.order
    try:
        for row in reader:
            if len(row) != width:
                if not row:
                    continue  # a blank line carries no record
                raise InvalidInputError(f"{name} line {before + reader.line_num}: expected {width} fields, "
                                        f"got {len(row)}")
            yield before + reader.line_num, (row if order is None else [row[i] for i in order])
    except csv.Error as error:  # the reader has counted the offending line
        raise InvalidInputError(f"{name} line {before + reader.line_num}: {_csv_problem(error)}") from None


def read_mappings(rows: Iterable[Mapping[str, Any]], name: str, fields: Sequence[str],
                  columns: Sequence[str]) -> Iterator[Record]:
    """Rows given as mappings with a fixed set of ``fields`` (a database query), in ``columns`` order.

    The fields play the part of a CSV header: the schema must give each one an action.
    Rows are numbered from 1 in the order given.
    """
    _column_order(name, fields, columns, named=True)
    for number, row in enumerate(rows, 1):
        yield number, [row.get(c) for c in columns]


def _csv_problem(error: csv.Error) -> str:
    # csv.Error messages describe the syntax ("unexpected end of data"), never the field.
    return f"not valid CSV ({str(error).split(':')[0]})"


def _column_order(name: str, header: Sequence[str], columns: Sequence[str], *, named: bool = False) -> list[int]:
    # A file's header cells are never echoed: in a file without a header line they are the
    # first client's data. Positions and the schema's names say what to fix. ``named``: the
    # header is consentkit's own field names (a database query), safe to show.
    seen: dict[str, int] = {}
    for index, column in enumerate(header):
        if column in seen:
            raise ValidationError(f"{name}: header columns {seen[column] + 1} and {index + 1} have the same name")
        seen[column] = index
    if named and (fields := [c for c in header if c not in columns]):
        raise ValidationError(f"{name}: columns not in the schema: {', '.join(map(repr, fields))}; every input "
                              "column needs an action (keep, drop, pseudonym, token, generalise or redact)")
    unknown = [str(i + 1) for i, c in enumerate(header) if c not in columns]
    if unknown:
        missing_header = "; is the header line missing?" if len(unknown) == len(header) else ""
        raise ValidationError(
            f"{name}: header column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not in the schema "
            f"(names not shown; the schema has {_names(columns)}){missing_header}; every input column needs an "
            "action (keep, drop, pseudonym, token, generalise or redact)")
    missing = [c for c in columns if c not in seen]
    if missing:
        raise ValidationError(f"{name}: schema columns missing from the input: {', '.join(map(repr, missing))}")
    return [seen[c] for c in columns]


#: A \\uD800-\\uDFFF escape: JSON allows one, UTF-8 cannot hold it unless it pairs with another.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = "not valid Unicode (a \\uD800-\\uDFFF escape without its pair); fix the text"


def has_lone_surrogate(line: str, parsed: object) -> bool:
    """Whether JSON ``line`` (``parsed``) holds a surrogate escape that pairs with nothing, which
    no UTF-8 output can carry. Only lines that spell such an escape are looked at twice."""
    if not _SURROGATE_ESCAPE.search(line):
        return False
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _names(columns: Sequence[str]) -> str:
    """The schema's column names (the schema's own words, safe to show), a few at most."""
    shown = ", ".join(map(repr, columns[:8]))
    return shown + (f" and {len(columns) - 8} more" if len(columns) > 8 else "")


def read_jsonl(handle: Iterable[str], name: str, columns: Sequence[str], *, before: int = 0) -> Iterator[Record]:
    """Rows of a JSON Lines file (one object a line), in ``columns`` order.

    A key the schema does not list is refused with its line number; a missing key is an
    empty value. Blank lines are skipped. ``before`` lines of the file precede ``handle``'s.
    """
    known = frozenset(columns)
    number = before
    for line in handle:
        number += 1
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"{name} line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(obj, dict):
            raise InvalidInputError(f"{name} line {number}: expected a JSON object")
        if has_lone_surrogate(line, obj):
            raise InvalidInputError(f"{name} line {number}: {LONE_SURROGATE}")
        if not obj.keys() <= known:
            unknown = sum(1 for k in obj if k not in known)
            raise ValidationError(
                f"{name} line {number}: {unknown} key{'s' if unknown > 1 else ''} not in the schema (keys not shown; "
                f"the schema has {_names(columns)}); every input column needs an action (keep, drop, pseudonym, "
                "token, generalise or redact)")
        yield number, [obj.get(c) for c in columns]

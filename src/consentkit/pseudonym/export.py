"""Structured exports: stream CSV or JSONL rows through an :class:`ExportSchema`.

The domain half of ``consentkit pseudonymise``: it takes records from
:mod:`~consentkit.pseudonym.records`, turns each column into a precompiled callable (one
per column, built once), and yields the output as text chunks for an atomic writer. It
opens no file and touches no database; the kit does that and audits the result.

An export is two passes over the input when quasi-identifiers are declared: the first
counts the generalised quasi-identifier groups (:mod:`~consentkit.pseudonym.kanon`), so
the k-anonymity verdict is known before a byte is written; the second transforms and
writes. Memory stays constant in the number of rows (the group counts grow only with the
number of distinct groups). Rows go through in chunks, one column at a time, and each
pseudonym, token or generalise column remembers recent values (:mod:`~consentkit.pseudonym.memo`);
:mod:`~consentkit.pseudonym.parallel` runs the same passes over blocks of a large file
on worker processes.

Empty values (an empty CSV cell, a JSON ``null`` or a missing JSON key) stay empty under
every action: there is nothing to pseudonymise, and an empty cell is not an identifier.
Any other value that an action cannot take (an invalid personnummer in a pseudonym
column, a date that is not ``YYYY-MM-DD``) stops the export with the line number and the
column, never the value.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from itertools import islice
from typing import Any

from consentkit.errors import InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym.identifiers import KINDS, normalise_many
from consentkit.pseudonym.kanon import GroupCounter
from consentkit.pseudonym.keyed import Pseudonymiser, Tokeniser
from consentkit.pseudonym.memo import cell_text, memoised
from consentkit.pseudonym.records import Record
from consentkit.pseudonym.schema import Drop, ExportSchema, Generalise, Keep, Pseudonym, Redact, Token

__all__ = ["Counts", "Exporter", "default_detector"]

#: Rows per written chunk, and between two progress reports.
CHUNK_ROWS = 4096
PROGRESS_EVERY = 16_384
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?")
_MAX_AGE = 150

Progress = Callable[[int], None]
#: What an action computes for one chunk: the chunk's values of its column (or, for
#: redaction, which reads other columns too, its rows) in, one output value per row out.
ColumnFn = Callable[[Sequence[Any]], Sequence[Any]]
_Entry = tuple[int, ColumnFn, bool]


@dataclass
class Counts:
    """What the writing pass did."""

    read: int = 0
    written: int = 0
    suppressed: int = 0


class Exporter:
    """One export: the schema compiled into per-column callables under the given keys.

    ``keys`` are the pseudonym root keys, active first (``KeyRing.pseudonyms``); ``today``
    resolves the century of 10-digit personnummer. ``detector`` returns the free-text
    detector for redact columns; by default :func:`consentkit.pseudonym.detect.get_detector`,
    imported only when a redact column exists.

    Rows are processed in chunks of :data:`CHUNK_ROWS`, one column after another: each
    action runs once per chunk over its column (a pseudonym column validates, MACs and
    encodes the chunk's new values together), which spares a function call per cell.
    """

    def __init__(self, schema: ExportSchema, keys: Sequence[SecretKey], *, today: date,
                 detector: Callable[[], Any] | None = None, unit: str = "line") -> None:
        self.schema = schema
        #: What a row number counts in error messages: ``line`` of a file, ``record`` of a query.
        self.unit = unit
        self._names = tuple(c.name for c in schema.columns)
        index = {name: i for i, name in enumerate(self._names)}
        pseudonymisers: dict[str, Pseudonymiser] = {}
        tokenisers: dict[str, Tokeniser] = {}
        entries: list[_Entry] = []
        for i, column in enumerate(schema.columns):
            action = column.action
            if isinstance(action, Drop):
                continue
            if isinstance(action, Keep):
                entries.append((i, _keep, False))
            elif isinstance(action, Pseudonym):
                if action.domain not in pseudonymisers:
                    pseudonymisers[action.domain] = Pseudonymiser(keys, action.domain)
                entries.append((i, _pseudonym_fn(pseudonymisers[action.domain], action.kind, today), False))
            elif isinstance(action, Token):
                if action.domain not in tokenisers:
                    tokenisers[action.domain] = Tokeniser(keys, action.domain)
                entries.append((i, _token_fn(tokenisers[action.domain], action.kind, today), False))
            elif isinstance(action, Generalise):
                entries.append((i, _generalise_fn(action), False))
            elif isinstance(action, Redact):
                entries.append((i, _redact_fn(i, action, index, detector), True))
        self._entries = tuple(entries)
        outputs = [self._names[i] for i, _, _ in entries]
        self.output_names = tuple(outputs)
        self._qi_positions = tuple(outputs.index(q) for q in schema.quasi_identifiers)
        self._qi_entries = tuple(entries[p] for p in self._qi_positions)

    @property
    def columns(self) -> tuple[str, ...]:
        """The input columns, in schema order (what the readers return)."""
        return self._names

    # -- pass 1 ---------------------------------------------------------------------------

    def count_groups(self, records: Iterable[Record], progress: Progress | None = None) -> GroupCounter:
        """First pass: count the rows of each generalised quasi-identifier group."""
        counter = GroupCounter(self.schema.quasi_identifiers)
        qi = self._qi_entries
        done = 0
        for chunk in _chunks(records):
            keys = _keys(self._outputs(chunk, qi), len(chunk))
            try:
                counter.add_many(keys)
            except TypeError:  # a list or an object: groups are compared by plain values
                line = next(line for (line, _), key in zip(chunk, keys, strict=True) if not _hashable(key))
                raise InvalidInputError(
                    f"{self.unit} {line}: a quasi-identifier must be text, a number or empty, "
                    "not a list or an object") from None
            done = _report(progress, done, len(chunk))
        if progress is not None:
            progress(done)
        return counter

    # -- pass 2 ---------------------------------------------------------------------------

    def transform(self, records: Iterable[Record], counts: Counts,
                  suppress: frozenset[tuple[Any, ...]] = frozenset(),
                  progress: Progress | None = None, *, recount: GroupCounter | None = None) -> Iterator[list[Any]]:
        """Second pass: the output rows; rows whose group is in ``suppress`` are left out.

        ``recount`` counts the groups of the rows actually yielded, so the caller can prove
        the written file is k-anonymous even if the input changed after the first pass.
        """
        for chunk in self.transform_chunks(records, counts, suppress, progress, recount=recount):
            yield from map(list, chunk)

    def transform_chunks(self, records: Iterable[Record], counts: Counts,
                         suppress: frozenset[tuple[Any, ...]] = frozenset(),
                         progress: Progress | None = None, *,
                         recount: GroupCounter | None = None) -> Iterator[list[tuple[Any, ...]]]:
        """:meth:`transform` a chunk of output rows (tuples) at a time, for :meth:`render_chunks`."""
        entries = self._entries
        positions = self._qi_positions
        done = 0
        for chunk in _chunks(records):
            outputs = self._outputs(chunk, entries)
            rows = list(zip(*outputs, strict=True))
            done = _report(progress, done, len(chunk))
            if positions and (suppress or recount is not None):
                keys = _keys([outputs[p] for p in positions], len(rows))
                if suppress:
                    kept = [i for i, key in enumerate(keys) if key not in suppress]
                    counts.suppressed += len(rows) - len(kept)
                    rows, keys = [rows[i] for i in kept], [keys[i] for i in kept]
                if recount is not None:
                    recount.add_many(keys)
            counts.written += len(rows)
            if rows:
                yield rows
        counts.read = done
        if progress is not None:
            progress(done)

    def render(self, rows: Iterable[Sequence[Any]], fmt: str) -> Iterator[str]:
        """The output rows as text chunks (CSV with a header line, or JSON Lines)."""
        return self.render_chunks(_batched(rows), fmt)

    def render_chunks(self, chunks: Iterable[Sequence[Sequence[Any]]], fmt: str, *,
                      header: bool = True) -> Iterator[str]:
        """:meth:`render` for rows given a chunk at a time: one text chunk per chunk of rows
        (after the CSV header line, unless ``header`` is False)."""
        if fmt == "csv":
            if header:
                yield self.header(fmt)
            yield from map(_csv_text, chunks)
            return
        names = self.output_names
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for rows in chunks:
            yield "".join([dumps(dict(zip(names, out, strict=True))) + "\n" for out in rows])

    def header(self, fmt: str) -> str:
        """The text before the first row: the CSV header line (JSON Lines have none)."""
        return _csv_text([self.output_names]) if fmt == "csv" else ""

    def _outputs(self, chunk: list[Record], entries: Sequence[_Entry]) -> list[Sequence[Any]]:
        """Each entry's output column for the chunk; an error names the first bad line and column."""
        rows = [row for _, row in chunk]
        columns = list(zip(*rows, strict=True))
        try:
            return [fn(rows) if rowwise else fn(columns[i]) for i, fn, rowwise in entries]
        except InvalidInputError as error:
            raise self._row_error(chunk, error, entries) from None

    def _row_error(self, chunk: list[Record], error: InvalidInputError,
                   entries: Sequence[_Entry]) -> InvalidInputError:
        """Name the first row and column that fail (re-run one by one: only on the error path)."""
        for line, row in chunk:
            for i, fn, rowwise in entries:
                try:
                    fn([row]) if rowwise else fn([row[i]])
                except InvalidInputError as cell:
                    return InvalidInputError(f"{self.unit} {line}, column {self._names[i]!r}: {cell.message}")
        return InvalidInputError(f"{self.unit}s {chunk[0][0]}-{chunk[-1][0]}: {error.message}")


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV, exactly as ``csv.writer(..., lineterminator="\\n")`` writes them.

    The csv module's writer copies every character through its quoting state machine,
    which costs more than a pseudonym; most chunks hold only text that needs no quoting
    (pseudonyms, generalised values), and those are joined with commas directly. The
    joined text proves itself: one comma fewer than fields per row, one newline per row,
    no quote and no carriage return means no field needed quoting. Anything else (a
    field with a comma, a quote or a line break, a JSON number or null, a row of one
    empty field, which csv writes as ``""``) goes through the csv writer.
    """
    try:
        text = "\n".join(map(",".join, rows)) + "\n"
    except TypeError:  # a value that is not text
        pass
    else:
        width = len(rows[0])
        if (all(len(row) == width for row in rows) and text.count(",") == len(rows) * (width - 1)
                and text.count("\n") == len(rows) and '"' not in text and "\r" not in text
                and (width > 1 or "\n\n" not in "\n" + text)):
            return text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _chunks(records: Iterable[Record]) -> Iterator[list[Record]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK_ROWS)):
        yield chunk


def _batched(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, CHUNK_ROWS)):
        yield batch


def _keys(columns: Sequence[Sequence[Any]], rows: int) -> list[tuple[Any, ...]]:
    """The quasi-identifier group of each row, from the output columns of the quasi-identifiers."""
    return list(zip(*columns, strict=True)) if columns else [()] * rows


def _hashable(key: tuple[Any, ...]) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _report(progress: Progress | None, done: int, more: int) -> int:
    """Count ``more`` rows done; report whenever a multiple of :data:`PROGRESS_EVERY` is passed."""
    total = done + more
    if progress is not None and total // PROGRESS_EVERY > done // PROGRESS_EVERY:
        progress(total)
    return total


def default_detector() -> Any:
    """The free-text detector (``consentkit.pseudonym.detect``), imported on first use only:
    it builds presidio and spaCy tokenizers, which an export without redact columns never needs."""
    module = importlib.import_module("consentkit.pseudonym.detect")
    return module.get_detector()


# -- per-column callables ------------------------------------------------------------------


def _keep(values: Sequence[Any]) -> Sequence[Any]:
    return values


def _each(compute: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    return lambda texts: [compute(text) for text in texts]


def _pseudonym_fn(pseudonymiser: Pseudonymiser, kind: str, today: date) -> ColumnFn:
    return memoised(partial(pseudonymiser.pseudonym_many, kind, today=today))


def _token_fn(tokeniser: Tokeniser, kind: str, today: date) -> ColumnFn:
    token = tokeniser.token
    if kind in KINDS:
        # Identifier kinds are normalised first so every written form of one number gives
        # one token (and reveals as the canonical digits).
        return memoised(lambda texts: [token(kind, digits) for digits in normalise_many(kind, texts, today=today)])
    return memoised(_each(lambda text: token(kind, text)))


def _generalise_fn(rule: Generalise) -> ColumnFn:
    # Memoised like pseudonyms: birth dates, ages and postcodes repeat far more than identifiers.
    if rule.date is not None:
        return memoised(_each(_date_year if rule.date == "year" else _date_month))
    if rule.age is not None:
        return memoised(_each(partial(_age_band, width=rule.age, top=rule.top)))
    return memoised(_each(partial(_postcode_prefix, width=rule.postcode or 0)))


def _postcode_prefix(text: str, *, width: int) -> str:
    return "".join(text.split()).upper()[:width]


def _calendar(text: str) -> tuple[int, int]:
    match = _DATE.fullmatch(text)
    if match is None:
        raise InvalidInputError("expected a date YYYY-MM-DD")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    try:
        date(year, month, day)
    except ValueError:
        raise InvalidInputError("not a calendar date") from None
    return year, month


def _date_year(text: str) -> str:
    return f"{_calendar(text)[0]:04d}"


def _date_month(text: str) -> str:
    year, month = _calendar(text)
    return f"{year:04d}-{month:02d}"


def _age_band(text: str, *, width: int, top: int | None) -> str:
    try:
        age = int(text.strip())
    except ValueError:
        raise InvalidInputError("expected an age in whole years") from None
    if not 0 <= age <= _MAX_AGE:
        raise InvalidInputError(f"an age is 0 to {_MAX_AGE} years")
    if top is not None and age >= top:
        return f"{top}+"
    low = age - age % width
    return str(low) if width == 1 else f"{low}-{low + width - 1}"


def _redact_fn(position: int, rule: Redact, index: dict[str, int],
               detector: Callable[[], Any] | None) -> ColumnFn:
    name_positions = tuple(index[n] for n in rule.known_names)
    lang_position = index[rule.lang_column] if rule.lang_column else None
    state: list[Any] = []

    def apply(row: Sequence[Any]) -> Any:
        text = row[position]
        if text == "" or text is None:
            return text
        if not state:  # the detector is built once, on the first text that needs it
            state.append(detector() if detector is not None else default_detector())
        names = [n for n in (row[p] for p in name_positions) if isinstance(n, str) and n.strip()]
        lang = row[lang_position] if lang_position is not None else None
        # A language column from a spreadsheet may say "SV " for sv; an empty one means the default.
        lang = lang.strip().lower() if isinstance(lang, str) else lang
        return state[0].redact(cell_text(text), lang=lang or rule.lang, known_names=names).text

    return lambda rows: [apply(row) for row in rows]

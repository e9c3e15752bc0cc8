"""Structured exports: stream CSV or JSONL rows through an :class:`ExportSchema`.

The domain half of ``consentkit pseudonymise``: it takes records from
:mod:`~consentkit.pseudonym.records`, turns each column into a precompiled callable (one
per column, built once), and yields the output as text chunks for an atomic writer. It
opens no file and touches no database; the kit does that and audits the result.

An export is two passes over the input when quasi-identifiers are declared: the first
counts the generalised quasi-identifier groups (:mod:`~consentkit.pseudonym.kanon`), so
the k-anonymity verdict is known before a byte is written; the second transforms and
writes. Memory stays constant in the number of rows (the group counts grow only with the
number of distinct groups).

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
from typing import Any

from consentkit.errors import InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym.identifiers import KINDS, normalise
from consentkit.pseudonym.kanon import GroupCounter
from consentkit.pseudonym.keyed import Pseudonymiser, Tokeniser
from consentkit.pseudonym.records import Record
from consentkit.pseudonym.schema import Drop, ExportSchema, Generalise, Keep, Pseudonym, Redact, Token

__all__ = ["Counts", "Exporter", "default_detector"]

#: Rows per written chunk, and between two progress reports.
CHUNK_ROWS = 4096
PROGRESS_EVERY = 16_384
#: Distinct values per memo generation of a pseudonym, token or generalise column (see :func:`_memoised`).
MEMO_SIZE = 1 << 16
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?")
_MAX_AGE = 150

Progress = Callable[[int], None]
ValueFn = Callable[[Any], Any]
RowFn = Callable[[list[Any]], Any]


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
        entries: list[tuple[int, ValueFn | RowFn, bool]] = []
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
        add = counter.add
        qi = self._qi_entries
        done = 0
        for line, row in records:
            try:
                add(tuple([fn(row) if rowwise else fn(row[i]) for i, fn, rowwise in qi]))
            except InvalidInputError as error:
                raise self._row_error(line, row, error, qi) from None
            except TypeError:  # a list or an object: groups are compared by plain values
                raise InvalidInputError(
                    f"{self.unit} {line}: a quasi-identifier must be text, a number or empty, "
                    "not a list or an object") from None
            done += 1
            if progress is not None and not done % PROGRESS_EVERY:
                progress(done)
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
        entries = self._entries
        positions = self._qi_positions
        add = recount.add if recount is not None and positions else None
        done = 0
        for line, row in records:
            try:
                out = [fn(row) if rowwise else fn(row[i]) for i, fn, rowwise in entries]
            except InvalidInputError as error:
                raise self._row_error(line, row, error, entries) from None
            done += 1
            if progress is not None and not done % PROGRESS_EVERY:
                progress(done)
            if add is not None:
                key = tuple([out[p] for p in positions])
                if key in suppress:
                    counts.suppressed += 1
                    continue
                add(key)
            elif suppress and tuple([out[p] for p in positions]) in suppress:
                counts.suppressed += 1
                continue
            counts.written += 1
            yield out
        counts.read = done
        if progress is not None:
            progress(done)

    def render(self, rows: Iterable[list[Any]], fmt: str) -> Iterator[str]:
        """The output rows as text chunks (CSV with a header line, or JSON Lines)."""
        if fmt == "csv":
            yield from self._render_csv(rows)
            return
        names = self.output_names
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        batch: list[str] = []
        for out in rows:
            batch.append(dumps(dict(zip(names, out, strict=True))))
            if len(batch) == CHUNK_ROWS:
                yield "\n".join(batch) + "\n"
                batch.clear()
        if batch:
            yield "\n".join(batch) + "\n"

    def _render_csv(self, rows: Iterable[list[Any]]) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.output_names)
        batch: list[list[Any]] = []
        for out in rows:
            batch.append(out)
            if len(batch) == CHUNK_ROWS:
                writer.writerows(batch)
                batch.clear()
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue()

    def _row_error(self, line: int, row: list[Any], error: InvalidInputError,
                   entries: Sequence[tuple[int, Any, bool]]) -> InvalidInputError:
        """Name the first column that fails (re-run one by one: only on the error path)."""
        for i, fn, rowwise in entries:
            try:
                fn(row) if rowwise else fn(row[i])
            except InvalidInputError as cell:
                return InvalidInputError(f"{self.unit} {line}, column {self._names[i]!r}: {cell.message}")
        return InvalidInputError(f"{self.unit} {line}: {error.message}")


def default_detector() -> Any:
    """The free-text detector (``consentkit.pseudonym.detect``), imported on first use only:
    it builds presidio and spaCy tokenizers, which an export without redact columns never needs."""
    module = importlib.import_module("consentkit.pseudonym.detect")
    return module.get_detector()


# -- per-column callables ------------------------------------------------------------------


def _keep(value: Any) -> Any:
    return value


def _text(value: Any) -> str:
    """A cell as text: strings as they are, JSON integers in decimal; anything else is refused."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInputError("expected a text or integer value")


def _memoised(compute: Callable[[str], str]) -> ValueFn:
    """``compute`` for non-empty text cells, remembering recent distinct values.

    Exports repeat identifiers (one client, many disclosures); pseudonyms, AES-SIV tokens
    and generalisations are deterministic, so a repeat costs one dict lookup instead of a
    validation, an HMAC or an encryption. Two generations of :data:`MEMO_SIZE` values
    each: when the young one is full it becomes the old one and the previous old one is
    dropped, and a hit in the old generation is copied back to the young one. That keeps
    the values in use (an approximate LRU, without LRU bookkeeping on every hit) and
    bounds memory at ``2 * MEMO_SIZE`` entries per column. Empty cells stay empty; JSON
    integers are read as their decimal text.
    """
    young: dict[str, str] = {}
    old: dict[str, str] = {}

    def apply(value: Any) -> Any:
        nonlocal young, old
        if type(value) is str:
            found = young.get(value)
            if found is not None:
                return found
            if not value:
                return value
            found = old.get(value)
            result = compute(value) if found is None else found
            if len(young) >= MEMO_SIZE:
                young, old = {}, young
            young[value] = result
            return result
        if value is None:
            return value
        return compute(_text(value))

    return apply


def _pseudonym_fn(pseudonymiser: Pseudonymiser, kind: str, today: date) -> ValueFn:
    pseudonym = pseudonymiser.pseudonym
    return _memoised(lambda text: pseudonym(kind, text, today=today))


def _token_fn(tokeniser: Tokeniser, kind: str, today: date) -> ValueFn:
    token = tokeniser.token
    if kind in KINDS:
        # Identifier kinds are normalised first so every written form of one number gives
        # one token (and reveals as the canonical digits).
        return _memoised(lambda text: token(kind, normalise(kind, text, today=today)))
    return _memoised(lambda text: token(kind, text))


def _generalise_fn(rule: Generalise) -> ValueFn:
    # Memoised like pseudonyms: birth dates, ages and postcodes repeat far more than identifiers.
    if rule.date is not None:
        return _memoised(_date_year if rule.date == "year" else _date_month)
    if rule.age is not None:
        return _memoised(partial(_age_band, width=rule.age, top=rule.top))
    return _memoised(partial(_postcode_prefix, width=rule.postcode or 0))


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
               detector: Callable[[], Any] | None) -> RowFn:
    name_positions = tuple(index[n] for n in rule.known_names)
    lang_position = index[rule.lang_column] if rule.lang_column else None
    state: list[Any] = []

    def apply(row: list[Any]) -> Any:
        text = row[position]
        if text == "" or text is None:
            return text
        if not state:  # the detector is built once, on the first text that needs it
            state.append(detector() if detector is not None else default_detector())
        names = [n for n in (row[p] for p in name_positions) if isinstance(n, str) and n.strip()]
        lang = row[lang_position] if lang_position is not None else None
        # A language column from a spreadsheet may say "SV " for sv; an empty one means the default.
        lang = lang.strip().lower() if isinstance(lang, str) else lang
        return state[0].redact(_text(text), lang=lang or rule.lang, known_names=names).text

    return apply

"""The export schema: what happens to each column of a structured export.

A schema is a YAML or JSON document::

    version: 1
    domain: research-2026            # default pseudonymisation domain of pseudonym/token columns
    k: 5                             # k-anonymity threshold (default 5)
    quasi_identifiers: [birth_date, sex, postcode]
    columns:
      national_id: {pseudonym: {kind: SE_PERSONNUMMER}}
      email:       {pseudonym: {domain: research-2026-mail}}   # kind TEXT
      phone:       {token: {kind: PHONE}}
      name:        drop
      sex:         keep
      birth_date:  {generalise: {date: year}}       # or month
      age:         {generalise: {age: 10, top: 80}} # bands 30-39 ..., 80+
      postcode:    {generalise: {postcode: 3}}      # first 3 characters
      note:        {redact: {lang: sv, known_names: [name]}}

A redact column redacts what the detector finds and, as names, the values of the
``known_names`` columns of the same row; without ``known_names``, those of every
pseudonym, token and dropped column (what the export hides elsewhere must not come back
through the free text); ``known_names: []`` for none.

Every column of the input must be listed: an unknown column is refused, never passed
through silently (a new column added upstream, say ``diagnosis``, must be a decision).
Quasi-identifiers are judged on their exported value, after generalisation (ENISA 2019
and the Dutch DPA: birth date and postcode together are often unique).

:func:`load_schema` validates the document with a JSON Schema (Draft 2020-12) and then
the cross-field rules; every message names the field, never a value from the data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import yaml

from consentkit.errors import ValidationError
from consentkit.pseudonym.identifiers import KINDS
from consentkit.pseudonym.keyed import TEXT

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as JsonSchemaError

__all__ = [
    "ACTIONS",
    "Column",
    "Drop",
    "ExportSchema",
    "Generalise",
    "Keep",
    "Pseudonym",
    "Redact",
    "Token",
    "load_schema",
    "parse_schema",
]

ACTIONS = ("keep", "drop", "pseudonym", "token", "generalise", "redact")
_DOMAIN = "^[a-z0-9._-]{1,64}$"  # the Pseudonymiser's own rule (keyed._DOMAIN)
_KIND = "^[A-Z][A-Z0-9_]{0,63}$"  # the Tokeniser's rule for a token kind
_COLUMN = "^[^\\x00-\\x1f]{1,128}$"
_LANGS = ("en", "el", "sv", "ru", "kk")
_MAX_ERRORS = 20
_ACTION_HELP = ("expected keep, drop, pseudonym, token, redact, or one of {pseudonym: {domain, kind}}, "
                "{token: {domain, kind}}, {generalise: {date: year|month} | {age: N, top: N} | {postcode: N}}, "
                "{redact: {lang, lang_column, known_names}}")

_STRICT: dict[str, Any] = {"type": "object", "additionalProperties": False}

_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "consentkit export schema",
    **_STRICT,
    "required": ["version", "columns"],
    "properties": {
        "version": {"const": 1},
        "domain": {"type": "string", "pattern": _DOMAIN},
        "k": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "quasi_identifiers": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "columns": {
            "type": "object", "minProperties": 1,
            "propertyNames": {"pattern": _COLUMN},
            "additionalProperties": {"$ref": "#/$defs/action"},
        },
    },
    "$defs": {
        "action": {"oneOf": [
            {"enum": ["keep", "drop", "pseudonym", "token", "redact"]},
            {**_STRICT, "required": ["keep"], "properties": {"keep": {"const": True}}},
            {**_STRICT, "required": ["drop"], "properties": {"drop": {"const": True}}},
            {**_STRICT, "required": ["pseudonym"], "properties": {"pseudonym": {
                **_STRICT, "properties": {
                    "domain": {"type": "string", "pattern": _DOMAIN},
                    "kind": {"enum": [*KINDS, TEXT]},
                }}}},
            {**_STRICT, "required": ["token"], "properties": {"token": {
                **_STRICT, "properties": {
                    "domain": {"type": "string", "pattern": _DOMAIN},
                    "kind": {"type": "string", "pattern": _KIND},
                }}}},
            {**_STRICT, "required": ["generalise"], "properties": {"generalise": {"oneOf": [
                {**_STRICT, "required": ["date"], "properties": {"date": {"enum": ["year", "month"]}}},
                {**_STRICT, "required": ["age"], "properties": {
                    "age": {"type": "integer", "minimum": 1, "maximum": 100},
                    "top": {"type": "integer", "minimum": 1, "maximum": 150}}},
                {**_STRICT, "required": ["postcode"], "properties": {
                    "postcode": {"type": "integer", "minimum": 1, "maximum": 10}}},
            ]}}},
            {**_STRICT, "required": ["redact"], "properties": {"redact": {
                **_STRICT, "properties": {
                    "lang": {"enum": list(_LANGS)},
                    "lang_column": {"type": "string"},
                    "known_names": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                }}}},
        ]},
    },
}


@dataclass(frozen=True)
class Keep:
    """Copy the value unchanged."""


@dataclass(frozen=True)
class Drop:
    """Leave the column out of the export."""


@dataclass(frozen=True)
class Pseudonym:
    """Keyed pseudonym (HMAC-SHA-256) of the value in ``domain``, normalised as ``kind``."""

    domain: str
    kind: str = TEXT


@dataclass(frozen=True)
class Token:
    """Reversible AES-SIV token in ``domain``; identifier kinds are normalised first."""

    domain: str
    kind: str = "VALUE"


@dataclass(frozen=True)
class Generalise:
    """Coarsen a quasi-identifier: ``date`` to year/month, ``age`` to bands, ``postcode`` to a prefix."""

    date: str | None = None
    age: int | None = None
    top: int | None = None
    postcode: int | None = None


@dataclass(frozen=True)
class Redact:
    """Free text through the detector; the values of the ``known_names`` columns of the same row are
    redacted too (by default every pseudonym, token and dropped column: see the module docstring)."""

    lang: str = "en"
    lang_column: str | None = None
    known_names: tuple[str, ...] = ()


Action = Keep | Drop | Pseudonym | Token | Generalise | Redact


@dataclass(frozen=True)
class Column:
    """One input column and its action."""

    name: str
    action: Action

    @property
    def action_name(self) -> str:
        """``keep``, ``drop``, ``pseudonym``, ``token``, ``generalise`` or ``redact``."""
        return type(self.action).__name__.lower()


@dataclass(frozen=True)
class ExportSchema:
    """A validated export schema; ``sha256`` identifies it in the audit trail."""

    columns: tuple[Column, ...]
    quasi_identifiers: tuple[str, ...]
    k: int
    sha256: str

    def column(self, name: str) -> Column | None:
        """The column called ``name``, if the schema lists it."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def output_names(self) -> tuple[str, ...]:
        """The exported columns, in schema order."""
        return tuple(c.name for c in self.columns if not isinstance(c.action, Drop))

    @property
    def domains(self) -> tuple[str, ...]:
        """Every pseudonymisation domain the export uses, sorted."""
        return tuple(sorted({c.action.domain for c in self.columns if isinstance(c.action, Pseudonym | Token)}))


def load_schema(name: str, text: str) -> ExportSchema:
    """Parse a YAML or JSON schema file (``name`` is used in messages) and validate it."""
    try:
        data = yaml.safe_load(text)  # JSON is YAML 1.2; PyYAML reads the JSON a schema uses
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(f"{name}{line}: not valid YAML or JSON ({error.problem})") from None
    except yaml.YAMLError:
        raise ValidationError(f"{name}: not valid YAML or JSON") from None
    return parse_schema(data, name=name)


def parse_schema(data: object, *, name: str = "schema") -> ExportSchema:
    """Validate a schema already parsed into Python data."""
    if not isinstance(data, dict):
        raise ValidationError(f"{name}: an export schema is a mapping (version: 1, columns: ...)")
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        problems = tuple(_explain(e) for e in errors[:_MAX_ERRORS])
        raise ValidationError(f"{name} does not match the export schema", problems)
    default_domain = data.get("domain")
    # What the export hides in its own columns must not come back through a redacted one:
    # a redact column without known_names redacts the row's pseudonym, token and dropped values.
    hidden = tuple(column for column, spec in data["columns"].items()
                   if (spec if isinstance(spec, str) else next(iter(spec))) in ("pseudonym", "token", "drop"))
    columns = tuple(_column(column, spec, default_domain, hidden) for column, spec in data["columns"].items())
    schema = ExportSchema(
        columns=columns,
        quasi_identifiers=tuple(data.get("quasi_identifiers", ())),
        k=int(data.get("k", 5)),
        sha256=hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest(),
    )
    problems = _cross_checks(schema, data)
    if problems:
        raise ValidationError(f"{name} does not match the export schema", problems)
    return schema


def _column(column: str, spec: object, default_domain: str | None, hidden: tuple[str, ...]) -> Column:
    params: Mapping[str, Any] = {}
    if isinstance(spec, str):
        name = spec
    else:  # the JSON Schema allows a name or a one-key mapping, nothing else
        name, value = next(iter(cast("Mapping[str, Any]", spec).items()))
        if isinstance(value, Mapping):
            params = value
    action: Action
    if name == "keep":
        action = Keep()
    elif name == "drop":
        action = Drop()
    elif name == "pseudonym":
        action = Pseudonym(params.get("domain", default_domain or ""), params.get("kind", TEXT))
    elif name == "token":
        action = Token(params.get("domain", default_domain or ""), params.get("kind", "VALUE"))
    elif name == "generalise":
        action = Generalise(params.get("date"), params.get("age"), params.get("top"), params.get("postcode"))
    else:
        action = Redact(params.get("lang", "en"), params.get("lang_column"), tuple(params.get("known_names", hidden)))
    return Column(column, action)


def _cross_checks(schema: ExportSchema, data: Mapping[str, Any]) -> tuple[str, ...]:
    problems: list[str] = []
    names = {c.name for c in schema.columns}
    for column in schema.columns:
        where = f"columns.{column.name}"
        action = column.action
        if isinstance(action, Pseudonym | Token) and not action.domain:
            problems.append(f"{where}.{column.action_name}.domain: give a domain here or at the top level")
        if isinstance(action, Generalise) and action.top is not None and action.age is None:
            problems.append(f"{where}.generalise.top: only an age band has a top")
        if isinstance(action, Redact):
            for other in (*action.known_names, *([action.lang_column] if action.lang_column else [])):
                if other not in names:
                    problems.append(f"{where}.redact: {other!r} is not a column of this schema")
    if not schema.output_names:
        problems.append("columns: every column is dropped; nothing would be exported")
    for index, qi in enumerate(schema.quasi_identifiers):
        declared = schema.column(qi)
        if declared is None:
            problems.append(f"quasi_identifiers[{index}]: {qi!r} is not a column of this schema")
        elif isinstance(declared.action, Drop):
            problems.append(f"quasi_identifiers[{index}]: {qi!r} is dropped, so it is not in the export")
    if "k" in data and not schema.quasi_identifiers:
        problems.append("k: a k-anonymity threshold needs quasi_identifiers")
    return tuple(problems)


def _explain(error: JsonSchemaError) -> str:
    """``field.path: what is wrong``; for an action, the error inside the branch the user chose."""
    if error.validator == "oneOf" and error.context:
        depth = len(error.absolute_path)
        deeper = [e for e in error.context if len(e.absolute_path) > depth]
        if deeper:
            return _explain(max(deeper, key=lambda e: len(e.absolute_path)))
        if list(error.absolute_path)[-1:] == ["generalise"]:
            return f"{_path(error.absolute_path)}: give exactly one of date: year|month, age: N (top: N), postcode: N"
        if list(error.absolute_path)[:1] == ["columns"]:
            return f"{_path(error.absolute_path)}: {_ACTION_HELP}"
    text = str(error.message)
    return f"{_path(error.absolute_path)}: {text if len(text) <= 200 else text[:197] + '...'}"


def _path(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"




@cache
def _validator() -> Draft202012Validator:
    """The schema's validator (checked against the meta-schema in tests/pseudonym/test_schema.py)."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - deferred: ~70 ms of start-up for commands that export nothing

    return Draft202012Validator(_JSON_SCHEMA)

"""The export schema: every action parses, and every mistake is refused naming its field."""

from __future__ import annotations

import json

import pytest

from consentkit.errors import ValidationError
from consentkit.pseudonym.schema import (
    Drop,
    Generalise,
    Keep,
    Pseudonym,
    Redact,
    Token,
    load_schema,
    parse_schema,
)

FULL = """
version: 1
domain: research-2026
k: 3
quasi_identifiers: [sex, birth_date, postcode]
columns:
  national_id: {pseudonym: {kind: SE_PERSONNUMMER}}
  email:       {pseudonym: {domain: mail-2026}}
  phone:       {token: {kind: PHONE}}
  name:        drop
  sex:         keep
  birth_date:  {generalise: {date: month}}
  age:         {generalise: {age: 10, top: 80}}
  postcode:    {generalise: {postcode: 3}}
  lang:        keep
  note:        {redact: {lang: sv, lang_column: lang, known_names: [name]}}
"""


def _problems(text: str) -> str:
    with pytest.raises(ValidationError) as caught:
        load_schema("export.yaml", text)
    return str(caught.value)


def test_every_action_parses_with_domain_defaults() -> None:
    schema = load_schema("export.yaml", FULL)
    actions = {c.name: c.action for c in schema.columns}
    assert actions == {
        "national_id": Pseudonym("research-2026", "SE_PERSONNUMMER"),
        "email": Pseudonym("mail-2026", "TEXT"),
        "phone": Token("research-2026", "PHONE"),
        "name": Drop(),
        "sex": Keep(),
        "birth_date": Generalise(date="month"),
        "age": Generalise(age=10, top=80),
        "postcode": Generalise(postcode=3),
        "lang": Keep(),
        "note": Redact("sv", "lang", ("name",)),
    }
    assert schema.quasi_identifiers == ("sex", "birth_date", "postcode") and schema.k == 3
    assert schema.domains == ("mail-2026", "research-2026")
    assert "name" not in schema.output_names and schema.output_names[0] == "national_id"


def test_json_and_yaml_spellings_give_the_same_schema_and_hash() -> None:
    from_yaml = load_schema("export.yaml", FULL)
    import yaml

    from_json = load_schema("export.json", json.dumps(yaml.safe_load(FULL)))
    assert from_json == from_yaml
    changed = load_schema("export.yaml", FULL.replace("k: 3", "k: 4"))
    assert changed.sha256 != from_yaml.sha256 and len(from_yaml.sha256) == 64


def test_long_form_keep_and_drop() -> None:
    schema = parse_schema({"version": 1, "columns": {"a": {"keep": True}, "b": {"drop": True}}})
    assert [c.action for c in schema.columns] == [Keep(), Drop()]


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\ncolumns: {a: {generalise: {date: week}}}", "columns.a.generalise.date: 'week' is not one of"),
    ("version: 1\ncolumns: {a: {generalise: {age: 10, postcode: 3}}}", "columns.a.generalise: give exactly one"),
    ("version: 1\ncolumns: {a: {generalise: {age: 0}}}", "columns.a.generalise.age: 0 is less than"),
    ("version: 1\ncolumns: {a: copy}", "columns.a: expected keep, drop, pseudonym"),
    ("version: 1\ncolumns: {a: {pseudonym: {kind: NHS}}}", "columns.a.pseudonym.kind: 'NHS' is not one of"),
    ("version: 1\ncolumns: {a: {pseudonym: {domain: Research}}}",
     "columns.a.pseudonym.domain: 'Research' does not match"),
    ("version: 1\ncolumns: {a: pseudonym}", "columns.a.pseudonym.domain: give a domain here or at the top level"),
    ("version: 1\ncolumns: {a: {token: {kind: PHONE}, keep: true}}", "columns.a: expected keep"),
    ("version: 1\ncolumns: {a: {redact: {lang: de}}}", "columns.a.redact.lang: 'de' is not one of"),
    ("version: 1\ncolumns: {a: {redact: {known_names: [who]}}}", "columns.a.redact: 'who' is not a column"),
    ("version: 2\ncolumns: {a: keep}", "version: 1 was expected"),
    ("version: 1\ncolumns: {a: keep}\nextra: 1", "'extra' was unexpected"),
    ("version: 1\ncolumns: {}", "columns: {} should be non-empty"),
    ("version: 1\ncolumns: {a: drop}", "columns: every column is dropped"),
    ("version: 1\nquasi_identifiers: [b]\ncolumns: {a: keep}", "quasi_identifiers[0]: 'b' is not a column"),
    ("version: 1\nquasi_identifiers: [b]\ncolumns: {a: keep, b: drop}", "quasi_identifiers[0]: 'b' is dropped"),
    ("version: 1\nk: 5\ncolumns: {a: keep}", "k: a k-anonymity threshold needs quasi_identifiers"),
    ("version: 1\ncolumns: {a: {generalise: {date: year, top: 3}}}", "columns.a.generalise: give exactly one"),
    ("columns: {a: keep}", "'version' is a required property"),
])
def test_mistakes_name_the_field(text: str, expected: str) -> None:
    message = _problems(text)
    assert message.startswith("export.yaml does not match the export schema: ")
    assert expected in message


def test_yaml_syntax_error_names_the_line() -> None:
    assert _problems("version: 1\ncolumns:\n  a: [keep\n") .startswith("export.yaml line 4: not valid YAML")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert "an export schema is a mapping" in _problems("- keep\n- drop\n")


def test_the_export_schema_is_a_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    from consentkit.pseudonym import schema as export_schema

    Draft202012Validator.check_schema(export_schema._JSON_SCHEMA)

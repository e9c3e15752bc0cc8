"""``kit.pseudonymise(SubjectsQuery(...))``: exports straight from the database, so no
clear-text intermediate file ever exists."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from consentkit.errors import InvalidInputError, NotFoundError, ValidationError
from consentkit.kit import ConsentKit
from consentkit.kit._pseudonym import SUBJECT_FIELDS, SubjectsQuery
from consentkit.pseudonym.keyed import Pseudonymiser
from consentkit.storage.audit_log import AuditFilter

SCHEMA = {
    "version": 1, "domain": "novgorod-eval-2026", "k": 2, "quasi_identifiers": ["birth_date"],
    "columns": {
        "subject_id": "pseudonym", "jurisdiction": "keep", "language": "drop", "created_at": "drop",
        "name": "drop", "other_names": "drop", "birth_date": {"generalise": {"date": "year"}},
        "national_id": {"pseudonym": {"kind": "SE_PERSONNUMMER"}}, "national_id_type": "keep", "contact": "drop",
    },
}
PEOPLE = [
    ("Anna Svensson", date(1985, 7, 9), "850709-2388"),
    ("Eva Lind", date(1985, 2, 1), None),
    ("Nils Karlsson", date(1981, 12, 18), "811218-9876"),
]


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    path = tmp_path / "subjects.json"
    path.write_text(json.dumps(SCHEMA), encoding="utf-8")
    return path


@pytest.fixture
def subjects(kit: ConsentKit) -> list[str]:
    ids = [kit.add_subject(jurisdiction="se", name=name, birth_date=born, national_id=nid).subject_id
           for name, born, nid in PEOPLE]
    kit.add_subject(jurisdiction="gr", name="Γιώργος Παπαδόπουλος", birth_date=date(1985, 3, 15))
    return ids


def test_subjects_of_a_jurisdiction_with_suppression(kit: ConsentKit, schema: Path, subjects: list[str],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = kit.pseudonymise(SubjectsQuery("se"), schema=schema, out=out, suppress=True)
    assert (result.rows_read, result.rows_written, result.suppressed, result.k_reached) == (3, 2, 1, 2)
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    pseudonymiser = Pseudonymiser(kit.keys.pseudonyms, "novgorod-eval-2026")
    # Creation order (all equal under the fixed clock), then subject id: compare without order.
    assert sorted(rows, key=lambda r: r["national_id"], reverse=True) == [
        {"subject_id": pseudonymiser.pseudonym("TEXT", subjects[0]), "jurisdiction": "se", "birth_date": "1985",
         "national_id": pseudonymiser.pseudonym("SE_PERSONNUMMER", "19850709-2388"),
         "national_id_type": "SE_PERSONNUMMER"},
        {"subject_id": pseudonymiser.pseudonym("TEXT", subjects[1]), "jurisdiction": "se", "birth_date": "1985",
         "national_id": "", "national_id_type": ""},
    ]
    [event] = kit.audit_log(AuditFilter(action="pseudonym.exported"))
    assert event.details["input_format"] == "db:subjects" and event.details["jurisdiction"] == "se"
    assert "Anna" not in json.dumps(dict(event.details))


def test_erased_subjects_are_left_out(kit: ConsentKit, schema: Path, subjects: list[str], tmp_path: Path) -> None:
    kit.erase_subject(subjects[2])
    result = kit.pseudonymise(SubjectsQuery("se"), schema=schema, out=tmp_path / "out.jsonl")
    assert result.rows_read == 2 and result.written and result.format == "jsonl"


def test_every_field_needs_an_action(kit: ConsentKit, schema: Path, subjects: list[str], tmp_path: Path) -> None:
    columns = dict(SCHEMA["columns"])  # type: ignore[call-overload]
    del columns["contact"]
    schema.write_text(json.dumps({**SCHEMA, "columns": columns}), encoding="utf-8")
    with pytest.raises(ValidationError, match="the subjects of se: columns not in the schema: 'contact'"):
        kit.pseudonymise(SubjectsQuery("se"), schema=schema, out=tmp_path / "out.csv", k=1)
    assert not (tmp_path / "out.csv").exists() and set(SUBJECT_FIELDS) == set(SCHEMA["columns"])  # type: ignore[arg-type]


def test_bad_identifier_names_the_record(kit: ConsentKit, schema: Path, tmp_path: Path) -> None:
    kit.add_subject(jurisdiction="se", name="Olof Berg", birth_date=date(1990, 1, 1), national_id="15038512347",
                    national_id_type="GR_AMKA")
    with pytest.raises(InvalidInputError, match=r"^record 1, column 'national_id': SE_PERSONNUMMER is not valid"):
        kit.pseudonymise(SubjectsQuery("se"), schema=schema, out=tmp_path / "out.csv", k=1)


def test_unknown_jurisdiction_is_an_error(kit: ConsentKit, schema: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        kit.pseudonymise(SubjectsQuery("atlantis"), schema=schema, out=tmp_path / "out.csv")

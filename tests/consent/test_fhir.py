"""FHIR R5 Consent: export, import, the round trip, and hostile documents that must write nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from consentkit.consent.fhir import EXT_IRREVOCABLE, from_fhir_r5, parse_fhir_json, schema
from consentkit.consent.model import CaptureContext
from consentkit.errors import InvalidInputError, NotFoundError, ValidationError
from consentkit.kit import ConsentKit
from tests.cli_runner import Run

NAME = "Γιώργος Νικολάου"


def _subject(kit: ConsentKit, birth: date = date(1990, 5, 1)) -> str:
    return kit.add_subject(jurisdiction="eu-gdpr", name="Client", birth_date=birth).subject_id


def _grant(kit: ConsentKit, subject_id: str, **overrides: object) -> str:
    fields: dict[str, object] = {
        "recipients": ["treatment-provider:okana-athens", "social-services"],
        "purposes": ["treatment", "care-coordination"], "categories": ["identity", "substance-use"],
        "notice_version": "2026-01", "notice_language": "el", "evidence_sha256": "cd" * 32,
        "valid_from": datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "valid_until": datetime(2027, 3, 1, tzinfo=UTC),
        "context": CaptureContext(in_custody=True, interpreter_language="el", capacity_assessed=True),
        "attest": ["signature"],
    }
    fields.update(overrides)
    return kit.grant_consent(subject_id, **fields).grant.consent_id  # type: ignore[arg-type]


def _scope(kit: ConsentKit, consent_id: str) -> dict[str, Any]:
    data = kit.consent(consent_id).to_json()
    keep = ("subject_id", "effect", "recipients", "purposes", "categories", "valid_from", "valid_until", "grantor",
            "form", "evidence_sha256", "notice_version", "notice_language", "in_custody", "interpreter_language",
            "capacity_assessed", "attested")
    return {k: sorted(v) if isinstance(v, list) else v for k, v in data.items() if k in keep}


def _count(kit: ConsentKit, subject_id: str) -> int:
    return len(kit.consents(subject_id))


# -- export and round trip -------------------------------------------------------------------


def test_export_is_schema_valid_r5_with_no_names(kit: ConsentKit) -> None:
    subject = _subject(kit)
    consent_id = _grant(kit, subject, grantor_name=NAME)
    doc = kit.export_consent_fhir(consent_id)
    assert list(jsonschema.Draft202012Validator(schema()).iter_errors(doc)) == []
    assert doc["resourceType"] == "Consent" and doc["status"] == "active" and doc["decision"] == "deny"
    assert doc["subject"] == {"reference": f"Patient/{subject}"} and doc["grantor"] == doc["grantor"][:1]
    assert doc["period"] == {"start": "2026-03-02T10:00:00Z", "end": "2027-03-01T00:00:00Z"}
    assert doc["sourceAttachment"][0]["url"].startswith("ni:///sha-256;")
    assert {c["code"] for c in doc["provision"][0]["purpose"]} == {"treatment", "care-coordination"}
    assert NAME not in json.dumps(doc, ensure_ascii=False)


@pytest.mark.parametrize("overrides", [
    {},
    {"refuse": True, "valid_until": None},
    {"grantor": "representative", "grantor_name": NAME},
    {"form": "electronic", "evidence_sha256": None, "context": CaptureContext()},
])
def test_round_trip_preserves_scope_period_grantor_effect(kit: ConsentKit, overrides: dict[str, object]) -> None:
    subject = _subject(kit)
    original = _grant(kit, subject, **overrides)
    doc = kit.export_consent_fhir(original)
    imported = kit.import_consent_fhir(json.loads(json.dumps(doc)))
    assert _scope(kit, imported.grant.consent_id) == _scope(kit, original)
    assert imported.grant.consent_id != original


def test_a_period_that_ends_on_a_date_includes_that_day(kit: ConsentKit) -> None:
    """FHIR Period.end "includes any matching date/time": an end of 2027-03-01 holds through that day."""
    doc = kit.export_consent_fhir(_grant(kit, _subject(kit)))
    doc["period"]["end"] = "2027-03-01"
    imported = kit.import_consent_fhir(doc)
    assert imported.grant.valid_until == datetime(2027, 3, 2, tzinfo=UTC)


def test_guardian_round_trip_for_a_minor(kit: ConsentKit) -> None:
    subject = _subject(kit, birth=date(2014, 2, 1))
    original = _grant(kit, subject, grantor="guardian", grantor_name=NAME)
    doc = kit.export_consent_fhir(original)
    assert doc["grantor"][0]["type"] == "RelatedPerson"
    imported = kit.import_consent_fhir(doc)
    assert imported.grant.grantor.value == "guardian" and _scope(kit, imported.grant.consent_id) == _scope(
        kit, original)


def test_refusal_is_deny_with_the_scope_denied_again(kit: ConsentKit) -> None:
    doc = kit.export_consent_fhir(_grant(kit, _subject(kit), refuse=True))
    assert doc["decision"] == "deny"
    inner = doc["provision"][0]["provision"][0]
    assert inner["purpose"] == doc["provision"][0]["purpose"] and "provision" not in inner


def test_r5_opt_out_is_read_as_a_refusal_never_a_broad_permit(kit: ConsentKit) -> None:
    doc = kit.export_consent_fhir(_grant(kit, _subject(kit)))
    doc["decision"] = "permit"
    assert kit.import_consent_fhir(doc).grant.effect.value == "refuse"


def test_withdrawn_consent_exports_inactive_with_history(kit: ConsentKit) -> None:
    consent_id = _grant(kit, _subject(kit))
    kit.withdraw_consent(consent_id, reason="no")
    doc = kit.export_consent_fhir(consent_id)
    assert doc["status"] == "inactive"
    events = [e for e in doc["extension"] if e["url"].endswith(":event")]
    assert events[0]["extension"][0] == {"url": "kind", "valueCode": "withdrawn"}
    with pytest.raises(ValidationError, match=r"\$\.status: only an active consent"):
        kit.import_consent_fhir(doc)


def test_subject_from_the_argument_when_the_document_has_none(kit: ConsentKit) -> None:
    subject = _subject(kit)
    doc = kit.export_consent_fhir(_grant(kit, subject))
    del doc["subject"], doc["grantor"]
    with pytest.raises(InvalidInputError, match="give --subject"):
        kit.import_consent_fhir(doc)
    assert kit.import_consent_fhir(doc, subject_id=subject).grant.subject_id == subject
    with pytest.raises(InvalidInputError, match="differs"):
        kit.import_consent_fhir(kit.export_consent_fhir(_grant(kit, subject)), subject_id=_subject(kit))


def test_import_goes_through_the_pack_rules(kit: ConsentKit) -> None:
    doc = kit.export_consent_fhir(_grant(kit, _subject(kit)))
    doc["extension"].append({"url": EXT_IRREVOCABLE, "valueDateTime": "2026-12-31T00:00:00Z"})
    with pytest.raises(ValidationError, match="irrevocable-until: this jurisdiction does not allow"):
        kit.import_consent_fhir(doc)


# -- hostile and malformed documents -------------------------------------------------------------


def _base(kit: ConsentKit) -> tuple[str, dict[str, Any]]:
    subject = _subject(kit)
    return subject, kit.export_consent_fhir(_grant(kit, subject))


def _provision(doc: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = doc["provision"][0]
    return first


def _nested_other_scope(doc: dict[str, Any]) -> None:
    inner = copy.deepcopy(_provision(doc))
    inner["purpose"] = [{"system": "urn:consentkit:purpose", "code": "research"}]
    _provision(doc)["provision"] = [inner]


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "wrong resourceType": (lambda d: d.update(resourceType="Patient"), r"\$\.resourceType: must be Consent"),
    "unknown purpose code": (lambda d: _provision(d)["purpose"][0].update(code="marketing"),
                             r"\$\.provision\[0\]\.purpose\[0\]\.code: unknown purpose marketing"),
    "foreign purpose system": (lambda d: _provision(d)["purpose"][0].update(
        system="http://terminology.hl7.org/CodeSystem/v3-ActReason"), r"purpose\[0\]\.system: expected"),
    "record-level data": (lambda d: _provision(d).update(data=[{"meaning": "instance"}]),
                          r"\$\.provision\[0\]\.data: consents about single records are not supported"),
    "modifier extension": (lambda d: d.update(modifierExtension=[]), r"\$\.modifierExtension: modifier"),
    "no provision": (lambda d: d.pop("provision"), r"\$\.provision: missing"),
    "no categories": (lambda d: _provision(d).update(securityLabel=[]), r"securityLabel: minItems"),
    "bad subject": (lambda d: d.update(subject={"reference": "Patient/123"}),
                    r"\$\.subject\.reference: expected Patient/"),
    "partial date": (lambda d: d["period"].update(start="2026-03"), r"\$\.period\.start: give a full date"),
    "time without offset": (lambda d: d["period"].update(start="2026-03-02T10:00:00"),
                            r"\$\.period\.start: not a valid dateTime"),
    "not disclosure": (lambda d: _provision(d).update(action=[{"coding": [{"code": "access"}]}]),
                       r"\$\.provision\[0\]\.action: consentkit consents are about disclosure"),
    "nested other scope": (_nested_other_scope, r"a nested provision must repeat"),
    "grantor is someone else": (lambda d: d.update(grantor=[{"reference": "Practitioner/1", "display": NAME}]),
                                r"\$\.grantor\[0\]: expected the subject"),
    "string for array": (lambda d: _provision(d).update(purpose="treatment"),
                         r"\$\.provision\[0\]\.purpose: expected an array"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_hostile_document_gives_a_clear_error_and_writes_nothing(kit: ConsentKit, name: str) -> None:
    subject, doc = _base(kit)
    mutate, message = MUTATIONS[name]
    mutate(doc)
    before = _count(kit, subject)
    with pytest.raises(ValidationError, match=message) as caught:
        kit.import_consent_fhir(doc)
    assert "\n" not in str(caught.value) and NAME not in str(caught.value)
    assert _count(kit, subject) == before


def test_every_problem_is_listed_at_once(kit: ConsentKit) -> None:
    _, doc = _base(kit)
    doc["provision"][0]["purpose"][0]["code"] = "marketing"
    doc["provision"][0]["securityLabel"][0]["code"] = "genome"
    doc["status"] = "draft"
    with pytest.raises(ValidationError) as caught:
        kit.import_consent_fhir(doc)
    assert len(caught.value.problems) == 3


def test_unknown_subject_is_not_found(kit: ConsentKit) -> None:
    _, doc = _base(kit)
    doc["subject"] = {"reference": "Patient/00000000-0000-4000-8000-000000000000"}
    del doc["grantor"]
    with pytest.raises(NotFoundError):
        kit.import_consent_fhir(doc)


@pytest.mark.parametrize(("raw", "message"), [
    (b"not json", r"not valid JSON \(line 1, column 1\)"),
    (b'{"a": 1, "a": 2}', "a key appears twice"),
    (b'{"a": NaN}', "NaN"),
    (b"[1, 2]", "expected a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 200_000 + b"]" * 200_000, "nested deeper than"),
    (b'{"a":' * 100 + b"1" + b"}" * 100, "nested deeper than"),
    (b"[" * (10 * 1024 * 1024), "larger than 1024 KiB"),
])
def test_parse_refuses_hostile_json_in_one_line(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_fhir_json(raw)
    assert "\n" not in str(caught.value)


def test_from_fhir_refuses_non_objects() -> None:
    with pytest.raises(ValidationError, match="expected a JSON object"):
        from_fhir_r5(["Consent"])


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init").exit_code == 0
    return runner


def test_cli_export_import_and_hostile_files(run: Run, tmp_path: Path) -> None:
    subject = run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test", "--birth-date",
                       "1995-04-01")["subject_id"]
    consent_id = run.json("consent", "grant", "--subject", subject, "--recipient", "treatment-provider:okana",
                          "--purpose", "treatment", "--category", "identity", "--notice-version", "v1")["consent_id"]
    printed = run("consent", "export", consent_id, "--format", "fhir-r5")
    assert json.loads(printed.stdout)["id"] == consent_id
    out = tmp_path / "consent.json"
    assert run("consent", "export", consent_id, "--out", str(out)).exit_code == 0
    imported = run.json("consent", "import", str(out))
    assert imported["status"] == "active" and imported["consent_id"] != consent_id
    hostile = {
        "not-json.json": b"{ this is not json",
        "patient.json": json.dumps({**json.loads(out.read_text()), "resourceType": "Patient"}).encode(),
        "nesting.json": b"[" * (10 * 1024 * 1024),
    }
    for name, content in hostile.items():
        (tmp_path / name).write_bytes(content)
        result = run("consent", "import", str(tmp_path / name))
        assert result.exit_code == 1, name
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("consentkit: error: ")
        assert "Traceback" not in result.output
    listed = run.json("consent", "list", "--subject", subject)
    assert len(listed) == 2

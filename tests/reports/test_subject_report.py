"""The subject access report: every GDPR Art. 15(1) item by content, the accounting with
overrides (restricted ones left out), consent history with receipts, deadlines,
third-party redaction, an erased subject, and the audit of every generation."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from consentkit.audit.events import AuditEvent
from consentkit.errors import InvalidInputError, PermissionDeniedError
from consentkit.reports.redaction import WITHHELD
from consentkit.storage.audit_log import AuditFilter
from tests.reports.conftest import THIRD_PARTY, World


def _model(world: World, subject: str, lang: str = "en") -> dict[str, Any]:
    return json.loads(world.sam.report_subject(subject, lang=lang, fmt="json").content)


def test_every_article_15_item_is_answered_by_content(world: World) -> None:
    r = _model(world, world.anna)
    assert r["subject"] == {"subject_id": world.anna, "jurisdiction": "eu-gdpr", "pack": r["subject"]["pack"],
                            "status": "active", "erased_on": None}
    held = {g["category"]: {i["label"]: i["value"] for i in g["items"]} for g in r["data_held"]}
    assert held["identity"]["Name"] == "Anna Example"  # decrypted
    assert held["identity"]["Date of birth"] == "4 May 1990"
    assert held["contact"]["Contact details"] == "+30 210 000 0000"
    assert {p["purpose"] for p in r["purposes"]} == {"treatment", "referral", "care-coordination", "emergency-care"}
    recipients = {p["recipient_type"]: p["disclosures"] for p in r["recipients"]}
    assert recipients == {"treatment-provider": 2, "healthcare": 1}
    assert r["retention"][0]["citation"] == "GDPR Art. 5(1)(e)"
    assert "to have data erased" in r["rights"] and "to complain to the supervisory authority" in r["rights"]
    assert r["authority"]["name"].startswith("The national data protection authority")
    assert "2 March 2026" in r["source_text"]
    assert "eu-gdpr@" in r["automated_text"]
    assert [i["code"] for i in r["gdpr_items"]] == list("abcdefgh")
    assert r["fz_items"] == []


def test_a_greek_report_is_greek_down_to_retention_and_an_unset_dpo(world: World) -> None:
    r = _model(world, world.nikos, lang="el")
    texts = [item["text"] for item in r["retention"]]
    assert any(t.startswith("Ιατρικά αρχεία") for t in texts), texts
    assert not any("Medical records" in t or "No longer than" in t for t in texts), texts
    assert r["dpo"] is None  # no DPO in the organisation configuration: the template says "(δεν έχει οριστεί)"
    html = world.sam.report_subject(world.nikos, lang="el", fmt="html").content
    assert "(δεν έχει οριστεί)" in html and "organisation configuration" not in html


def test_accounting_lists_each_disclosure_and_the_shown_override(world: World) -> None:
    r = _model(world, world.anna)
    rows = [(d["date"], d["recipient_type"], d["purpose"], d["categories"], d["basis"], d["decision"])
            for d in r["disclosures"]]
    assert rows == [
        ("2026-03-03", "treatment-provider", "referral", ["identity", "substance-use"], "consent", "permit"),
        ("2026-03-03", "treatment-provider", "referral", ["identity"], "consent", "partial"),
        ("2026-03-04", "healthcare", "emergency-care", ["identity", "health"], "override", "permit"),
    ]
    assert r["disclosures"][0]["recipient_id"] == "okana"
    assert r["disclosures"][2]["override"]["id"] == "vital-interests"
    assert r["disclosures"][2]["override"]["citation"].startswith("GDPR Art. 6(1)(d)")
    # the denied police request disclosed nothing and is not in the accounting
    assert "police" not in {d["recipient_type"] for d in r["disclosures"]}


def test_restricted_override_is_left_out_but_audited(world: World) -> None:
    r = _model(world, world.nikos, "el")
    assert r["disclosures"] == []
    assert r["recipients"] == []  # not even as a count
    english = json.dumps(_model(world, world.nikos, "en"), ensure_ascii=False)
    assert " 0 disclosures" in english or '"0 disclosures' in english  # the records count leaves it out too
    html = world.sam.report_subject(world.nikos, fmt="html").content
    assert "child-abuse-report" not in html and "prosecutor" not in html and "εισαγγελέας" not in html
    event = world.dora.audit_log(AuditFilter(subject_id=world.nikos, action="report.subject"))[-1]
    assert event.details["withheld"] == 1


def test_consents_with_history_receipts_and_redacted_reasons(world: World) -> None:
    r = _model(world, world.anna)
    first, second = r["consents"]
    assert first["consent_id"] == world.consent_id and first["receipt_ids"] == [world.receipt_id]
    assert first["status"] == "active" and [h["kind"] for h in first["history"]] == ["granted"]
    assert second["status"] == "withdrawn"
    withdrawn = second["history"][-1]
    assert withdrawn["kind"] == "withdrawn" and withdrawn["date"] == "2026-03-05"
    assert THIRD_PARTY not in json.dumps(r) and "Papadopoulou" not in json.dumps(r)
    assert "the client changed her mind" in withdrawn["reason"]
    assert "<PERSON>" in withdrawn["reason"]


def test_deadline_by_the_pack_clock(world: World) -> None:
    gdpr = _model(world, world.anna)["request"]
    assert gdpr["request_id"] == world.request_id
    assert (gdpr["received_on"], gdpr["due_on"]) == ("2026-03-02", "2026-04-02")
    assert gdpr["citation"] == "GDPR Art. 12(3)" and gdpr["rule_text"] == "1 month(s) from receipt"
    assert "2 June 2026" in gdpr["extension_text"]
    ru = _model(world, world.olga, "ru")
    # 10 working days after 12 January 2026 (a Monday): 26 January
    assert (ru["request"]["received_on"], ru["request"]["due_on"]) == ("2026-01-12", "2026-01-26")
    assert ru["request"]["due_text"] == "26 января 2026 г."
    assert [i["code"] for i in ru["fz_items"]] == [str(n) for n in range(1, 12)]


def test_received_date_without_a_registered_request(world: World) -> None:
    r = json.loads(world.sam.report_subject(world.eve, fmt="json", received=date(2026, 1, 31)).content)
    assert r["request"]["request_id"] is None
    assert r["request"]["due_on"] == "2026-03-02"  # 28 Feb is a Saturday: next working day (Reg. 1182/71)


def test_erased_subject_gets_a_clear_answer(world: World) -> None:
    r = _model(world, world.erased)
    assert r["subject"]["status"] == "erased" and r["subject"]["erased_on"] == "2026-03-05"
    assert r["erased_text"].startswith("Your personal data was erased on 5 March 2026")
    assert r["data_held"] == r["consents"] == r["disclosures"] == []
    html = world.sam.report_subject(world.erased, fmt="html", lang="sv").content
    assert "Dina personuppgifter har raderats" in html and "5 mars 2026" in html
    assert "Gone Person" not in html


def test_generation_is_audited_and_written_atomically(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "anna.html"
    report = world.sam.report_subject(world.anna, fmt="html", out=out)
    assert out.read_text("utf-8") == report.content
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in folder.iterdir()] == ["anna.html"]  # no temporary file left behind
    event = world.dora.audit_log(AuditFilter(subject_id=world.anna, action="report.subject"))[-1]
    assert event.seq == report.audit_id and event.actor == "sam"
    assert event.details["format"] == "html" and event.details["lang"] == "en"
    assert event.details["request"] == world.request_id


def test_failed_write_leaves_no_file_and_no_event(world: World, tmp_path: Path) -> None:
    before = len(world.dora.audit_log(AuditFilter(action="report.subject")))
    with pytest.raises(InvalidInputError, match="does not exist"):
        world.sam.report_subject(world.anna, fmt="html", out=tmp_path / "missing" / "x.html")
    assert len(world.dora.audit_log(AuditFilter(action="report.subject"))) == before


def test_caseworker_may_not_produce_a_subject_report(world: World) -> None:
    with pytest.raises(PermissionDeniedError, match=r"report\.subject"):
        world.cas.report_subject(world.anna)


def test_access_log_counts_uses_of_the_record(world: World) -> None:
    world.sam.subject(world.anna)
    world.sam.subject(world.anna)
    world.sam.append_event(AuditEvent("disclosure.override", world.anna))  # never shown as a use
    r = _model(world, world.anna)
    log = {a["action"]: a["count"] for a in r["access_log"]}
    assert log["subject.viewed"] == 2 and log["consent.receipt-issued"] == 1
    assert "disclosure.override" not in log


def test_free_text_is_withheld_when_the_detector_is_missing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "consentkit.pseudonym.detect", None)
    r = _model(world, world.anna)
    assert r["consents"][1]["history"][-1]["reason"] == WITHHELD
    assert "changed her mind" not in json.dumps(r)

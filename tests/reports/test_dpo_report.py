"""The DPO report: every section computed by the database for the period, checked by value."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from consentkit.audit.events import AuditEvent
from consentkit.errors import InvalidInputError, PermissionDeniedError
from consentkit.storage.audit_log import AuditFilter
from tests.reports.conftest import World

START, END = date(2026, 3, 1), date(2026, 3, 6)


def _model(world: World, org: Path | None = None, start: date = START, end: date = END) -> dict[str, Any]:
    return json.loads(world.dora.report_dpo(start, end, fmt="json", organisation=org).content)


def test_consents_by_purpose_and_jurisdiction(world: World) -> None:
    rows = {(c["jurisdiction"], c["purpose"]): (c["granted"], c["withdrawn"], c["revoked"])
            for c in _model(world)["consents"]}
    assert rows == {("eu-gdpr", "treatment"): (1, 0, 0), ("eu-gdpr", "referral"): (1, 0, 0),
                    ("eu-gdpr", "care-coordination"): (1, 1, 0), ("ru", "treatment"): (1, 0, 1),
                    ("se", "treatment"): (1, 0, 0)}


def test_disclosures_by_basis_and_denials(world: World) -> None:
    r = _model(world)
    basis = {(d["basis"], d["decision"], d["recipient_type"]): d["count"] for d in r["disclosures"]}
    assert basis == {("consent", "permit", "treatment-provider"): 3, ("consent", "partial", "treatment-provider"): 1,
                     ("override", "permit", "healthcare"): 1, ("override", "permit", "prosecutor"): 1}
    assert [(d["outcome"], d["purpose"], d["recipient_type"], d["count"]) for d in r["denials"]] == [
        ("deny", "law-enforcement", "police", 1), ("partial", "referral", "treatment-provider", 1)]


def test_every_override_with_justification_and_follow_up(world: World) -> None:
    world.dora.review_override(world.override_disclosure, outcome="justified", subject_informed=True)
    overrides = {o["override_id"]: o for o in _model(world)["overrides"]}
    shown, restricted = overrides["vital-interests"], overrides["child-abuse-report"]
    assert shown["justification"].startswith("collapsed in the office") and shown["actor"] == "cas"
    assert (shown["review_status"], shown["review_outcome"], shown["reviewed_by"]) == ("reviewed", "justified", "dora")
    assert shown["subject_informed"] and shown["informed_on"] == "2026-03-06"
    assert restricted["reference"] == "GR-2026-17" and restricted["mandatory"] and not restricted["subject_informed"]
    assert restricted["jurisdiction"] == "gr"


def test_access_request_register_with_due_and_overdue(world: World) -> None:
    requests = _model(world)["requests"]
    assert requests["counts"] == {"open": 2, "overdue": 1, "due_soon": 0, "closed": 0, "closed_late": 0}
    overdue = [r for r in requests["rows"] if r["overdue"]]
    assert [(r["subject_id"], r["deadline"]) for r in overdue] == [(world.olga, "2026-01-26")]
    world.sam.close_access_request(overdue[0]["request_id"])
    assert _model(world)["requests"]["counts"] == {"open": 1, "overdue": 0, "due_soon": 0, "closed": 1,
                                                   "closed_late": 1}


def test_erasures_holds_and_integrity(world: World) -> None:
    world.sam.checkpoint()
    r = _model(world)
    assert r["lifecycle"]["counts"] == {"erased": 1, "hold-placed": 1, "hold-released": 0, "erase-refused": 0}
    assert r["lifecycle"]["active_holds"] == 1
    assert r["lifecycle"]["erasures"] == [{"subject_id": world.erased, "date": "2026-03-05",
                                           "date_text": "5 March 2026", "ground": "request"}]
    integrity = r["integrity"]
    assert integrity["ok"] and integrity["damage_kind"] is None
    assert integrity["last_checkpoint"]["size"] == integrity["size"]
    assert len(integrity["root"]) == 64


def test_anomalies_above_thresholds_and_out_of_hours(world: World, org_file: Path) -> None:
    for _ in range(4):
        world.sam.append_event(AuditEvent("pseudonym.reidentified", details={"kind": "test"}))
    r = _model(world, org_file)["anomalies"]
    assert r["overrides"] == [{"actor": "cas", "count": 2}]  # threshold 0 in the organisation file
    assert r["reidentifications"] == [{"actor": "sam", "count": 4}]  # threshold 3
    # 22:30 UTC is 23:30 at UTC+01:00, outside 08-17: the two overrides of that evening
    assert r["out_of_hours"] == [{"actor": "cas", "count": 2}]
    defaults = _model(world)["anomalies"]
    assert defaults["overrides"] == [] and defaults["reidentifications"] == []


def test_retention_due_by_the_packs_rules(world: World) -> None:
    now = world.clock.current
    world.clock.current = datetime(2019, 6, 1, 9, 0, tzinfo=UTC)
    old = world.cas.add_subject(jurisdiction="se", name="Old File", birth_date=date(1960, 1, 1)).subject_id
    world.clock.current = now
    due = _model(world)["retention_due"]
    assert [(d["jurisdiction"], d["rule"], d["subjects"], d["sample"]) for d in due] == [
        ("se", "social-file-gallring", 1, [old])]
    assert due[0]["cutoff"] == "2021-03-06"


def test_weekly_trends(world: World) -> None:
    trends = _model(world)["trends"]
    assert trends["unit"] == "week" and trends["buckets"] == ["2026-02-23", "2026-03-02"]
    assert trends["series"] == {"granted": [0, 4], "withdrawn": [0, 2], "disclosed": [0, 6], "overrides": [0, 2],
                                "denied": [0, 1]}
    year = _model(world, start=date(2025, 3, 1), end=END)["trends"]
    assert year["unit"] == "month" and year["buckets"][0] == "2025-03-01" and year["series"]["granted"][-1] == 4


def test_period_is_inclusive_and_checked(world: World) -> None:
    assert _model(world, start=date(2026, 3, 5), end=date(2026, 3, 5))["consents"] == [
        {"jurisdiction": "eu-gdpr", "purpose": "care-coordination", "purpose_name": "care coordination", "granted": 0,
         "refused": 0, "withdrawn": 1, "revoked": 0, "expired": 0},
        {"jurisdiction": "ru", "purpose": "treatment", "purpose_name": "treatment", "granted": 0, "refused": 0,
         "withdrawn": 0, "revoked": 1, "expired": 0}]
    with pytest.raises(InvalidInputError, match="--to"):
        world.dora.report_dpo(END, START)


def test_only_the_dpo_and_audited(world: World) -> None:
    with pytest.raises(PermissionDeniedError, match=r"report\.dpo"):
        world.sam.report_dpo(START, END)
    report = world.dora.report_dpo(START, END, fmt="md", lang="el")
    event = world.dora.audit_log(AuditFilter(action="report.dpo"))[-1]
    assert event.seq == report.audit_id and event.actor == "dora"
    assert event.details["from"] == "2026-03-01" and event.details["to"] == "2026-03-06"
    assert event.details["format"] == "md" and event.details["lang"] == "el"

"""Decision scenarios as data: ``tests/scenarios/<pack>.yaml``.

Each scenario gives a subject, the consents (checked against the pack exactly as at grant
time, unless marked ``unchecked`` to model legacy data), a request and what must come out:
the decision, the permitted and denied categories with reason codes, the basis, obligations,
or the error a misuse must raise. See tests/scenarios/README.md for the format.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from consentkit import errors
from consentkit.clock import parse_instant
from consentkit.config import shipped_dir
from consentkit.consent.model import (
    CaptureContext,
    ConsentEvent,
    ConsentGrant,
    Effect,
    EventKind,
    Form,
    Grantor,
    RecipientRef,
    Scope,
)
from consentkit.consent.validate import check_grant
from consentkit.disclosure.decide import decide
from consentkit.disclosure.model import ConsentHistory, DisclosureRequest, SubjectFacts
from consentkit.policy import Pack, PackLibrary

HERE = Path(__file__).parent
LIBRARY = PackLibrary([shipped_dir("policies")])


def _load() -> list[Any]:
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        for scenario in data["scenarios"]:
            cases.append(pytest.param(data["jurisdiction"], scenario, id=f"{path.stem}: {scenario['name']}"))
    return cases


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return parse_instant(str(value))


def _grant(pack: Pack, spec: dict[str, Any], index: int) -> ConsentGrant:
    start = _time(spec.get("valid_from", "2026-01-01"))
    return ConsentGrant(
        consent_id=spec.get("id", f"c{index}"), subject_id="subject", jurisdiction=pack.id,
        effect=Effect(spec.get("effect", "permit")),
        scope=Scope(tuple(RecipientRef.parse(r) for r in spec["recipients"]), frozenset(spec["purposes"]),
                    frozenset(spec["categories"])),
        valid_from=start, valid_until=_time(spec["valid_until"]) if "valid_until" in spec else None,
        grantor=Grantor(spec.get("grantor", "self")), form=Form(spec.get("form", "written")),
        recorded_at=start, recorded_by="scenario", pack_ref=pack.ref, witness=spec.get("witness"),
        evidence_sha256=spec.get("evidence_sha256"), notice_version=spec.get("notice_version"),
        context=CaptureContext(), attested=frozenset(spec.get("attest", ())),
        irrevocable_until=_time(spec["irrevocable_until"]) if "irrevocable_until" in spec else None,
    )


def _histories(pack: Pack, specs: list[dict[str, Any]], born: date | None) -> list[ConsentHistory]:
    histories = []
    for index, spec in enumerate(specs):
        grant = _grant(pack, spec, index)
        refused = spec.get("grant_refused")
        if refused is not None:
            with pytest.raises(errors.ValidationError) as caught:
                check_grant(pack, grant, born)
            assert refused in str(caught.value), str(caught.value)
            continue
        if not spec.get("unchecked", False):
            check_grant(pack, grant, born)
        events = tuple(ConsentEvent(grant.consent_id, EventKind(e["kind"]), _time(e["at"]), "scenario",
                                    by=e.get("by")) for e in spec.get("events", ()))
        histories.append(ConsentHistory(grant, events))
    return histories


def _request(spec: dict[str, Any]) -> DisclosureRequest:
    recipient = RecipientRef.parse(spec["recipient"])
    return DisclosureRequest(
        subject_id="subject", recipient_type=recipient.type, recipient_id=recipient.id, purpose=spec["purpose"],
        categories=tuple(spec["categories"]), at=_time(spec.get("at", "2026-03-01")), actor="scenario",
        override=spec.get("override"), justification=spec.get("justification"), reference=spec.get("reference"),
        approver=spec.get("approver"), actor_roles=frozenset(spec.get("roles", ("caseworker",))))


@pytest.mark.parametrize(("jurisdiction", "scenario"), _load())
def test_scenario(jurisdiction: str, scenario: dict[str, Any]) -> None:
    pack = LIBRARY.get(jurisdiction)
    subject = scenario.get("subject", {})
    born = subject.get("birth_date")
    histories = _histories(pack, scenario.get("consents", []), born)
    request = _request(scenario["request"])
    expect = scenario["expect"]
    if "error" in expect:
        with pytest.raises(getattr(errors, expect["error"])) as caught:
            decide(request, SubjectFacts("subject", pack.id, born), histories, pack)
        assert expect.get("match", "") in str(caught.value)
        return
    decision = decide(request, SubjectFacts("subject", pack.id, born), histories, pack, explain=True)
    trace = "\n".join(decision.trace)
    assert decision.decision.value == expect["decision"], trace
    if "permitted" in expect:
        assert sorted(decision.permitted) == sorted(expect["permitted"]), trace
    if "denied" in expect:
        assert {c: d.reason.value for c, d in decision.denied.items()} == expect["denied"], trace
    if "basis" in expect:
        assert list(decision.basis.consent_ids) == expect["basis"]
    if "override" in expect:
        assert decision.basis.override == expect["override"]
    for obligation in expect.get("obligations", ()):
        assert obligation in {o.id for o in decision.obligations}, [o.id for o in decision.obligations]
    if "mandatory" in expect:
        assert decision.mandatory is expect["mandatory"]


def test_every_pack_has_at_least_eight_scenarios() -> None:
    counts = {path.stem: len(yaml.safe_load(path.read_text("utf-8"))["scenarios"]) for path in HERE.glob("*.yaml")}
    assert counts, "no scenario files"
    for pack_id in LIBRARY.ids():
        assert counts.get(pack_id, 0) >= 8, f"pack {pack_id} has {counts.get(pack_id, 0)} scenarios"

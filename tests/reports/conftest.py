"""A populated installation for the report tests: four jurisdictions, consents with history
and receipts, disclosures (with a shown and a restricted override), a denial, an open
subject-access request, an erasure, a legal hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit
from consentkit.types import Role

HOSTILE_NAME = "Eve <script>alert(1)</script> {{ 7*7 }} [x](javascript:1)"
THIRD_PARTY = "Maria Papadopoulou"


@dataclass
class World:
    """The actors and the ids the tests look for."""

    kit: ConsentKit
    cas: ConsentKit
    sam: ConsentKit
    dora: ConsentKit
    clock: FixedClock
    anna: str  # eu-gdpr: consents, withdrawal with a third party in the reason, a shown override
    nikos: str  # gr: a restricted override (child-abuse report)
    olga: str  # ru: 152-FZ items, working-day deadline
    eve: str  # se: hostile name
    erased: str
    consent_id: str
    receipt_id: str
    request_id: str
    override_disclosure: str
    restricted_disclosure: str


ORG_YAML = """\
controller:
  name: Municipality of Example, social services
  address: 1 Example Street
  email: dpo@example.invalid
dpo: {name: Dana Protector, email: dpo@example.invalid}
holidays: [2026-04-03, 2026-04-06]
office_hours: {start: 8, end: 17, utc_offset_minutes: 60, weekdays_only: true}
anomalies: {overrides_per_actor: 0, reidentifications_per_actor: 3}
security_measures: [Staff trained yearly]
activities:
  - id: addiction-care
    name: Addiction care case files
    jurisdiction: se
    purposes: [treatment, care-coordination]
    data_subjects: [clients, relatives]
    categories: [identity, contact, substance-use]
    recipients: [treatment-provider, healthcare]
    retention: Five years after the last entry.
    transfers: [{country: Norway, safeguard: "adequacy decision (EEA)"}]
"""


@pytest.fixture
def org_file(tmp_path: Path) -> Path:
    path = tmp_path / "organisation.yaml"
    path.write_text(ORG_YAML, "utf-8")
    return path


@pytest.fixture
def world(kit: ConsentKit, open_as: Callable[[str], ConsentKit], clock: FixedClock) -> World:
    for actor, role in (("cas", Role.CASEWORKER), ("sam", Role.SUPERVISOR), ("dora", Role.DPO)):
        kit.add_actor(actor, [role])
    cas, sam, dora = open_as("cas"), open_as("sam"), open_as("dora")
    clock.current = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    anna = cas.add_subject(jurisdiction="eu-gdpr", name="Anna Example", birth_date=date(1990, 5, 4),
                           contact="+30 210 000 0000").subject_id
    nikos = cas.add_subject(jurisdiction="gr", name="Nikos Example", birth_date=date(1988, 1, 2),
                            language="el").subject_id
    olga = cas.add_subject(jurisdiction="ru", name="Ольга Пример", birth_date=date(1985, 7, 8),
                           language="ru").subject_id
    eve = cas.add_subject(jurisdiction="se", name=HOSTILE_NAME, birth_date=date(1992, 2, 3),
                          language="sv").subject_id
    erased = cas.add_subject(jurisdiction="se", name="Gone Person", birth_date=date(1970, 1, 1)).subject_id
    scope = {"recipients": ["treatment-provider"], "purposes": ["treatment", "referral"],
             "categories": ["identity", "substance-use"], "notice_version": "2026-01"}
    consent_id = cas.grant_consent(anna, witness=THIRD_PARTY, **scope).grant.consent_id  # type: ignore[arg-type]
    clock.current = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # consents list in the order they were recorded
    second = cas.grant_consent(anna, recipients=["healthcare"], purposes=["care-coordination"],
                               categories=["identity", "health"], notice_version="2026-01").grant.consent_id
    receipt_id = cas.consent_receipt(consent_id).receipt_id
    cas.grant_consent(eve, recipients=["treatment-provider"], purposes=["treatment"], categories=["identity"],
                      notice_version="2026-01")
    olga_consent = cas.grant_consent(olga, recipients=["treatment-provider"], purposes=["treatment"],
                                     categories=["identity", "contact"], form="written", notice_version="2026-01",
                                     valid_until=datetime(2026, 12, 31, tzinfo=UTC))
    clock.current = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    cas.check(anna, recipient="treatment-provider:okana", purpose="referral", categories=["identity", "substance-use"])
    cas.check(anna, recipient="treatment-provider", purpose="referral", categories=["identity", "health"])
    cas.check(anna, recipient="police", purpose="law-enforcement", categories=["identity"])
    cas.check(olga, recipient="treatment-provider", purpose="treatment", categories=["identity"])
    cas.check(eve, recipient="treatment-provider", purpose="treatment", categories=["identity"])
    clock.current = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)  # out of office hours
    shown = cas.check(anna, recipient="healthcare", purpose="emergency-care", categories=["identity", "health"],
                      override="vital-interests", justification=f"collapsed in the office; {THIRD_PARTY} called 112")
    restricted = cas.check(nikos, recipient="prosecutor", purpose="child-protection", categories=["identity"],
                           override="child-abuse-report", justification="suspected neglect of a child",
                           reference="GR-2026-17")
    clock.current = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    cas.withdraw_consent(second, reason=f"After talking with {THIRD_PARTY} the client changed her mind")
    cas.revoke_consent(olga_consent.grant.consent_id, reason="законный представитель отозвал", by="representative",
                       form="written")
    sam.hold_subject(nikos, reason="pending court case")
    sam.erase_subject(erased)
    request_id = sam.open_access_request(anna, received=date(2026, 3, 2)).request_id
    sam.open_access_request(olga, received=date(2026, 1, 12))  # overdue by 5 March
    clock.current = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    assert shown.disclosure_id and restricted.disclosure_id
    return World(kit, cas, sam, dora, clock, anna, nikos, olga, eve, erased, consent_id, receipt_id, request_id,
                 shown.disclosure_id, restricted.disclosure_id)

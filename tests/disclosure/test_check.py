"""``kit.check`` end to end on SQLite and PostgreSQL: decisions, recording, overrides, review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from consentkit.clock import FixedClock
from consentkit.disclosure.model import OUTWARD_DENIAL
from consentkit.errors import (
    ErasedError,
    InvalidInputError,
    NotFoundError,
    OperationRefusedError,
    PermissionDeniedError,
)
from consentkit.kit import ConsentKit
from consentkit.kit._disclosure import CheckRequest
from consentkit.types import Role


@pytest.fixture
def staff(kit: ConsentKit, open_as: Callable[[str], ConsentKit]) -> dict[str, ConsentKit]:
    for actor, role in (("cas", Role.CASEWORKER), ("sam", Role.SUPERVISOR), ("dora", Role.DPO), ("dan", Role.DPO)):
        kit.add_actor(actor, [role])
    return {actor: open_as(actor) for actor in ("cas", "sam", "dora", "dan")}


def _client(kit: ConsentKit) -> str:
    return kit.add_subject(jurisdiction="eu-gdpr", name="Anna Test", birth_date=date(1995, 4, 1)).subject_id


def _grant(kit: ConsentKit, subject_id: str, **extra: object) -> str:
    fields: dict[str, object] = {"recipients": ["treatment-provider"], "purposes": ["treatment", "referral"],
                                 "categories": ["identity", "substance-use"], "notice_version": "2026-01"}
    fields.update(extra)
    return kit.grant_consent(subject_id, **fields).grant.consent_id  # type: ignore[arg-type]


def test_permit_partial_and_recorded(staff: dict[str, ConsentKit]) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    consent_id = _grant(cas, subject)
    permit = cas.check(subject, recipient="treatment-provider:okana", purpose="referral",
                       categories=["identity", "substance-use"])
    assert permit.decision.value == "permit"
    assert permit.basis.consent_ids == (consent_id,)
    assert permit.disclosure_id is not None and permit.audit_id is not None
    partial = cas.check(subject, recipient="treatment-provider", purpose="referral", categories=["identity", "health"])
    assert partial.decision.value == "partial"
    assert {c: d.reason.value for c, d in partial.denied.items()} == {"health": "out-of-scope"}
    accounting = cas.disclosures(subject)
    assert [d.categories for d in accounting] == [("identity", "substance-use"), ("identity",)]


def test_withdrawal_lists_recipients_and_is_honoured(staff: dict[str, ConsentKit], clock: FixedClock) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    consent_id = _grant(cas, subject)
    cas.check(subject, recipient="treatment-provider:okana", purpose="treatment", categories=["identity"])
    clock.advance(days=2)
    result = cas.withdraw_consent(consent_id, reason="client changed their mind")
    assert [r["recipient_id"] for r in result.recipients_to_tell] == ["okana"]
    after = cas.check(subject, recipient="treatment-provider:okana", purpose="treatment", categories=["identity"])
    assert after.denied["identity"].reason.value == "withdrawn"
    before = cas.check(subject, recipient="treatment-provider:okana", purpose="treatment", categories=["identity"],
                       at=datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert before.decision.value == "permit"
    assert before.disclosure_id is None  # an inquiry about the past is not a disclosure
    with pytest.raises(OperationRefusedError, match="withdrawn"):
        cas.withdraw_consent(consent_id, reason="again")


def test_withdrawal_names_only_recipients_of_disclosures_resting_on_that_consent(
        staff: dict[str, ConsentKit], clock: FixedClock) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    relied_on = _grant(cas, subject)
    other = _grant(cas, subject, recipients=["family-member"], purposes=["family-support"])
    cas.check(subject, recipient="treatment-provider:okana", purpose="treatment", categories=["identity"])
    clock.advance(days=1)
    assert cas.withdraw_consent(other, reason="no longer wanted").recipients_to_tell == ()
    told = cas.withdraw_consent(relied_on, reason="no longer wanted").recipients_to_tell
    assert [r["recipient_id"] for r in told] == ["okana"]


def test_refusal_beats_permit(staff: dict[str, ConsentKit]) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    _grant(cas, subject)
    _grant(cas, subject, categories=["substance-use"], refuse=True)
    decision = cas.check(subject, recipient="treatment-provider", purpose="treatment",
                         categories=["identity", "substance-use"])
    assert decision.permitted == ("identity",)
    assert decision.denied["substance-use"].reason.value == "refused"


def test_a_refusal_of_one_recipient_covers_a_request_that_does_not_name_one(staff: dict[str, ConsentKit]) -> None:
    # "Never to this clinic" must not be defeated by a caller that leaves the clinic's id out.
    cas = staff["cas"]
    subject = _client(cas)
    _grant(cas, subject)
    _grant(cas, subject, recipients=["treatment-provider:clinic-a"], categories=["substance-use"], refuse=True)
    unnamed = cas.check(subject, recipient="treatment-provider", purpose="treatment",
                        categories=["identity", "substance-use"])
    assert unnamed.permitted == ("identity",) and unnamed.denied["substance-use"].reason.value == "refused"
    named = cas.check(subject, recipient="treatment-provider:clinic-a", purpose="treatment",
                      categories=["substance-use"])
    assert named.denied["substance-use"].reason.value == "refused"
    other = cas.check(subject, recipient="treatment-provider:clinic-b", purpose="treatment",
                      categories=["identity", "substance-use"])
    assert other.permitted == ("identity", "substance-use")
    # A permit naming one recipient still covers only requests that name it.
    only_a = _client(cas)
    _grant(cas, only_a, recipients=["treatment-provider:clinic-a"])
    assert cas.check(only_a, recipient="treatment-provider", purpose="treatment",
                     categories=["identity"]).permitted == ()


def test_unknown_vocabulary_is_an_error(staff: dict[str, ConsentKit]) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    with pytest.raises(InvalidInputError, match="--purpose"):
        cas.check(subject, recipient="treatment-provider", purpose="marketing", categories=["identity"])
    with pytest.raises(InvalidInputError, match="--category"):
        cas.check(subject, recipient="treatment-provider", purpose="treatment", categories=["shoe-size"])
    with pytest.raises(InvalidInputError, match="--override"):
        cas.check(subject, recipient="healthcare", purpose="emergency-care", categories=["identity"],
                  override="no-such-override", justification="x" * 20)


def test_an_override_cannot_be_asked_about_another_time(staff: dict[str, ConsentKit]) -> None:
    # A permit from an override at --at would carry a review obligation that no queue holds.
    cas = staff["cas"]
    subject = _client(cas)
    for at in (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)):
        with pytest.raises(InvalidInputError, match="--at: an override is used now"):
            cas.check(subject, recipient="healthcare", purpose="emergency-care", categories=["identity"],
                      override="vital-interests", justification="collapsed in the waiting room", at=at)
    assert staff["dora"].override_uses() == []


@pytest.mark.parametrize("field", ["recipient", "purpose", "category", "override"])
def test_an_unknown_value_that_is_not_a_term_is_not_repeated(staff: dict[str, ConsentKit], field: str) -> None:
    # Typed in the wrong field, a name or a note must not travel on in an error message.
    cas = staff["cas"]
    subject = _client(cas)
    typed = "Karin Berg 990416-8656"
    request: dict[str, object] = {"recipient": "healthcare", "purpose": "emergency-care", "categories": ["identity"]}
    request["categories" if field == "category" else field] = [typed] if field == "category" else typed
    if field == "override":
        request["justification"] = "collapsed in the waiting room"
    with pytest.raises(InvalidInputError, match=f"--{field}: 1 value not shown") as raised:
        cas.check(subject, **request)  # type: ignore[arg-type]
    assert "Karin" not in str(raised.value) and "8656" not in str(raised.value)
    with pytest.raises(InvalidInputError, match=f"--{field}: shoe-size"):  # a mistyped term is named
        request["categories" if field == "category" else field] = ["shoe-size"] if field == "category" \
            else "shoe-size"
        cas.check(subject, **request)  # type: ignore[arg-type]


def test_override_rules(staff: dict[str, ConsentKit]) -> None:
    cas, sam = staff["cas"], staff["sam"]
    subject = _client(cas)
    with pytest.raises(InvalidInputError, match="--justification"):
        cas.check(subject, recipient="healthcare", purpose="emergency-care", categories=["identity"],
                  override="vital-interests")
    with pytest.raises(PermissionDeniedError, match="may not use override legal-obligation"):
        cas.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity"],
                  override="legal-obligation", justification="court order 2026/17 received", reference="2026/17")
    with pytest.raises(InvalidInputError, match="--reference"):
        sam.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity"],
                  override="legal-obligation", justification="court order received today")
    ok = sam.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity", "health"],
                   override="legal-obligation", justification="court order received today", reference="2026/17")
    assert ok.permitted == ("identity",) and ok.mandatory
    assert ok.denied["health"].reason.value == "override-minimum"


def test_break_glass_review_queue(staff: dict[str, ConsentKit]) -> None:
    cas, dora = staff["cas"], staff["dora"]
    subject = _client(cas)
    decision = cas.check(subject, recipient="healthcare", purpose="emergency-care", categories=["identity", "health"],
                         override="vital-interests", justification="unconscious after an overdose at the office")
    assert decision.review_by is not None
    queue = dora.override_uses()
    assert [u.disclosure_id for u in queue] == [decision.disclosure_id]
    assert dora.override_details(queue[0])["justification"].startswith("unconscious")  # type: ignore[union-attr]
    with pytest.raises(PermissionDeniedError):
        cas.override_uses()
    dora.review_override(decision.disclosure_id or "", outcome="justified", subject_informed=True)
    assert dora.override_uses() == []


def test_approver_must_be_someone_else_with_authority(staff: dict[str, ConsentKit]) -> None:
    sam = staff["sam"]
    subject = _client(sam)
    with pytest.raises(InvalidInputError, match="someone other than you"):
        sam.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity"],
                  override="legal-obligation", justification="court order received", reference="1", approver="sam")
    with pytest.raises(InvalidInputError, match="not a registered supervisor"):
        sam.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity"],
                  override="legal-obligation", justification="court order received", reference="1", approver="cas")


def test_the_approver_of_an_override_may_not_review_it(staff: dict[str, ConsentKit]) -> None:
    sam = staff["sam"]
    subject = _client(sam)
    used = sam.check(subject, recipient="court", purpose="legal-proceedings", categories=["identity"],
                     override="legal-obligation", justification="court order received", reference="1",
                     approver="dora")
    assert used.disclosure_id is not None
    with pytest.raises(OperationRefusedError, match="you approved this override"):
        staff["dora"].review_override(used.disclosure_id, outcome="justified")
    staff["dan"].review_override(used.disclosure_id, outcome="justified")


def test_outward_answer_is_identical_for_no_subject_and_no_consent(staff: dict[str, ConsentKit]) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    no_consent = cas.check_outward(subject, recipient="police", purpose="treatment", categories=["identity"])
    no_subject = cas.check_outward("3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b", recipient="police",
                                   purpose="treatment", categories=["identity"])
    assert no_consent == no_subject == OUTWARD_DENIAL


def test_unknown_and_erased_subjects_are_errors_for_staff(staff: dict[str, ConsentKit], kit: ConsentKit) -> None:
    cas = staff["cas"]
    with pytest.raises(NotFoundError):
        cas.check("3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b", recipient="healthcare", purpose="treatment",
                  categories=["identity"])
    subject = _client(cas)
    kit.erase_subject(subject)
    with pytest.raises(ErasedError):
        cas.check(subject, recipient="healthcare", purpose="treatment", categories=["identity"])


def test_check_many(staff: dict[str, ConsentKit]) -> None:
    cas = staff["cas"]
    subjects = [_client(cas) for _ in range(3)]
    _grant(cas, subjects[0])
    batch = [CheckRequest(s, "treatment-provider", "treatment", ("identity",)) for s in subjects * 2]
    decisions = cas.check_many(batch)
    assert [d.decision.value for d in decisions] == ["permit", "deny", "deny"] * 2
    assert len({d.audit_id for d in decisions}) == 6


def test_every_check_is_audited_atomically(staff: dict[str, ConsentKit], kit: ConsentKit) -> None:
    cas = staff["cas"]
    subject = _client(cas)
    before = kit.verify_audit().size
    cas.check(subject, recipient="treatment-provider", purpose="treatment", categories=["identity"])
    with pytest.raises(InvalidInputError):
        cas.check(subject, recipient="treatment-provider", purpose="nope", categories=["identity"])
    result = kit.verify_audit()
    assert result.ok and result.size == before + 1

"""Consents through the library, per jurisdiction (gr, se, ru, kz, us-42cfr2), on SQLite and PostgreSQL.

For each pack: a valid consent is accepted; one missing a required element is refused with every
missing element and its citation; a minor below the self-consent age needs a guardian; withdrawal
works forward only (state at a time before and after it); irrevocable-until is honoured where the
pack allows it and refused at grant time where it does not; a consent expires at its end date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from consentkit.clock import FixedClock
from consentkit.consent.state import birthday_of_age
from consentkit.errors import OperationRefusedError, ValidationError
from consentkit.kit import ConsentKit

EVIDENCE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
END = datetime(2026, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class Profile:
    """What a valid consent looks like in one pack, and what the pack says about it."""

    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    attest: tuple[str, ...]
    missing: dict[str, str]  # element left out -> a fragment of its citation (none in gr and se)
    self_consent_age: int
    at_self_consent_age: str  # lapse | reaffirm
    irrevocable_citation: str  # the pack's consent.irrevocable citation
    irrevocable_allowed: bool
    withdrawal_in_writing: bool = False


PROFILES = {
    "gr": Profile(
        # care-coordination: outside the minors' rules, so the pack's self-consent age (15) shows
        recipients=("treatment-provider:okana-athens",), purposes=("care-coordination",), attest=(),
        missing={}, self_consent_age=15, at_self_consent_age="reaffirm",
        irrevocable_citation="GDPR Art. 7(3)", irrevocable_allowed=False),
    "se": Profile(
        recipients=("healthcare:region-jamtland-harjedalen",), purposes=("care-coordination",), attest=(),
        missing={}, self_consent_age=15, at_self_consent_age="lapse",
        irrevocable_citation="GDPR Art. 7(3)", irrevocable_allowed=False),
    "ru": Profile(
        recipients=("treatment-provider:novgorod-narcology",), purposes=("referral",),
        attest=("identity-document", "operator", "processor", "actions", "withdrawal-method", "signature"),
        missing={"validity": "152-FZ art. 9(4)(8)", "signature": "152-FZ art. 10(2)(1)"},
        self_consent_age=15, at_self_consent_age="reaffirm", irrevocable_citation="152-FZ art. 9(2)",
        irrevocable_allowed=False),
    "kz": Profile(
        recipients=("treatment-provider:narkostop-almaty",), purposes=("referral",),
        attest=("operator", "third-party-transfer", "cross-border", "public-dissemination"),
        missing={"cross-border": "Law 94-V art. 8(4)(5)", "public-dissemination": "Law 94-V art. 8(4)(6)",
                 "validity": "Law 94-V art. 8(4)(3)"},
        self_consent_age=18, at_self_consent_age="reaffirm", irrevocable_citation="Law 94-V art. 8(2)",
        irrevocable_allowed=True),
    "us-42cfr2": Profile(
        recipients=("treatment-provider:county-otp",), purposes=("care-coordination",),
        attest=("authorised-discloser", "withdrawal-method", "signature", "signature-date",
                "redisclosure-statement", "refusal-consequences"),
        missing={"redisclosure-statement": "42 CFR 2.31(a)(4), (10)", "signature-date": "42 CFR 2.31(a)(9)",
                 "validity": "42 CFR 2.31(a)(7)"},
        self_consent_age=18, at_self_consent_age="lapse", irrevocable_citation="42 CFR 2.35",
        irrevocable_allowed=True, withdrawal_in_writing=True),
}
PACKS = list(PROFILES)


def _fields(pack: str, *, without: frozenset[str] = frozenset(), **extra: Any) -> dict[str, Any]:
    """grant_consent keyword arguments for a consent that passes ``pack``, minus ``without``."""
    profile = PROFILES[pack]
    fields: dict[str, Any] = {
        "recipients": list(profile.recipients), "purposes": list(profile.purposes),
        "categories": ["identity", "substance-use"], "form": "written", "evidence_sha256": EVIDENCE,
        "valid_until": None if "validity" in without else END,
        "notice_version": None if "notice" in without else "2026-01",
        "attest": [a for a in profile.attest if a not in without],
    }
    fields.update(extra)
    return fields


def _subject(kit: ConsentKit, pack: str, born: date = date(1990, 5, 17)) -> str:
    return kit.add_subject(jurisdiction=pack, name="Test Client", birth_date=born).subject_id


def _withdraw(kit: ConsentKit, pack: str, consent_id: str, *, any_form: str | None = None) -> None:
    """Withdraw in writing where the pack demands it, otherwise in ``any_form`` (None: not recorded)."""
    form = "written" if PROFILES[pack].withdrawal_in_writing else any_form
    kit.withdraw_consent(consent_id, reason="the client asked", form=form)


def _status(kit: ConsentKit, subject: str, at: datetime | None = None) -> list[str]:
    return [view.state.status.value for view in kit.consents(subject, at=at)]


@pytest.mark.parametrize("pack", PACKS)
def test_valid_consent_is_accepted(kit: ConsentKit, pack: str) -> None:
    subject = _subject(kit, pack)
    view = kit.grant_consent(subject, **_fields(pack))
    assert view.state.status.value == "active"
    [stored] = kit.consents(subject)
    assert stored.grant.consent_id == view.grant.consent_id
    assert stored.state.status.value == "active"
    assert stored.grant.pack_ref.startswith(f"{pack}@")
    assert stored.grant.attested == frozenset(PROFILES[pack].attest)
    assert stored.grant.valid_until == END


@pytest.mark.parametrize("pack", [p for p in PACKS if PROFILES[p].missing])
def test_missing_required_elements_are_listed_with_their_citations(kit: ConsentKit, pack: str) -> None:
    subject = _subject(kit, pack)
    missing = PROFILES[pack].missing
    with pytest.raises(ValidationError) as caught:
        kit.grant_consent(subject, **_fields(pack, without=frozenset(missing)))
    problems = caught.value.problems
    for element, citation in missing.items():
        named = [p for p in problems if p.startswith(f"missing element {element} (")]
        assert len(named) == 1, problems
        assert citation in named[0], named[0]
        # ... and says how to give it: an option of `consent grant`
        assert named[0].endswith("give --valid-until D" if element == "validity" else
                                 f"give --attest {element} when the signed form states it"), named[0]
    assert len(problems) == len(missing), problems
    assert kit.consents(subject) == []


@pytest.mark.parametrize("pack", [p for p in PACKS if not PROFILES[p].missing])
def test_packs_without_statutory_elements_take_the_scope_alone(kit: ConsentKit, pack: str) -> None:
    """GDPR-based packs (gr, se) name no element beyond the scope: a consent with only recipients,
    purposes and categories, no notice version, no evidence, no validity, is accepted."""
    subject, profile = _subject(kit, pack), PROFILES[pack]
    view = kit.grant_consent(subject, recipients=list(profile.recipients), purposes=list(profile.purposes),
                             categories=["identity"])
    assert view.state.status.value == "active"
    assert view.grant.notice_version is None


@pytest.mark.parametrize("pack", PACKS)
def test_a_minor_cannot_consent_by_dating_the_consent_after_their_birthday(kit: ConsentKit, pack: str) -> None:
    # Who may give a consent is decided on the day it is given, not the day it starts.
    profile = PROFILES[pack]
    born = date(2026 - profile.self_consent_age, 9, 9)  # one year short on the clock's 2026-03-02
    subject = _subject(kit, pack, born)
    comes_of_age = datetime.combine(birthday_of_age(born, profile.self_consent_age), datetime.min.time(), UTC)
    later = comes_of_age + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        kit.grant_consent(subject, **_fields(pack, categories=["identity", "contact"], valid_from=later,
                                             valid_until=later + timedelta(days=300)))
    assert any(p.startswith("guardian-required") for p in caught.value.problems), caught.value.problems
    assert kit.consents(subject) == []


@pytest.mark.parametrize("pack", PACKS)
def test_a_guardian_cannot_consent_for_an_adult_by_backdating_the_consent(kit: ConsentKit, pack: str) -> None:
    # A form dated to the client's childhood is still handed in by a guardian for an adult.
    profile = PROFILES[pack]
    born = date(2026 - profile.self_consent_age - 6, 9, 9)  # an adult on the clock's 2026-03-02
    subject = _subject(kit, pack, born)
    childhood = datetime(born.year + 2, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError) as caught:
        kit.grant_consent(subject, **_fields(pack, categories=["identity", "contact"], grantor="guardian",
                                             grantor_name="Parent Test", valid_from=childhood))
    assert any(p.startswith("grantor: ") for p in caught.value.problems), caught.value.problems
    assert kit.consents(subject) == []


@pytest.mark.parametrize("pack", PACKS)
def test_minor_needs_a_guardian(kit: ConsentKit, pack: str) -> None:
    profile = PROFILES[pack]
    age = profile.self_consent_age - 1
    born = date(2026 - age - 1, 9, 9)  # ``age`` on the clock's 2026-03-02
    subject = _subject(kit, pack, born)
    ordinary = ["identity", "contact"]
    with pytest.raises(ValidationError) as caught:
        kit.grant_consent(subject, **_fields(pack, categories=ordinary))
    assert any(p.startswith("guardian-required: the client is below the self-consent age "
                            f"{profile.self_consent_age}") for p in caught.value.problems), caught.value.problems
    assert kit.consents(subject) == []

    view = kit.grant_consent(subject, **_fields(pack, categories=ordinary, grantor="guardian",
                                                grantor_name="Parent Test"))
    assert view.state.status.value == "active"
    comes_of_age = datetime.combine(birthday_of_age(born, profile.self_consent_age), datetime.min.time(), UTC)
    [before] = kit.consents(subject, at=comes_of_age - timedelta(days=1))
    assert (before.state.status.value, before.state.reaffirm_needed) == ("active", False)
    [after] = kit.consents(subject, at=comes_of_age + timedelta(days=1))
    if profile.at_self_consent_age == "lapse":
        assert after.state.status.value == "lapsed"
    else:
        assert (after.state.status.value, after.state.reaffirm_needed) == ("active", True)

    kit.revoke_consent(view.grant.consent_id, reason="the parent changed their mind", by="guardian", form="written")
    [revoked] = kit.consents(subject)
    assert revoked.state.status.value == "revoked"
    assert [(e.kind.value, e.by) for e in revoked.events] == [("revoked", "guardian")]


@pytest.mark.parametrize("pack", PACKS)
def test_a_guardian_cannot_revoke_the_consent_of_a_client_of_age(kit: ConsentKit, pack: str) -> None:
    subject = _subject(kit, pack)  # born 1990
    consent_id = kit.grant_consent(subject, **_fields(pack)).grant.consent_id
    with pytest.raises(OperationRefusedError, match="a guardian cannot revoke it"):
        kit.revoke_consent(consent_id, reason="the mother objects", by="guardian", form="written")
    ended = kit.revoke_consent(consent_id, reason="court order 2026/41", by="court", form="written")
    assert ended.kind == "revoked"


@pytest.mark.parametrize("pack", [p for p in PACKS if PROFILES[p].at_self_consent_age == "reaffirm"])
def test_only_a_client_of_age_reaffirms(kit: ConsentKit, clock: FixedClock, pack: str) -> None:
    """Re-affirmation is the client's own word: refused while a guardian must still consent for them."""
    profile = PROFILES[pack]
    born = date(2026 - profile.self_consent_age, 9, 9)  # one short of the age on the clock's 2026-03-02
    subject = _subject(kit, pack, born)
    consent_id = kit.grant_consent(subject, **_fields(pack, categories=["identity", "contact"], grantor="guardian",
                                                      grantor_name="Parent Test")).grant.consent_id
    with pytest.raises(OperationRefusedError, match=f"below {profile.self_consent_age}, the age from which"):
        kit.reaffirm_consent(consent_id)
    clock.advance(days=200)  # past the birthday
    [due] = kit.consents(subject)
    assert due.state.reaffirm_needed
    assert not kit.reaffirm_consent(consent_id).state.reaffirm_needed


@pytest.mark.parametrize(("pack", "categories", "purposes", "rule", "citation"), [
    ("gr", ["identity", "criminal-justice"], None, "okana-minor-guardian", "OKANA Immediate Social Intervention"),
    ("gr", ["identity", "substance-use"], ["referral"], "okana-minor-referral", "OKANA Immediate Social Intervention"),
    ("ru", ["identity", "substance-use"], None, "narcological-minor-guardian", "3-FZ art. 54(2)"),
])
def test_sixteen_year_old_needs_a_guardian_under_a_pack_rule(
        kit: ConsentKit, pack: str, categories: list[str], purposes: list[str] | None, rule: str,
        citation: str) -> None:
    subject = _subject(kit, pack, date(2009, 8, 20))  # 16: above the self-consent age 15, below 18
    scope = {"categories": categories, **({"purposes": purposes} if purposes else {})}
    with pytest.raises(ValidationError) as caught:
        kit.grant_consent(subject, **_fields(pack, **scope))
    [problem] = caught.value.problems
    assert problem.startswith(f"grantor: self may not give this consent; it needs guardian or representative ({rule})")
    assert citation in problem
    view = kit.grant_consent(subject, **_fields(pack, **scope, grantor="guardian"))
    assert view.state.status.value == "active"
    # Outside the rule the 16-year-old consents alone.
    alone = kit.grant_consent(subject, **_fields(pack, categories=["identity", "contact"]))
    assert alone.state.status.value == "active"


@pytest.mark.parametrize("pack", PACKS)
def test_withdrawal_is_forward_only(kit: ConsentKit, clock: FixedClock, pack: str) -> None:
    subject = _subject(kit, pack)
    granted_at = clock.now()
    consent_id = kit.grant_consent(subject, **_fields(pack)).grant.consent_id
    clock.advance(days=3)
    _withdraw(kit, pack, consent_id, any_form="verbal")  # gr, se, ru, kz: withdrawal in any form
    assert _status(kit, subject, granted_at - timedelta(hours=1)) == ["not-yet-valid"]
    assert _status(kit, subject, granted_at + timedelta(days=1)) == ["active"]
    assert _status(kit, subject) == ["withdrawn"]
    assert _status(kit, subject, clock.now() + timedelta(days=30)) == ["withdrawn"]
    [view] = kit.consents(subject)
    assert [(e.kind.value, e.at, e.by) for e in view.events] == [("withdrawn", clock.now(), "subject")]
    with pytest.raises(OperationRefusedError, match="withdrawn"):
        _withdraw(kit, pack, consent_id)


@pytest.mark.parametrize("pack", PACKS)
def test_irrevocable_until(kit: ConsentKit, clock: FixedClock, pack: str) -> None:
    profile = PROFILES[pack]
    subject = _subject(kit, pack)
    until = datetime(2026, 6, 1, tzinfo=UTC)
    if not profile.irrevocable_allowed:
        with pytest.raises(ValidationError) as caught:
            kit.grant_consent(subject, **_fields(pack, irrevocable_until=until))
        [problem] = caught.value.problems
        assert problem.startswith("irrevocable-until: this jurisdiction does not allow irrevocable consent")
        assert profile.irrevocable_citation in problem
        assert kit.consents(subject) == []
        return
    extra: dict[str, Any] = {}
    if pack == "us-42cfr2":  # § 2.35: only a consent to the criminal-justice body may be irrevocable
        with pytest.raises(ValidationError) as caught:
            kit.grant_consent(subject, **_fields(pack, irrevocable_until=until))
        assert caught.value.problems[0].startswith("irrevocable-until: only a consent to court or probation or "
                                                   "prosecutor may be irrevocable here (42 CFR 2.35")
        extra = {"recipients": ["probation:county-probation"], "purposes": ["legal-proceedings"]}
    with pytest.raises(ValidationError, match="consent refused"):
        kit.grant_consent(subject, **_fields(pack, irrevocable_until=END + timedelta(days=1), **extra))
    consent_id = kit.grant_consent(subject, **_fields(pack, irrevocable_until=until, **extra)).grant.consent_id
    with pytest.raises(OperationRefusedError, match="cannot be withdrawn before 2026-06-01") as refused:
        _withdraw(kit, pack, consent_id)
    assert profile.irrevocable_citation in str(refused.value)
    with pytest.raises(OperationRefusedError, match=r"cannot be withdrawn before 2026-06-01"):
        kit.revoke_consent(consent_id, reason="court order", by="court", form="written")
    assert _status(kit, subject) == ["active"]
    clock.advance(days=92)  # 2026-06-02
    _withdraw(kit, pack, consent_id)
    assert _status(kit, subject) == ["withdrawn"]
    assert _status(kit, subject, datetime(2026, 5, 31, tzinfo=UTC)) == ["active"]


@pytest.mark.parametrize("pack", PACKS)
def test_consent_expires_at_its_end_date(kit: ConsentKit, clock: FixedClock, pack: str) -> None:
    subject = _subject(kit, pack)
    end = clock.now() + timedelta(days=10)
    consent_id = kit.grant_consent(subject, **_fields(pack, valid_until=end)).grant.consent_id
    assert _status(kit, subject) == ["active"]
    assert _status(kit, subject, end - timedelta(seconds=1)) == ["active"]
    assert _status(kit, subject, end) == ["expired"]
    clock.advance(days=11)
    assert _status(kit, subject) == ["expired"]
    with pytest.raises(OperationRefusedError, match="expired"):
        _withdraw(kit, pack, consent_id)


def test_us_withdrawal_must_be_in_writing(kit: ConsentKit) -> None:
    subject = _subject(kit, "us-42cfr2")
    consent_id = kit.grant_consent(subject, **_fields("us-42cfr2")).grant.consent_id
    for form in (None, "verbal"):
        with pytest.raises(OperationRefusedError, match="in writing") as caught:
            kit.withdraw_consent(consent_id, reason="said so on the phone", form=form)
        assert "42 CFR 2.31(a)(6)" in str(caught.value)
    assert _status(kit, subject) == ["active"]
    kit.withdraw_consent(consent_id, reason="signed revocation form", form="written")
    assert _status(kit, subject) == ["withdrawn"]


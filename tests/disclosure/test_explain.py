"""The --explain trace: every consent looked at and why it did or did not apply, then each
category's outcome, consistent with the decision itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings

from consentkit.config import shipped_dir
from consentkit.consent.model import ConsentGrant, Effect, Form, Grantor, RecipientRef, Scope
from consentkit.disclosure.decide import decide
from consentkit.disclosure.model import ConsentHistory, DisclosureRequest, SubjectFacts
from consentkit.policy import PackLibrary
from tests.disclosure.test_decide_properties import PACK, SUBJECT, histories, requests


@settings(max_examples=200)
@given(requests(), histories)
def test_the_trace_names_every_consent_and_every_category(request: DisclosureRequest,
                                                          existing: list[ConsentHistory]) -> None:
    decision = decide(request, SUBJECT, existing, PACK, explain=True)
    plain = decide(request, SUBJECT, existing, PACK)
    assert (decision.permitted, decision.denied) == (plain.permitted, plain.denied)  # explaining changes nothing
    consent_lines = [line for line in decision.trace if line.startswith("consent ")]
    assert [line.split()[1] for line in consent_lines] == [h.grant.consent_id for h in existing]
    assert all(" -> " in line for line in consent_lines)
    verdicts = {line.split()[1].rstrip(":"): line for line in decision.trace if line.startswith("category ")}
    assert list(verdicts) == list(request.categories)
    for category, line in verdicts.items():
        if category in decision.permitted:
            assert line.startswith(f"category {category}: permitted (")
        else:
            assert line.startswith(f"category {category}: denied, {decision.denied[category].reason.value}")


def test_a_consent_that_cannot_authorise_is_still_named() -> None:
    """42 CFR Part 2: no consent authorises the police for law enforcement; the trace says so per consent."""
    pack = PackLibrary([shipped_dir("policies")]).get("us-42cfr2")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    grant = ConsentGrant(
        consent_id="c-police", subject_id="s1", jurisdiction="us-42cfr2", effect=Effect.PERMIT,
        scope=Scope((RecipientRef("police"),), frozenset({"law-enforcement"}), frozenset({"substance-use"})),
        valid_from=start, valid_until=None, grantor=Grantor.SELF, form=Form.WRITTEN, recorded_at=start,
        recorded_by="ada", pack_ref=pack.ref)
    request = DisclosureRequest(subject_id="s1", recipient_type="police", purpose="law-enforcement",
                                categories=("substance-use",), at=datetime(2026, 2, 1, tzinfo=UTC), actor="ada")
    decision = decide(request, SubjectFacts("s1", "us-42cfr2", date(1990, 5, 5)), [ConsentHistory(grant, ())],
                      pack, explain=True)
    assert decision.denied["substance-use"].reason.value == "consent-cannot-authorise"
    assert decision.trace[0].startswith("rule police-law-enforcement: 42 CFR")
    assert decision.trace[1].startswith("consent c-police (permit; police;")
    assert decision.trace[1].endswith("-> not looked at: no consent can authorise police for law-enforcement "
                                      "(rule police-law-enforcement)")

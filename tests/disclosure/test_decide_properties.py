"""Properties of ``decide``: refusals and withdrawals never widen what is permitted, every
requested category gets exactly one answer, and the outward denial is uniform."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.config import shipped_dir
from consentkit.consent.model import ConsentEvent, ConsentGrant, Effect, EventKind, Form, Grantor, RecipientRef, Scope
from consentkit.disclosure.decide import decide
from consentkit.disclosure.model import OUTWARD_DENIAL, ConsentHistory, DecisionKind, DisclosureRequest, SubjectFacts
from consentkit.policy import PackLibrary

PACK = PackLibrary([shipped_dir("policies")]).get("eu-gdpr")
START = datetime(2026, 1, 1, tzinfo=UTC)
RECIPIENTS = ["treatment-provider", "healthcare", "social-services", "family-member"]
PURPOSES = ["treatment", "referral", "care-coordination", "family-support"]
CATEGORIES = ["identity", "contact", "substance-use", "health", "family"]
SUBJECT = SubjectFacts("s1", "eu-gdpr", date(1990, 5, 5))


def _subset(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), min_size=1, max_size=len(items))


@st.composite
def consents(draw: st.DrawFn, index: int = 0) -> ConsentHistory:
    start = START + timedelta(days=draw(st.integers(0, 30)))
    until = draw(st.one_of(st.none(), st.integers(1, 200).map(lambda d: start + timedelta(days=d))))
    grant = ConsentGrant(
        consent_id=f"c{draw(st.integers(0, 10**6))}", subject_id="s1", jurisdiction="eu-gdpr",
        effect=draw(st.sampled_from([Effect.PERMIT, Effect.PERMIT, Effect.REFUSE])),
        scope=Scope(tuple(RecipientRef(r) for r in draw(_subset(RECIPIENTS))), draw(_subset(PURPOSES)),
                    draw(_subset(CATEGORIES))),
        valid_from=start, valid_until=until, grantor=Grantor.SELF, form=Form.WRITTEN, recorded_at=start,
        recorded_by="ada", pack_ref=PACK.ref)
    events = ()
    if draw(st.booleans()):
        events = (ConsentEvent(grant.consent_id, EventKind.WITHDRAWN,
                               start + timedelta(days=draw(st.integers(0, 100))), "ada"),)
    return ConsentHistory(grant, events)


@st.composite
def requests(draw: st.DrawFn) -> DisclosureRequest:
    return DisclosureRequest(
        subject_id="s1", recipient_type=draw(st.sampled_from(RECIPIENTS)), purpose=draw(st.sampled_from(PURPOSES)),
        categories=tuple(sorted(draw(_subset(CATEGORIES)))), at=START + timedelta(days=draw(st.integers(0, 250))),
        actor="ada")


histories = st.lists(consents(), max_size=5)


@settings(max_examples=300)
@given(requests(), histories, consents())
def test_adding_a_refusal_never_widens(request: DisclosureRequest, existing: list[ConsentHistory],
                                       extra: ConsentHistory) -> None:
    refusal = ConsentHistory(replace(extra.grant, effect=Effect.REFUSE), extra.events)
    before = decide(request, SUBJECT, existing, PACK)
    after = decide(request, SUBJECT, [*existing, refusal], PACK)
    assert set(after.permitted) <= set(before.permitted)
    if before.decision is DecisionKind.DENY:
        assert after.decision is DecisionKind.DENY


@settings(max_examples=300)
@given(requests(), histories, st.integers(0, 4), st.integers(0, 250))
def test_withdrawing_never_widens(request: DisclosureRequest, existing: list[ConsentHistory], pick: int,
                                  day: int) -> None:
    permits = [h for h in existing if h.grant.effect is Effect.PERMIT]
    if not permits:
        return
    # Withdrawing a refusal lifts a "never share": that may widen, by design.
    target = permits[pick % len(permits)]
    withdrawal = ConsentEvent(target.grant.consent_id, EventKind.WITHDRAWN, START + timedelta(days=day), "ada")
    changed = [ConsentHistory(h.grant, (*h.events, withdrawal)) if h is target else h for h in existing]
    before = decide(request, SUBJECT, existing, PACK)
    after = decide(request, SUBJECT, changed, PACK)
    assert set(after.permitted) <= set(before.permitted)


@settings(max_examples=300)
@given(requests(), histories)
def test_every_category_gets_one_answer_and_denials_look_alike_outside(
        request: DisclosureRequest, existing: list[ConsentHistory]) -> None:
    decision = decide(request, SUBJECT, existing, PACK)
    assert set(decision.permitted) | set(decision.denied) == set(request.categories)
    assert not set(decision.permitted) & set(decision.denied)
    if decision.decision is DecisionKind.DENY:
        assert decision.outward() == OUTWARD_DENIAL
        assert decide(request, SUBJECT, [], PACK).outward() == OUTWARD_DENIAL

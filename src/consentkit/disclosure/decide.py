"""``decide``: the pure disclosure decision, implementing DESIGN.md's semantics exactly.

1. Unknown recipient type, purpose, category or override -> an error, never a silent deny.
2. With an override: it must exist in the subject's pack, allow this recipient type and
   purpose, carry the required fields and be usable by the actor's roles; permitted =
   request ∩ the override's minimum set. Overrides do not depend on consent, and a
   refusal does not block a mandatory override.
3. Without an override: the consents active at the request time count (granted, inside
   the period, not withdrawn/revoked/expired, grantor valid for the subject's age at grant
   time). A refusal covering (recipient, purpose, category) beats any permit. A recipient
   or purpose that the pack says consent cannot authorise is denied whatever the consents say.
4. Per category: covered -> permitted; otherwise denied with the most specific reason.
5. Obligations are gathered from the pack and the override.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from consentkit.consent.model import ConsentGrant, Effect
from consentkit.consent.state import ConsentState, Status, state_at
from consentkit.consent.validate import check_vocabulary, grantor_problem, guardian_age
from consentkit.disclosure.model import (
    Basis,
    ConsentHistory,
    Decision,
    DecisionKind,
    Denial,
    DisclosureRequest,
    ObligationItem,
    Reason,
    SubjectFacts,
)
from consentkit.errors import InvalidInputError, PermissionDeniedError
from consentkit.policy.model import Override, Pack

__all__ = ["decide"]

_TEXT = {
    Reason.CONSENT_CANNOT_AUTHORISE: "consent cannot authorise this recipient for this purpose here",
    Reason.REFUSED: "the client refused this disclosure",
    Reason.WITHDRAWN: "the consent that covered this was withdrawn or revoked",
    Reason.GUARDIAN_REQUIRED: "the consent was not given by someone able to consent at the client's age",
    Reason.EXPIRED: "the consent that covered this has expired",
    Reason.OUT_OF_SCOPE: "there is consent for this recipient, but not for this purpose or category",
    Reason.NO_CONSENT: "there is no consent for this recipient",
    Reason.OVERRIDE_MINIMUM: "outside the minimum data set the override allows",
}
_INACTIVE_REASON = {
    Status.WITHDRAWN: Reason.WITHDRAWN,
    Status.REVOKED: Reason.WITHDRAWN,
    Status.EXPIRED: Reason.EXPIRED,
    Status.LAPSED: Reason.EXPIRED,
    Status.SUPERSEDED: Reason.EXPIRED,
    Status.NOT_YET_VALID: Reason.NO_CONSENT,
}
_PRECEDENCE = list(Reason)


def decide(
    request: DisclosureRequest,
    subject: SubjectFacts,
    consents: Sequence[ConsentHistory],
    pack: Pack,
    *,
    explain: bool = False,
) -> Decision:
    """Decide ``request`` for ``subject`` under ``pack`` from the subject's ``consents``."""
    categories = tuple(dict.fromkeys(request.categories))
    if not categories:
        raise InvalidInputError("--category: give at least one data category")
    if (request.recipient_type not in pack.recipients or request.purpose not in pack.purposes
            or not pack.categories.issuperset(categories)):
        check_vocabulary(pack, recipients={request.recipient_type}, purposes={request.purpose},
                         categories=set(categories))
    if request.override is not None:
        return _with_override(request, categories, pack, explain)
    return _with_consents(request, subject, categories, consents, pack, explain)


# -- overrides --------------------------------------------------------------------------


def _with_override(request: DisclosureRequest, categories: tuple[str, ...], pack: Pack, explain: bool) -> Decision:
    override = pack.overrides.get(request.override or "")
    if override is None:
        raise InvalidInputError(f"--override: {request.override} is not an override of pack {pack.id}; "
                                f"choose from {', '.join(sorted(pack.overrides)) or '(none)'}")
    _check_override_use(request, override)
    permitted = tuple(c for c in categories if c in override.minimum_categories)
    denied = {c: Denial(Reason.OVERRIDE_MINIMUM, f"{_TEXT[Reason.OVERRIDE_MINIMUM]} ({override.id})")
              for c in categories if c not in override.minimum_categories}
    obligations = _pack_obligations(pack, "override", request, frozenset(permitted)) if permitted else []
    review_by = None
    if permitted:
        obligations += _override_obligations(override, request.at)
        if override.break_glass_hours is not None:
            review_by = request.at + timedelta(hours=override.break_glass_hours)
    trace = (f"override {override.id}: {override.cited.citation}; minimum set "
             f"{', '.join(sorted(override.minimum_categories))}",) if explain else ()
    return Decision(
        decision=_kind(permitted, categories), request=request, permitted=permitted, denied=denied,
        basis=Basis("override", (), override.id, override.cited.citation, override.cited.verified),
        obligations=tuple(obligations), pack=pack.ref, pack_hash=pack.content_hash, trace=trace,
        mandatory=override.mandatory, review_by=review_by,
    )


def _check_override_use(request: DisclosureRequest, override: Override) -> None:
    if request.recipient_type not in override.recipients:
        raise InvalidInputError(f"--override {override.id} does not allow recipient {request.recipient_type}; "
                                f"it allows {', '.join(sorted(override.recipients))}")
    if request.purpose not in override.purposes:
        raise InvalidInputError(f"--override {override.id} does not allow purpose {request.purpose}; "
                                f"it allows {', '.join(sorted(override.purposes))}")
    if "admin" not in request.actor_roles and not override.roles & request.actor_roles:
        raise PermissionDeniedError(f"actor {request.actor} may not use override {override.id}: it needs one of "
                                    f"the roles {', '.join(sorted(override.roles))}")
    missing = []
    if "justification" in override.required_fields and len((request.justification or "").strip()) < 10:
        missing.append("--justification (at least 10 characters: what happened and why this is needed)")
    if "reference" in override.required_fields and not (request.reference or "").strip():
        missing.append("--reference (the case, report or order number)")
    if "approver" in override.required_fields and not (request.approver or "").strip():
        missing.append("--approver (the supervisor who approved it)")
    if missing:
        raise InvalidInputError(f"override {override.id} needs " + "; ".join(missing))


def _override_obligations(override: Override, at: datetime) -> list[ObligationItem]:
    cite = override.cited.citation
    items = []
    if override.notify_dpo:
        items.append(ObligationItem("notify-dpo", "notify-dpo",
                                    f"Alert the DPO: disclosure without consent under {override.id}.", at, cite))
    if override.notify_subject == "within-days":
        due = at + timedelta(days=override.notify_days or 0)
        items.append(ObligationItem("inform-subject", "inform-subject",
                                    f"Inform the client of this disclosure by {due.date().isoformat()}.", due, cite))
    elif override.notify_subject == "unless-endangers-child":
        items.append(ObligationItem("inform-subject", "inform-subject",
                                    "Inform the client unless doing so would endanger the child; record the "
                                    "assessment.", None, cite))
    elif override.notify_subject == "after-proceedings":
        items.append(ObligationItem("inform-subject", "inform-subject",
                                    "Inform the client once the proceedings allow it.", None, cite))
    if override.break_glass_hours is not None:
        due = at + timedelta(hours=override.break_glass_hours)
        items.append(ObligationItem("review", "review", f"Break-glass access: the DPO reviews it; access ends "
                                                        f"{due.isoformat()}.", due, cite))
    elif override.review:
        items.append(ObligationItem("review", "review", "The DPO reviews this override.", None, cite))
    return items


# -- consents ---------------------------------------------------------------------------


def _with_consents(request: DisclosureRequest, subject: SubjectFacts, categories: tuple[str, ...],
                   consents: Sequence[ConsentHistory], pack: Pack, explain: bool) -> Decision:
    trace: list[str] = []
    never = next((n for n in pack.never_by_consent if n.matches(request.recipient_type, request.purpose)), None)
    if never is not None:
        text = f"{_TEXT[Reason.CONSENT_CANNOT_AUTHORISE]} ({never.cited.citation})"
        if explain:
            trace.append(f"rule {never.id}: {never.cited.citation} -> every category denied")
        denied = {c: Denial(Reason.CONSENT_CANNOT_AUTHORISE, text) for c in categories}
        return _finish(request, (), denied, (), pack, trace)
    states = [(h, _state(h, subject, pack, request.at)) for h in consents]
    if explain:
        trace += [_describe(h.grant, s) for h, s in states]
    # The recipient and purpose are the same for every category: match them once per consent.
    relevant = [(h.grant, s) for h, s in states if request.purpose in h.grant.scope.purposes
                and h.grant.scope.covers_recipient(request.recipient_type, request.recipient_id)]
    live = [(g, g.effect is Effect.REFUSE) for g, s in relevant if s is not None and s.status is Status.ACTIVE]
    permitted: list[str] = []
    basis: list[str] = []
    reasons: dict[str, Denial] = {}
    for category in categories:
        refusal = [g.consent_id for g, refuse in live if refuse and category in g.scope.categories]
        permits = [g.consent_id for g, refuse in live if not refuse and category in g.scope.categories]
        if refusal:
            reasons[category] = Denial(Reason.REFUSED, _TEXT[Reason.REFUSED], tuple(refusal))
        elif permits:
            permitted.append(category)
            basis += [p for p in permits if p not in basis]
        else:
            covering = [(g, s) for g, s in relevant if category in g.scope.categories]
            reasons[category] = _most_specific(request, states, covering)
    return _finish(request, tuple(permitted), reasons, tuple(basis), pack, trace)


def _state(history: ConsentHistory, subject: SubjectFacts, pack: Pack, at: datetime) -> ConsentState | None:
    """The consent's state, or ``None`` when its grantor was not valid for the client's age."""
    if grantor_problem(pack, history.grant, subject.birth_date) is not None:
        return None
    return state_at(history.grant, history.events, at, birth_date=subject.birth_date,
                    self_consent_age=guardian_age(pack, history.grant),
                    at_self_consent_age=pack.consent.at_self_consent_age)


def _most_specific(request: DisclosureRequest, states: list[tuple[ConsentHistory, ConsentState | None]],
                   covering: list[tuple[ConsentGrant, ConsentState | None]]) -> Denial:
    reasons: list[tuple[Reason, str]] = []
    for grant, state in covering:
        if grant.effect is not Effect.PERMIT:
            continue
        if state is None:
            reasons.append((Reason.GUARDIAN_REQUIRED, grant.consent_id))
        elif not state.active:
            reasons.append((_INACTIVE_REASON[state.status], grant.consent_id))
    if not reasons and any(s is not None and s.active and h.grant.effect is Effect.PERMIT
                           and h.grant.scope.covers_recipient(request.recipient_type, request.recipient_id)
                           for h, s in states):
        reasons.append((Reason.OUT_OF_SCOPE, ""))
    if not reasons:
        return Denial(Reason.NO_CONSENT, _TEXT[Reason.NO_CONSENT])
    best = min(reasons, key=lambda r: _PRECEDENCE.index(r[0]))[0]
    ids = tuple(dict.fromkeys(cid for reason, cid in reasons if reason is best and cid))
    return Denial(best, _TEXT[best], ids)


def _describe(grant: ConsentGrant, state: ConsentState | None) -> str:
    status = "grantor not valid for the client's age" if state is None else state.status.value
    if state is not None and state.reaffirm_needed:
        status += " (re-affirmation by the client is due)"
    recipients = ", ".join(str(r) for r in grant.scope.recipients)
    return (f"consent {grant.consent_id} ({grant.effect.value}; {recipients}; purposes "
            f"{', '.join(sorted(grant.scope.purposes))}; categories {', '.join(sorted(grant.scope.categories))}): "
            f"{status}")


def _finish(request: DisclosureRequest, permitted: tuple[str, ...], denied: dict[str, Denial],
            basis: tuple[str, ...], pack: Pack, trace: list[str]) -> Decision:
    obligations = _pack_obligations(pack, "consent", request, frozenset(permitted)) if permitted else []
    return Decision(
        decision=_kind(permitted, request.categories), request=request, permitted=permitted, denied=denied,
        basis=Basis("consent" if basis else "none", basis), obligations=tuple(obligations), pack=pack.ref,
        pack_hash=pack.content_hash, trace=tuple(trace),
    )


def _pack_obligations(pack: Pack, basis: str, request: DisclosureRequest,
                      categories: frozenset[str]) -> list[ObligationItem]:
    return [ObligationItem(o.id, o.kind, o.text.get("en", ""), None, o.cited.citation)
            for o in pack.obligations if o.applies(basis, request.recipient_type, request.purpose, categories)]


def _kind(permitted: Sequence[str], requested: Sequence[str]) -> DecisionKind:
    if not permitted:
        return DecisionKind.DENY
    if len(set(permitted)) == len(set(requested)):
        return DecisionKind.PERMIT
    return DecisionKind.PARTIAL

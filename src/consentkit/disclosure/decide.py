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
from datetime import date, datetime, timedelta

from consentkit.consent.model import ConsentGrant, Effect, Grantor
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
from consentkit.disclosure.pack_index import PackIndex, pack_index
from consentkit.errors import InvalidInputError, PermissionDeniedError
from consentkit.policy.model import Override, Pack
from consentkit.types import shown_terms

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
_REFUSED_TEXT = _TEXT[Reason.REFUSED]
# Enum members as module constants: on Python 3.11 each `Status.ACTIVE` is a ~0.2 µs descriptor
# lookup through the enum's metaclass, and the hot path below reads a dozen per decision.
_ACTIVE, _NOT_YET_VALID, _EXPIRED = Status.ACTIVE, Status.NOT_YET_VALID, Status.EXPIRED
_REFUSE, _PERMIT, _SELF = Effect.REFUSE, Effect.PERMIT, Grantor.SELF
_REFUSED = Reason.REFUSED
_DENY, _PERMIT_ALL, _PARTIAL = DecisionKind.DENY, DecisionKind.PERMIT, DecisionKind.PARTIAL


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
        raise InvalidInputError(f"--override: {shown_terms([request.override or ''])} is not an override of "
                                f"pack {pack.id}; "
                                f"choose from {', '.join(sorted(pack.overrides)) or '(none)'}")
    _check_override_use(request, override)
    permitted = tuple(c for c in categories if c in override.minimum_categories)
    denied = {c: Denial(Reason.OVERRIDE_MINIMUM, f"{_TEXT[Reason.OVERRIDE_MINIMUM]} ({override.id})")
              for c in categories if c not in override.minimum_categories}
    obligations = list(pack_index(pack).obligations("override", request.recipient_type, request.purpose, permitted)
                       ) if permitted else []
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
    index = pack_index(pack)
    never = index.never(request.recipient_type, request.purpose)
    trace: list[str] = []
    at, birth_date = request.at, subject.birth_date
    if never is not None:
        text = f"{_TEXT[Reason.CONSENT_CANNOT_AUTHORISE]} ({never.cited.citation})"
        if explain:
            trace.append(f"rule {never.id}: {never.cited.citation} -> every category denied")
            trace += [f"{_describe(h.grant, _state(h, birth_date, pack, at))} -> not looked at: no consent can "
                      f"authorise {request.recipient_type} for {request.purpose} (rule {never.id})" for h in consents]
        denied = {c: Denial(Reason.CONSENT_CANNOT_AUTHORISE, text) for c in categories}
        return _finish(request, categories, (), denied, (), index, trace)
    # Only consents naming this recipient can matter, and only their status is needed; the
    # trace of --explain describes every consent with its full state, so it folds them all.
    if explain:
        trace += [f"{_describe(h.grant, state)} -> {_applies(h.grant, state, request, categories)}"
                  for h, state in ((h, _state(h, birth_date, pack, at)) for h in consents)]
    to_recipient, relevant, refusing, permitting = _scan(consents, categories, request, birth_date, index)
    permitted: list[str] = []
    basis: list[str] = []
    reasons: dict[str, Denial] = {}
    for category in categories:
        refusal = refusing.get(category)
        if refusal:
            reasons[category] = Denial(_REFUSED, _REFUSED_TEXT, tuple(refusal))
            continue
        permits = permitting.get(category)
        if permits:
            permitted.append(category)
            for consent_id in permits:
                if consent_id not in basis:
                    basis.append(consent_id)
        else:
            covering = [(g, s) for g, s in relevant if category in g.scope.categories]
            reasons[category] = _most_specific(to_recipient, covering, birth_date, index, at)
    if explain:
        trace += [_verdict(category, reasons.get(category), permitting.get(category, [])) for category in categories]
    return _finish(request, categories, tuple(permitted), reasons, tuple(basis), index, trace)


def _verdict(category: str, denial: Denial | None, permits: list[str]) -> str:
    """One category's outcome for the --explain trace, with the consents it rests on."""
    if denial is None:
        return f"category {category}: permitted ({', '.join(permits)})"
    ids = f" ({', '.join(denial.consent_ids)})" if denial.consent_ids else ""
    return f"category {category}: denied, {denial.reason.value}{ids}"


def _applies(grant: ConsentGrant, state: ConsentState | None, request: DisclosureRequest,
             categories: tuple[str, ...]) -> str:
    """Why a consent does or does not bear on this request (the --explain trace)."""
    scope = grant.scope
    if not scope.covers_recipient(request.recipient_type, request.recipient_id):
        recipient = request.recipient_type + (f":{request.recipient_id}" if request.recipient_id else "")
        return f"does not apply: it does not name {recipient}"
    if request.purpose not in scope.purposes:
        return f"does not apply: purpose {request.purpose} is not in it"
    covered = [c for c in categories if c in scope.categories]
    if not covered:
        return "does not apply: it covers none of the categories asked for"
    if state is None or state.status is not _ACTIVE:
        return f"would cover {', '.join(covered)} but is not in force"
    return f"{'refuses' if grant.effect is _REFUSE else 'permits'} {', '.join(covered)}"


#: What one pass over the consents finds: see _scan.
_Scanned = tuple[list[ConsentHistory], list[tuple[ConsentGrant, Status | None]], dict[str, list[str]],
                 dict[str, list[str]]]


def _scan(consents: Sequence[ConsentHistory], categories: tuple[str, ...], request: DisclosureRequest,
          birth_date: date | None, index: PackIndex) -> _Scanned:
    """One pass over the consents: those naming the recipient; of those, the ones for this purpose
    with their status; and per requested category the active refusals and permits covering it."""
    rtype, rid, purpose, at = request.recipient_type, request.recipient_id, request.purpose, request.at
    to_recipient: list[ConsentHistory] = []
    relevant: list[tuple[ConsentGrant, Status | None]] = []
    refusing: dict[str, list[str]] = {}  # category -> active refusals covering it, in consent order
    permitting: dict[str, list[str]] = {}  # category -> active permits covering it, in consent order
    for history in consents:
        grant = history.grant
        scope = grant.scope
        # Scope.covers_recipient, inlined: this is the hot loop. A refusal naming one recipient
        # also covers a request that does not say which recipient of the type it is for: it
        # may be that one. A permit naming one covers only requests naming it.
        unnamed = rid is None and grant.effect is _REFUSE
        for ref in scope.recipients:
            if ref.type == rtype and (ref.id is None or ref.id == rid or unnamed):
                break
        else:
            continue
        to_recipient.append(history)
        if purpose not in scope.purposes:
            continue
        status = _status(history, birth_date, index, at)
        relevant.append((grant, status))
        if status is _ACTIVE:
            found = refusing if grant.effect is _REFUSE else permitting
            covered = scope.categories
            for category in categories:
                if category in covered:
                    found.setdefault(category, []).append(grant.consent_id)
    return to_recipient, relevant, refusing, permitting


def _state(history: ConsentHistory, birth_date: date | None, pack: Pack, at: datetime) -> ConsentState | None:
    """The consent's state, or ``None`` when its grantor was not valid for the client's age."""
    grant = history.grant
    if grantor_problem(pack, grant, birth_date) is not None:
        return None
    # state_at reads the self-consent age only for a consent given by someone else.
    self_consent_age = guardian_age(pack, grant) if grant.grantor is not Grantor.SELF else None
    return state_at(grant, history.events, at, birth_date=birth_date, self_consent_age=self_consent_age,
                    at_self_consent_age=pack.consent.at_self_consent_age)


def _status(history: ConsentHistory, birth_date: date | None, index: PackIndex, at: datetime) -> Status | None:
    """``_state(...).status`` (``None``: grantor not valid), without building the state when it is simple.

    A consent the client gave themselves with no events is active inside its period:
    state_at's fold reduces to two comparisons. Anything else goes through state_at.
    """
    grant = history.grant
    if not index.grantor_valid(grant, birth_date):
        return None
    if history.events or grant.grantor is not _SELF:
        state = state_at(grant, history.events, at, birth_date=birth_date,
                         self_consent_age=None if grant.grantor is _SELF else guardian_age(index.pack, grant),
                         at_self_consent_age=index.pack.consent.at_self_consent_age)
        return state.status
    if at < grant.valid_from:
        return _NOT_YET_VALID
    if grant.valid_until is not None and at >= grant.valid_until:
        return _EXPIRED
    return _ACTIVE


def _most_specific(to_recipient: list[ConsentHistory], covering: list[tuple[ConsentGrant, Status | None]],
                   birth_date: date | None, index: PackIndex, at: datetime) -> Denial:
    reasons: list[tuple[Reason, str]] = []
    for grant, status in covering:
        if grant.effect is not _PERMIT:
            continue
        if status is None:
            reasons.append((Reason.GUARDIAN_REQUIRED, grant.consent_id))
        elif status is not _ACTIVE:
            reasons.append((_INACTIVE_REASON[status], grant.consent_id))
    if not reasons and any(h.grant.effect is _PERMIT and _status(h, birth_date, index, at) is _ACTIVE
                           for h in to_recipient):
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


def _finish(request: DisclosureRequest, categories: tuple[str, ...], permitted: tuple[str, ...],
            denied: dict[str, Denial], basis: tuple[str, ...], index: PackIndex, trace: list[str]) -> Decision:
    obligations = index.obligations("consent", request.recipient_type, request.purpose, permitted) \
        if permitted else ()
    # Decision's frozen __init__ sets its 14 fields one object.__setattr__ at a time, a fifth of
    # a whole decision; it has no __post_init__, so filling the instance dict gives the same
    # value (tests/disclosure/test_hot_path.py compares it with the constructor's).
    decision = object.__new__(Decision)
    decision.__dict__.update(
        decision=_kind(permitted, categories), request=request, permitted=permitted, denied=denied,
        basis=Basis("consent" if basis else "none", basis), obligations=obligations, pack=index.ref,
        pack_hash=index.pack.content_hash, trace=tuple(trace), mandatory=False, review_by=None, audit_id=None,
        disclosure_id=None, extras={},
    )
    return decision


def _kind(permitted: Sequence[str], categories: tuple[str, ...]) -> DecisionKind:
    """``categories`` are the requested ones without repeats; ``permitted`` is a part of them."""
    if not permitted:
        return _DENY
    if len(permitted) == len(categories):
        return _PERMIT_ALL
    return _PARTIAL

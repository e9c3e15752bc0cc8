"""Checking a consent against the subject's pack at grant time, using only what the pack declares.

A consent that fails is refused with every missing element and the citation for each, so
the caseworker can fix the form in one go (152-FZ art. 9(4), 94-V art. 8(4), 42 CFR 2.31).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from consentkit.consent.model import ConsentGrant, Effect, Form, Grantor
from consentkit.errors import InvalidInputError, ValidationError
from consentkit.policy.model import Cited, Pack
from consentkit.subjects import age_on
from consentkit.types import shown_terms

__all__ = [
    "attestable_elements", "check_grant", "check_vocabulary", "grantor_problem", "guardian_age", "present_elements",
]


def check_vocabulary(pack: Pack, *, recipients: set[str], purposes: set[str], categories: set[str]) -> None:
    """Unknown ids are an error naming the allowed values (never a silent refusal)."""
    for label, given, known in (("--recipient", recipients, pack.recipients),
                                ("--purpose", purposes, pack.purposes),
                                ("--category", categories, pack.categories)):
        unknown = sorted(given - known)
        if unknown:
            raise InvalidInputError(f"{label}: {shown_terms(unknown)} not in pack {pack.id}; "
                                    f"choose from {', '.join(sorted(known))}")


#: The elements a grant's own fields show (the rest are attested from the signed form).
_SHOWN_BY_FIELDS: dict[str, Callable[[ConsentGrant], bool]] = {
    "purposes": lambda g: bool(g.scope.purposes),
    "categories": lambda g: bool(g.scope.categories),
    "recipients": lambda g: bool(g.scope.recipients),
    "validity": lambda g: g.valid_until is not None,
    "grantor": lambda g: True,
    "form": lambda g: True,
    "notice": lambda g: g.notice_version is not None,
    "evidence": lambda g: g.evidence_sha256 is not None,
    "witness": lambda g: g.witness is not None,
}


def present_elements(grant: ConsentGrant) -> set[str]:
    """Element ids this grant carries: derived from its fields plus those the caseworker attested."""
    return {name for name, shown in _SHOWN_BY_FIELDS.items() if shown(grant)} | set(grant.attested)


#: How the caseworker supplies an element the grant lacks; any other element is on the signed
#: form and is attested with ``--attest ELEMENT``.
_HOW_TO_GIVE = {
    "validity": "give --valid-until D",
    "notice": "give --notice-version V",
    "evidence": "give --evidence FILE (the signed form's scan)",
    "witness": "give --witness NAME",
}


def attestable_elements(pack: Pack) -> frozenset[str]:
    """The elements of a consent under ``pack`` that the caseworker may attest from the signed form
    (``--attest``): those the pack or one of its rules names, but no field of the grant shows."""
    policy = pack.consent
    named = {name for name, _ in policy.required_elements}
    named |= {name for rule in policy.rules for name in rule.elements}
    return frozenset(named - _SHOWN_BY_FIELDS.keys())


def _cite(cited: Cited | None) -> str:
    if cited is None:
        return ""
    return f" ({cited.citation}{'' if cited.verified else ', citation unverified'})"


def guardian_age(pack: Pack, grant: ConsentGrant) -> int | None:
    """The age until which this consent needs a guardian: the self-consent age, or higher
    where a pack rule for this scope demands a guardian (e.g. narcological care under 18)."""
    ages = [pack.consent.self_consent_age] if pack.consent.self_consent_age is not None else []
    scope = grant.scope
    recipients = {r.type for r in scope.recipients}
    ages += [rule.age_below for rule in pack.consent.rules
             if rule.grantors is not None and rule.age_below is not None and Grantor.SELF.value not in rule.grantors
             and rule.applies(scope.categories, scope.purposes, recipients, 0)]
    return max(ages) if ages else None


def grantor_problem(pack: Pack, grant: ConsentGrant, birth_date: date | None) -> str | None:
    """Why the grantor cannot give this consent for a subject of this age, or ``None``: the
    grantor must be valid on each of the grant's :meth:`~ConsentGrant.grantor_days`."""
    for day in grant.grantor_days():
        problem = _grantor_problem_at(pack, grant, age_on(birth_date, day) if birth_date else None)
        if problem:
            return problem
    return None


def _grantor_problem_at(pack: Pack, grant: ConsentGrant, age: int | None) -> str | None:
    policy = pack.consent
    scope = grant.scope
    required = None
    for rule in policy.rules:
        if rule.grantors is not None and rule.applies(scope.categories, scope.purposes,
                                                      {r.type for r in scope.recipients}, age):
            required = (rule.grantors, rule.cited, rule.id)
    if required is not None and grant.grantor.value not in required[0]:
        return (f"grantor: {grant.grantor.value} may not give this consent; it needs "
                f"{' or '.join(sorted(required[0]))} ({required[2]}){_cite(required[1])}")
    if policy.self_consent_age is not None and age is not None and age < policy.self_consent_age:
        if grant.grantor is Grantor.SELF:
            # The age itself stays out of the message: it is the birth date, coarsened.
            return (f"guardian-required: the client is below the self-consent age "
                    f"{policy.self_consent_age}; record the consent of a "
                    f"{' or '.join(sorted(policy.guardian_grantors)) or 'guardian'}{_cite(policy.self_consent_cited)}")
        if grant.grantor.value not in policy.guardian_grantors:
            return f"grantor: {grant.grantor.value} cannot consent for a minor here{_cite(policy.guardian_cited)}"
    elif grant.grantor is Grantor.GUARDIAN and required is None and age is not None \
            and policy.self_consent_age is not None:
        return (f"grantor: the client has reached the self-consent age {policy.self_consent_age} and "
                f"consents for themselves; a guardian cannot consent for them "
                f"(use representative for a court-appointed one){_cite(policy.self_consent_cited)}")
    return None


def check_grant(pack: Pack, grant: ConsentGrant, birth_date: date | None) -> None:
    """Raise :class:`ValidationError` listing everything this consent lacks under ``pack``."""
    scope = grant.scope
    check_vocabulary(pack, recipients={r.type for r in scope.recipients}, purposes=set(scope.purposes),
                     categories=set(scope.categories))
    problems: list[str] = []
    if grant.valid_until is not None and grant.valid_until <= grant.valid_from:
        problems.append("validity: --valid-until must be after the start of the consent")
    if grant.irrevocable_until is not None:
        problems += _irrevocable_problems(pack, grant)
    problem = grantor_problem(pack, grant, birth_date)
    if problem:
        problems.append(problem)
    if grant.effect is Effect.PERMIT:
        problems += _form_problems(pack, grant, birth_date)
    if problems:
        raise ValidationError(f"consent refused under pack {pack.ref}", tuple(problems))


def _irrevocable_problems(pack: Pack, grant: ConsentGrant) -> list[str]:
    policy = pack.consent
    if not policy.irrevocable_allowed:
        return [f"irrevocable-until: this jurisdiction does not allow irrevocable consent"
                f"{_cite(policy.irrevocable_cited)}"]
    allowed = policy.irrevocable_recipients
    if allowed is not None and any(r.type not in allowed for r in grant.scope.recipients):
        return [f"irrevocable-until: only a consent to {' or '.join(sorted(allowed))} may be irrevocable here"
                f"{_cite(policy.irrevocable_cited)}; leave --irrevocable-until out"]
    if grant.valid_until is not None and grant.irrevocable_until > grant.valid_until:  # type: ignore[operator]
        return ["irrevocable-until: must not be after --valid-until (the consent ends then anyway)"]
    if grant.irrevocable_until <= grant.valid_from:  # type: ignore[operator]
        return ["irrevocable-until: must be after the start of the consent (or leave it out)"]
    return []


def _form_problems(pack: Pack, grant: ConsentGrant, birth_date: date | None) -> list[str]:
    policy = pack.consent
    scope = grant.scope
    age = age_on(birth_date, grant.given_on()) if birth_date else None
    problems: list[str] = []
    allowed, cited = set(policy.forms), policy.forms_cited
    required = dict(policy.required_elements)
    for rule in policy.rules:
        if rule.applies(scope.categories, scope.purposes, {r.type for r in scope.recipients}, age):
            if rule.forms is not None:
                allowed &= rule.forms
                cited = rule.cited
            required.update(dict.fromkeys(rule.elements, rule.cited))
    if grant.form.value not in allowed:
        problems.append(f"form: {grant.form.value} is not accepted here; use {' or '.join(sorted(allowed))}"
                        f"{_cite(cited)}")
    if grant.form is Form.VERBAL and grant.witness is None:
        problems.append("witness: a verbal consent needs a witness (--witness NAME)")
    present = present_elements(grant)
    for name, cite in sorted(required.items()):
        if name not in present:
            how = _HOW_TO_GIVE.get(name) or f"give --attest {name} when the signed form states it"
            problems.append(f"missing element {name}{_cite(cite)}: {how}")
    if policy.max_validity_days is not None and grant.valid_until is not None and \
            grant.valid_until - grant.valid_from > timedelta(days=policy.max_validity_days):
        problems.append(f"validity: at most {policy.max_validity_days} days here")
    return problems

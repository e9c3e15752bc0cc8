"""The state of a consent at a moment: a pure fold of its grant and events.

Withdrawal works forward only (GDPR Art. 7(3); 42 CFR 2.31(a)(6) "reliance"): an event
changes the state from its own time on, never before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from consentkit.consent.model import TERMINAL, ConsentEvent, ConsentGrant, EventKind, Grantor

__all__ = ["ConsentState", "Status", "birthday_of_age", "state_at"]


class Status(StrEnum):
    """State of a consent at a moment."""

    ACTIVE = "active"
    NOT_YET_VALID = "not-yet-valid"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    LAPSED = "lapsed"  # a guardian's consent after the subject reached the self-consent age


_TERMINAL_STATUS = {
    EventKind.WITHDRAWN: Status.WITHDRAWN,
    EventKind.REVOKED: Status.REVOKED,
    EventKind.EXPIRED: Status.EXPIRED,
    EventKind.SUPERSEDED: Status.SUPERSEDED,
}


# Events at the same instant fold in this order, so the state never depends on storage order.
_ORDER = {EventKind.REVOKED: 0, EventKind.WITHDRAWN: 1, EventKind.SUPERSEDED: 2, EventKind.EXPIRED: 3,
          EventKind.REAFFIRMED: 4}


def _event_order(event: ConsentEvent) -> tuple[datetime, int]:
    return event.at, _ORDER[event.kind]


@dataclass(frozen=True)
class ConsentState:
    """Status at a moment, since when, and whether the person should re-affirm it."""

    status: Status
    since: datetime | None = None
    reaffirm_needed: bool = False

    @property
    def active(self) -> bool:
        """True when the consent authorises (or, for a refusal, forbids) at this moment."""
        return self.status is Status.ACTIVE


def birthday_of_age(birth_date: date, age: int) -> date:
    """The day a person born on ``birth_date`` turns ``age`` (29 February → 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:
        return date(birth_date.year + age, 3, 1)


def state_at(
    grant: ConsentGrant,
    events: Sequence[ConsentEvent],
    at: datetime,
    *,
    birth_date: date | None = None,
    self_consent_age: int | None = None,
    at_self_consent_age: str = "reaffirm",
) -> ConsentState:
    """Fold ``events`` (any order) up to ``at`` into the consent's state at ``at``.

    A guardian's or representative's consent meets the subject's self-consent age: with
    ``lapse`` it stops authorising that day; with ``reaffirm`` it stays active but is
    flagged until the person re-affirms it.
    """
    if at < grant.valid_from:
        return ConsentState(Status.NOT_YET_VALID)
    reaffirmed_at: datetime | None = None
    for event in sorted((e for e in events if e.at <= at), key=_event_order) if events else ():
        if event.kind in TERMINAL:
            return ConsentState(_TERMINAL_STATUS[event.kind], event.at)
        if event.kind is EventKind.REAFFIRMED:
            reaffirmed_at = event.at
    if grant.valid_until is not None and at >= grant.valid_until:
        return ConsentState(Status.EXPIRED, grant.valid_until)
    if grant.grantor is not Grantor.SELF and birth_date is not None and self_consent_age is not None:
        comes_of_age = birthday_of_age(birth_date, self_consent_age)
        # Only a consent given *for a minor* meets the age: a representative's consent for
        # an adult (or one given after the birthday) is not affected.
        if grant.given_on() < comes_of_age <= at.date() and (
                reaffirmed_at is None or reaffirmed_at.date() < comes_of_age):
            if at_self_consent_age == "lapse":
                return ConsentState(Status.LAPSED, datetime.combine(comes_of_age, datetime.min.time(), at.tzinfo))
            return ConsentState(Status.ACTIVE, grant.valid_from, reaffirm_needed=True)
    return ConsentState(Status.ACTIVE, grant.valid_from)

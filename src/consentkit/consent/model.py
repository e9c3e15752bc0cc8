"""Consent as values: the grant as recorded, the events that follow it, and the scope.

A consent is never updated in place. It is one grant plus an append-only history of
events (withdrawn by the subject, revoked by a guardian or a court, expired, superseded,
re-affirmed); its state at any moment is a pure fold of that history (``consent.state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from consentkit.errors import InvalidInputError

__all__ = [
    "CaptureContext",
    "ConsentEvent",
    "ConsentGrant",
    "Effect",
    "EventKind",
    "Form",
    "Grantor",
    "RecipientRef",
    "Scope",
]


class Effect(StrEnum):
    """A consent permits sharing, or records an explicit refusal ("never share this")."""

    PERMIT = "permit"
    REFUSE = "refuse"


class Grantor(StrEnum):
    """Who gave the consent."""

    SELF = "self"
    GUARDIAN = "guardian"
    REPRESENTATIVE = "representative"


class Form(StrEnum):
    """How the consent was given."""

    WRITTEN = "written"
    ELECTRONIC = "electronic"
    VERBAL = "verbal"


class EventKind(StrEnum):
    """What can happen to a consent after it was granted."""

    WITHDRAWN = "withdrawn"  # by the subject (DPV ConsentWithdrawn)
    REVOKED = "revoked"  # by a guardian, representative or court (DPV ConsentRevoked)
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    REAFFIRMED = "reaffirmed"


#: Events after which a consent no longer authorises anything.
TERMINAL = frozenset({EventKind.WITHDRAWN, EventKind.REVOKED, EventKind.EXPIRED, EventKind.SUPERSEDED})


_ID_PUNCTUATION = frozenset("-_.:/@#")


@dataclass(frozen=True)
class RecipientRef:
    """A recipient type and optionally one named recipient of that type (``TYPE[:ID]``)."""

    type: str
    id: str | None = None

    @classmethod
    def parse(cls, text: str) -> RecipientRef:
        """Parse ``treatment-provider`` or ``treatment-provider:okana-athens``."""
        kind, _, ident = text.strip().partition(":")
        if not kind or (ident == "" and text.strip().endswith(":")):
            raise InvalidInputError("--recipient: expected TYPE or TYPE:ID, e.g. treatment-provider:okana-athens")
        # The ID names an organisation or unit and is stored in clear (audit details, the
        # accounting of disclosures): an identifier, so a person's name typed here is refused.
        if len(ident) > 100 or not all(ch.isalnum() or ch in _ID_PUNCTUATION for ch in ident):
            raise InvalidInputError("--recipient: the ID part identifies an organisation or unit: at most 100 "
                                    "letters, digits and - _ . : / @ #, no spaces (never a person's name)")
        return cls(kind, ident or None)

    def covers(self, recipient_type: str, recipient_id: str | None) -> bool:
        """A consent to a type covers every recipient of it; one to a named recipient only that one."""
        return self.type == recipient_type and (self.id is None or self.id == recipient_id)

    def __str__(self) -> str:
        return f"{self.type}:{self.id}" if self.id else self.type


@dataclass(frozen=True)
class Scope:
    """Who may receive which data for which purposes."""

    recipients: tuple[RecipientRef, ...]
    purposes: frozenset[str]
    categories: frozenset[str]

    def covers(self, recipient_type: str, recipient_id: str | None, purpose: str, category: str) -> bool:
        """Whether this scope includes the (recipient, purpose, category) triple."""
        return (category in self.categories and purpose in self.purposes
                and any(r.covers(recipient_type, recipient_id) for r in self.recipients))

    def covers_recipient(self, recipient_type: str, recipient_id: str | None) -> bool:
        """Whether the recipient is in scope (whatever the purpose and categories)."""
        return any(r.covers(recipient_type, recipient_id) for r in self.recipients)


@dataclass(frozen=True)
class CaptureContext:
    """How the consent was captured: in custody, through an interpreter, capacity assessed."""

    in_custody: bool = False
    interpreter_language: str | None = None
    capacity_assessed: bool = False


@dataclass(frozen=True)
class ConsentGrant:
    """A consent as granted. ``grantor_name`` and ``witness`` are personal and stored sealed."""

    consent_id: str
    subject_id: str
    jurisdiction: str
    effect: Effect
    scope: Scope
    valid_from: datetime
    valid_until: datetime | None
    grantor: Grantor
    form: Form
    recorded_at: datetime
    recorded_by: str
    pack_ref: str
    grantor_name: str | None = None
    witness: str | None = None
    evidence_sha256: str | None = None
    notice_version: str | None = None
    notice_language: str | None = None
    context: CaptureContext = field(default_factory=CaptureContext)
    irrevocable_until: datetime | None = None
    attested: frozenset[str] = frozenset()
    supersedes: str | None = None

    def given_on(self) -> date:
        """The day the consent was given, which decides who could give it: the day it starts, or
        the day it was recorded if that is earlier. A consent dated to start after a minor's
        birthday was still given by the minor; a form signed last month and recorded today was
        given last month."""
        return min(self.valid_from, self.recorded_at).date()

    def grantor_days(self) -> tuple[date, ...]:
        """The days on which the grantor must have been able to give this consent: the day it
        was given and, if later, the day it was recorded. A form backdated to when an adult was
        a child is still handed in by a guardian for an adult; one dated after a minor's
        birthday was still given by the minor."""
        given, recorded = self.given_on(), self.recorded_at.date()
        return (given,) if given == recorded else (given, recorded)


@dataclass(frozen=True)
class ConsentEvent:
    """Something that happened to a consent after its grant."""

    consent_id: str
    kind: EventKind
    at: datetime
    actor: str
    reason: str | None = None
    by: str | None = None  # who revoked: guardian, representative, court

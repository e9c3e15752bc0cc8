"""Disclosure requests and decisions as values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from consentkit.consent.model import ConsentEvent, ConsentGrant
from consentkit.policy.model import split_ref

__all__ = [
    "ACCOUNTING_OBLIGATION",
    "OUTWARD_DENIAL",
    "Basis",
    "Decision",
    "DecisionKind",
    "Denial",
    "DisclosureRequest",
    "ObligationItem",
    "Reason",
    "SubjectFacts",
]


class DecisionKind(StrEnum):
    """The answer to a disclosure request."""

    PERMIT = "permit"
    PARTIAL = "partial"
    DENY = "deny"


class Reason(StrEnum):
    """Why a category was denied, most specific first."""

    CONSENT_CANNOT_AUTHORISE = "consent-cannot-authorise"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    GUARDIAN_REQUIRED = "guardian-required"
    EXPIRED = "expired"
    OUT_OF_SCOPE = "out-of-scope"
    NO_CONSENT = "no-consent"
    OVERRIDE_MINIMUM = "override-minimum"


#: The obligation consentkit fulfils itself: ``kit.check`` records every permitted disclosure
#: made now in the accounting of disclosures (a decision at a past ``at`` is an inquiry and is not).
ACCOUNTING_OBLIGATION = "record-disclosure"

#: What the recipient sees for every kind of denial: the same bytes whether or not the
#: client or any consent exists (HAPI FHIR's uniform outward answer; C2S PEP).
OUTWARD_DENIAL = b'{"authorised":false}'


@dataclass(frozen=True)
class DisclosureRequest:
    """May these categories of this subject's data go to this recipient for this purpose, at ``at``?"""

    subject_id: str
    recipient_type: str
    purpose: str
    categories: tuple[str, ...]
    at: datetime
    actor: str
    recipient_id: str | None = None
    override: str | None = None
    justification: str | None = None
    reference: str | None = None
    approver: str | None = None
    actor_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SubjectFacts:
    """What the decision needs to know about the subject (nothing else is decrypted)."""

    subject_id: str
    jurisdiction: str
    birth_date: date | None


@dataclass(frozen=True)
class ConsentHistory:
    """A consent grant with its events."""

    grant: ConsentGrant
    events: tuple[ConsentEvent, ...] = ()


@dataclass(frozen=True)
class Denial:
    """One denied category with its reason code and the staff-facing explanation."""

    reason: Reason
    text: str
    consent_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Basis:
    """What the permitted part rests on: consents, or an override with its citation."""

    kind: str  # consent | override | none
    consent_ids: tuple[str, ...] = ()
    override: str | None = None
    citation: str | None = None
    verified: bool | None = None


@dataclass(frozen=True)
class ObligationItem:
    """An obligation attached to this decision."""

    id: str
    kind: str
    text: str
    due: datetime | None = None
    citation: str | None = None


@dataclass(frozen=True)
class Decision:
    """A decision with its reasons, basis, obligations and the pack it was made under."""

    decision: DecisionKind
    request: DisclosureRequest
    permitted: tuple[str, ...]
    denied: Mapping[str, Denial]
    basis: Basis
    obligations: tuple[ObligationItem, ...]
    pack: str
    pack_hash: str
    trace: tuple[str, ...] = ()
    mandatory: bool = False
    review_by: datetime | None = None
    audit_id: int | None = None
    disclosure_id: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def outward(self) -> bytes:
        """The recipient-safe answer: permitted categories only, one uniform denial."""
        if self.decision is DecisionKind.DENY:
            return OUTWARD_DENIAL
        return json.dumps({"authorised": True, "categories": sorted(self.permitted)},
                          separators=(",", ":")).encode()

    def to_json(self) -> dict[str, Any]:
        """The staff view (the CLI's ``check --json`` contract)."""
        pack_id, version = split_ref(self.pack)
        return {
            "decision": self.decision.value,
            "permitted_categories": list(self.permitted),
            "denied": {c: d.reason.value for c, d in self.denied.items()},
            "reasons": {c: d.text for c, d in self.denied.items()},
            "basis": {"kind": self.basis.kind, "consent_ids": list(self.basis.consent_ids),
                      "override": self.basis.override, "citation": self.basis.citation,
                      "citation_verified": self.basis.verified},
            "obligations": [{"id": o.id, "kind": o.kind, "text": o.text,
                             "due": o.due.isoformat() if o.due else None, "citation": o.citation}
                            for o in self.obligations],
            # DESIGN.md: "the pack id and version hash"; pack_ref is the id@version the audit records.
            "pack": pack_id,
            "pack_version": version,
            "pack_ref": self.pack,
            "pack_hash": self.pack_hash,
            "mandatory": self.mandatory,
            "review_by": self.review_by.isoformat() if self.review_by else None,
            "audit_id": self.audit_id,
            "disclosure_id": self.disclosure_id,
            "subject_id": self.request.subject_id,
            "recipient": self.request.recipient_type + (f":{self.request.recipient_id}"
                                                        if self.request.recipient_id else ""),
            "purpose": self.request.purpose,
            "at": self.request.at.isoformat(),
        }

"""Audit events: what the library appends and what it reads back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AuditEvent", "AuditRecord", "Outcome"]


class Outcome:
    """Outcome codes of audit events."""

    OK = "ok"
    REFUSED = "refused"
    PERMIT = "permit"
    PARTIAL = "partial"
    DENY = "deny"


@dataclass(frozen=True)
class AuditEvent:
    """An event to append.

    ``details`` must hold no personal data (ids, codes, counts); anything personal goes in
    ``personal``, which is sealed under the subject's data key before the entry is hashed.
    """

    action: str
    subject_id: str | None = None
    object_ref: str | None = None
    outcome: str = Outcome.OK
    details: Mapping[str, Any] = field(default_factory=dict)
    personal: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AuditRecord:
    """A stored event as read back; ``personal`` is filled only when decrypted for an allowed role."""

    seq: int
    ts: str
    actor: str
    action: str
    subject_id: str | None
    object_ref: str | None
    outcome: str
    details: Mapping[str, Any]
    sealed: str | None
    prev_hash: bytes
    entry_hash: bytes
    personal: Mapping[str, Any] | None = None
    personal_state: str = "none"  # none | sealed | decrypted | erased

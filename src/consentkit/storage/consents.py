"""Consents as stored: grants (scope codes in clear, names sealed) and their event history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from consentkit.clock import format_instant
from consentkit.consent.model import (
    CaptureContext,
    ConsentEvent,
    ConsentGrant,
    Effect,
    EventKind,
    Form,
    Grantor,
    RecipientRef,
    Scope,
)
from consentkit.storage.tables import ConsentEventRow, ConsentPurposeRow, ConsentRow

__all__ = ["ConsentRepository", "StoredConsent"]

# Statements built once; parameters travel separately (SQLAlchemy compiles each once).
_FOR_SUBJECTS = select(ConsentRow).where(ConsentRow.subject_id.in_(bindparam("ids", expanding=True))).order_by(
    ConsentRow.recorded_at, ConsentRow.consent_id)
_EVENTS = select(ConsentEventRow).where(ConsentEventRow.consent_id.in_(bindparam("ids", expanding=True))).order_by(
    ConsentEventRow.at, ConsentEventRow.event_id)


@dataclass(frozen=True)
class StoredConsent:
    """A grant as read back (personal fields still sealed in ``personal``)."""

    grant: ConsentGrant
    personal: bytes | None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _grant(row: Any) -> StoredConsent:
    scope = json.loads(row.scope)
    context = json.loads(row.context)
    grant = ConsentGrant(
        consent_id=row.consent_id, subject_id=row.subject_id, jurisdiction=row.jurisdiction,
        effect=Effect(row.effect),
        scope=Scope(tuple(RecipientRef(r["type"], r.get("id")) for r in scope["recipients"]),
                    frozenset(scope["purposes"]), frozenset(scope["categories"])),
        valid_from=datetime.fromisoformat(row.valid_from), valid_until=_time(row.valid_until),
        grantor=Grantor(row.grantor), form=Form(row.form), recorded_at=datetime.fromisoformat(row.recorded_at),
        recorded_by=row.recorded_by, pack_ref=row.pack_ref, evidence_sha256=row.evidence_sha256,
        notice_version=row.notice_version, notice_language=row.notice_language,
        context=CaptureContext(**context), irrevocable_until=_time(row.irrevocable_until),
        attested=frozenset(json.loads(row.attested)), supersedes=row.supersedes,
    )
    return StoredConsent(grant, bytes(row.personal) if row.personal is not None else None)


class ConsentRepository:
    """Read and write ``ck_consents``, ``ck_consent_purposes`` and ``ck_consent_events``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, grant: ConsentGrant, *, personal: bytes | None) -> None:
        """Store a grant (its personal fields already sealed)."""
        scope = {"recipients": [{"type": r.type, "id": r.id} for r in grant.scope.recipients],
                 "purposes": sorted(grant.scope.purposes), "categories": sorted(grant.scope.categories)}
        context = {"in_custody": grant.context.in_custody,
                   "interpreter_language": grant.context.interpreter_language,
                   "capacity_assessed": grant.context.capacity_assessed}
        self.conn.execute(insert(ConsentRow).values(
            consent_id=grant.consent_id, subject_id=grant.subject_id, jurisdiction=grant.jurisdiction,
            pack_ref=grant.pack_ref, effect=grant.effect.value, scope=json.dumps(scope, sort_keys=True),
            valid_from=format_instant(grant.valid_from),
            valid_until=format_instant(grant.valid_until) if grant.valid_until else None,
            grantor=grant.grantor.value, form=grant.form.value, evidence_sha256=grant.evidence_sha256,
            notice_version=grant.notice_version, notice_language=grant.notice_language,
            context=json.dumps(context, sort_keys=True),
            irrevocable_until=format_instant(grant.irrevocable_until) if grant.irrevocable_until else None,
            attested=json.dumps(sorted(grant.attested)), supersedes=grant.supersedes, personal=personal,
            recorded_at=format_instant(grant.recorded_at), recorded_by=grant.recorded_by,
        ))
        self.conn.execute(insert(ConsentPurposeRow),
                          [{"consent_id": grant.consent_id, "purpose": p} for p in sorted(grant.scope.purposes)])

    def get(self, consent_id: str) -> StoredConsent | None:
        """One consent, or ``None``."""
        row = self.conn.execute(select(ConsentRow).where(ConsentRow.consent_id == consent_id)).first()
        return _grant(row) if row is not None else None

    def for_subjects(self, subject_ids: Sequence[str]) -> dict[str, list[StoredConsent]]:
        """Every consent of each subject, oldest first."""
        found: dict[str, list[StoredConsent]] = {sid: [] for sid in subject_ids}
        if not subject_ids:
            return found
        for row in self.conn.execute(_FOR_SUBJECTS, {"ids": list(subject_ids)}):
            found[row.subject_id].append(_grant(row))
        return found

    def events(self, consent_ids: Sequence[str]) -> dict[str, list[tuple[ConsentEvent, bytes | None]]]:
        """The events of each consent in time order, with their sealed reasons."""
        found: dict[str, list[tuple[ConsentEvent, bytes | None]]] = {cid: [] for cid in consent_ids}
        if not consent_ids:
            return found
        for row in self.conn.execute(_EVENTS, {"ids": list(consent_ids)}):
            event = ConsentEvent(row.consent_id, EventKind(row.kind), datetime.fromisoformat(row.at), row.actor,
                                 None, row.by)
            found[row.consent_id].append((event, bytes(row.reason_sealed) if row.reason_sealed else None))
        return found

    def add_event(self, event: ConsentEvent, *, reason_sealed: bytes | None) -> None:
        """Append an event to a consent's history."""
        self.conn.execute(insert(ConsentEventRow).values(
            consent_id=event.consent_id, kind=event.kind.value, at=format_instant(event.at), actor=event.actor,
            reason_sealed=reason_sealed, by=event.by,
        ))

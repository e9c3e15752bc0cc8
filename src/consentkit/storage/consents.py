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
from consentkit.storage._raw import IN_CHUNK, RawStatements, placeholders
from consentkit.storage.tables import ConsentEventRow, ConsentPurposeRow, ConsentRow

__all__ = ["ConsentRepository", "History", "StoredConsent"]

# Statements built once; parameters travel separately (SQLAlchemy compiles each once).
_FOR_SUBJECTS = select(ConsentRow).where(ConsentRow.subject_id.in_(bindparam("ids", expanding=True))).order_by(
    ConsentRow.recorded_at, ConsentRow.consent_id)
_EVENTS = select(ConsentEventRow).where(ConsentEventRow.consent_id.in_(bindparam("ids", expanding=True))).order_by(
    ConsentEventRow.at, ConsentEventRow.event_id)


# Every consent of some subjects with its events, in one statement (kit.check's hot path,
# sent raw: see storage._raw). Consents oldest first, each one's events in time order; a
# consent without events comes back once with NULL event columns. The sealed personal
# fields are not read: a decision never needs them.
_HISTORIES_SQL = (
    "SELECT c.consent_id, c.subject_id, c.jurisdiction, c.effect, c.scope, c.valid_from, c.valid_until, "
    "c.grantor, c.form, c.recorded_at, c.recorded_by, c.pack_ref, c.evidence_sha256, c.notice_version, "
    "c.notice_language, c.context, c.irrevocable_until, c.attested, c.supersedes, "
    "e.kind, e.at, e.actor, e.by "
    "FROM ck_consents c LEFT JOIN ck_consent_events e ON e.consent_id = c.consent_id "
    "WHERE c.subject_id IN ({ids}) ORDER BY c.recorded_at, c.consent_id, e.at, e.event_id"
)

#: A consent grant with its events in time order (what a decision reads).
History = tuple[ConsentGrant, tuple[ConsentEvent, ...]]


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


class _Parsed:
    """Values parsed from the stored text, memoised by that text.

    Consents of one service repeat a handful of scopes, contexts and attestation lists, and
    parsing the JSON into frozensets and dataclasses cost more than fetching the row. The
    parsed values are immutable, so sharing them is safe; each table is bounded.
    """

    limit = 4096

    def __init__(self) -> None:
        self.scopes: dict[str, Scope] = {}
        self.contexts: dict[str, CaptureContext] = {}
        self.attested: dict[str, frozenset[str]] = {}

    def scope(self, text: str) -> Scope:
        found = self.scopes.get(text)
        if found is None:
            data = json.loads(text)
            found = Scope(tuple(RecipientRef(r["type"], r.get("id")) for r in data["recipients"]),
                          frozenset(data["purposes"]), frozenset(data["categories"]))
            if len(self.scopes) < self.limit:
                self.scopes[text] = found
        return found

    def context(self, text: str) -> CaptureContext:
        found = self.contexts.get(text)
        if found is None:
            found = CaptureContext(**json.loads(text))
            if len(self.contexts) < self.limit:
                self.contexts[text] = found
        return found

    def attestations(self, text: str) -> frozenset[str]:
        found = self.attested.get(text)
        if found is None:
            found = frozenset(json.loads(text))
            if len(self.attested) < self.limit:
                self.attested[text] = found
        return found


_PARSED = _Parsed()
# Enum lookups by value through a dict: calling the enum (Effect("permit")) costs ~1 µs on 3.11.
# An unknown value still goes through the enum call, which raises as before.
_EFFECTS = {e.value: e for e in Effect}
_GRANTORS = {g.value: g for g in Grantor}
_FORMS = {f.value: f for f in Form}
_KINDS = {k.value: k for k in EventKind}
_fromiso = datetime.fromisoformat


def _history_grant(row: Sequence[Any]) -> ConsentGrant:
    """A grant from the first 19 columns of a ``_HISTORIES_SQL`` row.

    Built by filling the instance dict: ConsentGrant's frozen ``__init__`` sets its 21 fields
    one ``object.__setattr__`` at a time, which cost half of reading a consent. It has no
    ``__post_init__``; tests/disclosure/test_hot_path.py checks the result equals the grant
    :func:`_grant` builds through the constructor, field for field.
    """
    (consent_id, subject_id, jurisdiction, effect, scope, valid_from, valid_until, grantor, form, recorded_at,
     recorded_by, pack_ref, evidence, notice_version, notice_language, context, irrevocable, attested,
     supersedes) = row[:19]
    grant = object.__new__(ConsentGrant)
    grant.__dict__.update(
        consent_id=consent_id, subject_id=subject_id, jurisdiction=jurisdiction,
        effect=_EFFECTS.get(effect) or Effect(effect), scope=_PARSED.scope(scope),
        valid_from=_fromiso(valid_from), valid_until=_fromiso(valid_until) if valid_until else None,
        grantor=_GRANTORS.get(grantor) or Grantor(grantor), form=_FORMS.get(form) or Form(form),
        recorded_at=_fromiso(recorded_at), recorded_by=recorded_by, pack_ref=pack_ref, grantor_name=None,
        witness=None, evidence_sha256=evidence, notice_version=notice_version, notice_language=notice_language,
        context=_PARSED.context(context), irrevocable_until=_fromiso(irrevocable) if irrevocable else None,
        attested=_PARSED.attestations(attested), supersedes=supersedes,
    )
    return grant


class ConsentRepository:
    """Read and write ``ck_consents``, ``ck_consent_purposes`` and ``ck_consent_events``."""

    def __init__(self, conn: Connection, raw: RawStatements | None = None) -> None:
        self.conn = conn
        self.raw = raw or RawStatements(conn)

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

    def histories(self, subject_ids: Sequence[str]) -> dict[str, list[History]]:
        """Every consent of each subject with its events (oldest consent first), one statement per
        :data:`IN_CHUNK` subjects. Events come without their sealed reasons: a decision never reads them."""
        found: dict[str, list[History]] = {sid: [] for sid in subject_ids}
        for first in range(0, len(subject_ids), IN_CHUNK):
            chunk = subject_ids[first:first + IN_CHUNK]
            grant: ConsentGrant | None = None
            events: list[ConsentEvent] = []
            for row in self.raw.fetchall(_HISTORIES_SQL.format(ids=placeholders(len(chunk))), chunk):
                if grant is None or row[0] != grant.consent_id:
                    if grant is not None:
                        found[grant.subject_id].append((grant, tuple(events)))
                    grant, events = _history_grant(row), []
                kind, at, actor, by = row[19:]
                if kind is not None:
                    events.append(ConsentEvent(grant.consent_id, _KINDS.get(kind) or EventKind(kind), _fromiso(at),
                                               actor, None, by))
            if grant is not None:
                found[grant.subject_id].append((grant, tuple(events)))
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

"""Use cases on consents: grant, withdraw, revoke, re-affirm, read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent
from consentkit.clock import format_instant
from consentkit.consent.model import (
    TERMINAL,
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
from consentkit.consent.state import ConsentState, state_at
from consentkit.consent.validate import attestable_elements, check_grant, guardian_age
from consentkit.errors import InvalidInputError, NotFoundError, OperationRefusedError
from consentkit.keys import open_sealed, seal
from consentkit.kit._base import KitBase
from consentkit.policy.model import Pack, split_ref
from consentkit.storage import Tx
from consentkit.storage.consents import StoredConsent
from consentkit.storage.subjects import StoredSubject
from consentkit.subjects import age_on, check_typed_line, personal_aad
from consentkit.types import check_reason

__all__ = ["ConsentOps", "ConsentView", "Withdrawal"]

#: Languages a consent notice may be recorded in (the services' own).
NOTICE_LANGUAGES = ("el", "sv", "ru", "kk", "en")

_REVOKERS = ("guardian", "representative", "court")


@dataclass(frozen=True)
class ConsentView:
    """A consent with its history and its state at a moment."""

    grant: ConsentGrant
    events: tuple[ConsentEvent, ...]
    state: ConsentState

    def to_json(self) -> dict[str, object]:
        """A JSON-ready view (grantor name and witness included only when decrypted)."""
        g = self.grant
        return {
            "consent_id": g.consent_id, "subject_id": g.subject_id, "status": self.state.status.value,
            "reaffirm_needed": self.state.reaffirm_needed, "effect": g.effect.value,
            "recipients": [str(r) for r in g.scope.recipients], "purposes": sorted(g.scope.purposes),
            "categories": sorted(g.scope.categories), "valid_from": g.valid_from.isoformat(),
            "valid_until": g.valid_until.isoformat() if g.valid_until else None, "grantor": g.grantor.value,
            "grantor_name": g.grantor_name, "form": g.form.value, "witness": g.witness,
            "evidence_sha256": g.evidence_sha256, "notice_version": g.notice_version,
            "notice_language": g.notice_language, "in_custody": g.context.in_custody,
            "interpreter_language": g.context.interpreter_language,
            "capacity_assessed": g.context.capacity_assessed,
            "irrevocable_until": g.irrevocable_until.isoformat() if g.irrevocable_until else None,
            "attested": sorted(g.attested), "supersedes": g.supersedes, "pack": split_ref(g.pack_ref)[0],
            "pack_ref": g.pack_ref, "recorded_at": g.recorded_at.isoformat(), "recorded_by": g.recorded_by,
            "history": self.history(),
        }

    def history(self) -> list[dict[str, str | None]]:
        """Every event in order, the grant first: kind, when, who recorded it, on whose word."""
        g = self.grant
        rows: list[dict[str, str | None]] = [
            {"kind": "granted", "at": g.recorded_at.isoformat(), "actor": g.recorded_by, "by": g.grantor.value}]
        rows += [{"kind": e.kind.value, "at": e.at.isoformat(), "actor": e.actor, "by": _by(e)} for e in self.events]
        return rows


def _by(event: ConsentEvent) -> str | None:
    """On whose word: the revoker, or for a superseded consent the consent that replaced it."""
    if event.kind is EventKind.SUPERSEDED and event.by:
        try:
            return str(uuid.UUID(event.by))
        except ValueError:
            return event.by
    return event.by


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal or revocation: forward only, with the recipients that should be told."""

    consent_id: str
    kind: str
    at: datetime
    recipients_to_tell: tuple[dict[str, str | None], ...]


class ConsentOps(KitBase):
    """Consents: append-only grants and events, checked against the subject's pack."""

    def grant_consent(
        self,
        subject_id: str,
        *,
        recipients: Sequence[str],
        purposes: Sequence[str],
        categories: Sequence[str],
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        grantor: str = "self",
        grantor_name: str | None = None,
        form: str = "written",
        witness: str | None = None,
        evidence_sha256: str | None = None,
        notice_version: str | None = None,
        notice_language: str | None = None,
        context: CaptureContext | None = None,
        irrevocable_until: datetime | None = None,
        attest: Sequence[str] = (),
        refuse: bool = False,
        supersedes: str | None = None,
    ) -> ConsentView:
        """Record a consent (or an explicit refusal) after checking it against the pack."""
        try:
            grant_kind, form_kind = Grantor(grantor), Form(form)
        except ValueError:
            raise InvalidInputError("--grantor: self, guardian or representative; --form: written, electronic "
                                    "or verbal") from None
        if not recipients or not purposes or not categories:
            raise InvalidInputError("give at least one --recipient, --purpose and --category")
        for label, value in (("--grantor-name", grantor_name), ("--witness", witness)):
            if value is not None:
                check_typed_line(label, value)
        if notice_language is not None and notice_language not in NOTICE_LANGUAGES:
            raise InvalidInputError(f"--notice-language: choose one of {', '.join(NOTICE_LANGUAGES)}")
        known = frozenset().union(*(attestable_elements(self.packs.get(p)) for p in self.packs.ids()))
        unknown = sorted(set(attest) - known)
        if unknown:  # a typo would be stored as an attestation nobody gave
            raise InvalidInputError(f"--attest {unknown[0]}: not an element of any consent; attest one of "
                                    f"{', '.join(sorted(known))}")
        with self.store.write() as tx:
            now = self.clock.now()  # under the write lock (see _end)
            self._require(tx, Permission.CONSENT_WRITE)
            stored = self._live(tx, subject_id)
            data_key = self._data_key(stored)
            birth = self._birth_date(stored, data_key)
            pack = self.packs.get(stored.jurisdiction)
            grant = ConsentGrant(
                consent_id=str(uuid.uuid4()), subject_id=stored.subject_id, jurisdiction=stored.jurisdiction,
                effect=Effect.REFUSE if refuse else Effect.PERMIT,
                scope=Scope(tuple(RecipientRef.parse(r) for r in recipients), frozenset(purposes),
                            frozenset(categories)),
                valid_from=valid_from or now, valid_until=valid_until, grantor=grant_kind, form=form_kind,
                recorded_at=now, recorded_by=self.actor, pack_ref=pack.ref, grantor_name=grantor_name,
                witness=witness, evidence_sha256=_sha256_hex(evidence_sha256), notice_version=notice_version,
                notice_language=notice_language, context=context or CaptureContext(),
                irrevocable_until=irrevocable_until, attested=frozenset(attest), supersedes=supersedes,
            )
            check_grant(pack, grant, birth)
            if supersedes:
                self._supersede(tx, supersedes, grant)
            personal = {k: v for k, v in (("grantor_name", grantor_name), ("witness", witness)) if v}
            tx.consents.add(grant, personal=seal(data_key, json.dumps(personal).encode(),
                                                 personal_aad(stored.subject_id)) if personal else None)
            self._audit(tx, AuditEvent("consent.granted", stored.subject_id, f"consent:{grant.consent_id}",
                                       details=_grant_details(grant, pack)))
        return ConsentView(grant, (), self._state(grant, (), now, birth, pack))

    def withdraw_consent(self, consent_id: str, *, reason: str, form: str | None = None) -> Withdrawal:
        """The subject withdraws the consent: forward only (GDPR Art. 7(3))."""
        return self._end(consent_id, EventKind.WITHDRAWN, reason=reason, by="subject", form=form)

    def revoke_consent(self, consent_id: str, *, reason: str, by: str = "guardian",
                       form: str | None = None) -> Withdrawal:
        """A guardian, representative or court revokes the consent: forward only."""
        if by not in _REVOKERS:
            raise InvalidInputError(f"--by: choose {', '.join(_REVOKERS)}")
        return self._end(consent_id, EventKind.REVOKED, reason=reason, by=by, form=form)

    def reaffirm_consent(self, consent_id: str) -> ConsentView:
        """The person re-affirms a consent (e.g. given by a guardian before they came of age)."""
        with self.store.write() as tx:
            now = self.clock.now()  # under the write lock (see _end)
            self._require(tx, Permission.CONSENT_WRITE)
            stored, subject = self._consent(tx, consent_id)
            pack = self._check_active(tx, stored, subject, now)
            alone = self._consents_alone(pack, stored.grant, subject, now)
            if alone is not None and not alone[1]:
                # The age stays out of the message (it is the birth date, coarsened).
                raise OperationRefusedError(
                    f"the client is below {alone[0]}, the age from which they consent for themselves to this "
                    f"({pack.ref}); until then the consent rests on the guardian's word, not theirs")
            tx.consents.add_event(ConsentEvent(consent_id, EventKind.REAFFIRMED, now, self.actor, by="subject"),
                                  reason_sealed=None)
            self._audit(tx, AuditEvent("consent.reaffirmed", subject.subject_id, f"consent:{consent_id}"))
        return self.consent(consent_id)

    def consent(self, consent_id: str, *, at: datetime | None = None) -> ConsentView:
        """One consent with its history, grantor name decrypted; the read is audited."""
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            stored, subject = self._consent(tx, consent_id)
            view = self._views(tx, subject, [stored], at or self.clock.now(), decrypt=True)[0]
            self._audit(tx, AuditEvent("consent.viewed", subject.subject_id, f"consent:{consent_id}"))
        return view

    def consents(self, subject_id: str, *, at: datetime | None = None) -> list[ConsentView]:
        """Every consent of a subject with its state at ``at`` (default now); the read is audited."""
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            subject = self._subject(tx, subject_id)
            stored = tx.consents.for_subjects([subject.subject_id])[subject.subject_id]
            views = self._views(tx, subject, stored, at or self.clock.now(), decrypt=False)
            self._audit(tx, AuditEvent("consent.listed", subject.subject_id, details={"count": len(views)}))
        return views

    # -- internals ---------------------------------------------------------------------

    def _end(self, consent_id: str, kind: EventKind, *, reason: str, by: str, form: str | None) -> Withdrawal:
        check_reason(reason, "--reason", "say why (it is stored encrypted)")
        with self.store.write() as tx:
            # The time is read once this transaction holds the write lock, so it falls after
            # every decision committed before the withdrawal and before every one after it.
            now = self.clock.now()
            self._require(tx, Permission.CONSENT_WRITE)
            stored, subject = self._consent(tx, consent_id)
            pack = self._check_active(tx, stored, subject, now)
            grant = stored.grant
            policy = pack.consent
            alone = self._consents_alone(pack, grant, subject, now) if by == "guardian" else None
            if alone is not None and alone[1]:
                raise OperationRefusedError(
                    f"the client has reached {alone[0]}, the age from which they consent for themselves to this "
                    f"({pack.ref}): a guardian cannot revoke it; the client withdraws it, or use --by "
                    "representative or --by court")
            if grant.irrevocable_until is not None and now < grant.irrevocable_until:
                cite = policy.irrevocable_cited.citation if policy.irrevocable_cited else pack.ref
                raise OperationRefusedError(f"this consent cannot be withdrawn before "
                                            f"{grant.irrevocable_until.date().isoformat()} ({cite})")
            if policy.withdrawal_form == "written" and form not in ("written", "electronic"):
                cite = policy.withdrawal_cited.citation if policy.withdrawal_cited else pack.ref
                raise OperationRefusedError(f"this jurisdiction requires the withdrawal in writing ({cite}); "
                                            "record it with --form written once you have it")
            data_key = self._data_key(subject)
            tx.consents.add_event(ConsentEvent(consent_id, kind, now, self.actor, by=by),
                                  reason_sealed=seal(data_key, reason.encode(), personal_aad(subject.subject_id)))
            told = tx.disclosures.under_consent(consent_id)
            recipients = tuple({(d.recipient_type, d.recipient_id): {"recipient_type": d.recipient_type,
                                                                     "recipient_id": d.recipient_id,
                                                                     "last_disclosed": d.decided_at}
                                for d in told}.values())
            self._audit(tx, AuditEvent(f"consent.{kind.value}", subject.subject_id, f"consent:{consent_id}",
                                       details={"by": by, "recipients_to_tell": len(recipients)},
                                       personal={"reason": reason}), data_key=data_key)
        return Withdrawal(consent_id, kind.value, now, recipients)

    def _supersede(self, tx: Tx, old_id: str, new: ConsentGrant) -> None:
        stored = tx.consents.get(old_id)
        if stored is None or stored.grant.subject_id != new.subject_id:
            raise NotFoundError(f"--supersedes: no consent {old_id} for this subject")
        ended = [e for e, _ in tx.consents.events([old_id])[old_id] if e.kind in TERMINAL]
        if ended:
            raise OperationRefusedError(f"--supersedes: consent {old_id} already ended ({ended[0].kind.value} on "
                                        f"{ended[0].at.date().isoformat()}); grant the new one without --supersedes")
        # ``by`` names the new consent: its 32 hex digits fit the column (VARCHAR(32)), where the
        # hyphenated id (36) does not on PostgreSQL; history() shows it hyphenated again.
        tx.consents.add_event(ConsentEvent(old_id, EventKind.SUPERSEDED, new.valid_from, self.actor,
                                           by=uuid.UUID(new.consent_id).hex), reason_sealed=None)

    def _live(self, tx: Tx, subject_id: str) -> StoredSubject:
        stored = self._subject(tx, subject_id)
        if stored.erased_at:
            raise OperationRefusedError(f"this subject was erased on {stored.erased_at[:10]}")
        return stored

    def _consent(self, tx: Tx, consent_id: str) -> tuple[StoredConsent, StoredSubject]:
        try:
            uuid.UUID(consent_id)
        except ValueError:
            raise InvalidInputError("consent id: expected a UUID (see `consentkit consent list`)") from None
        stored = tx.consents.get(consent_id)
        if stored is None:
            raise NotFoundError(f"no consent {consent_id}")
        return stored, self._live(tx, stored.grant.subject_id)

    def _check_active(self, tx: Tx, stored: StoredConsent, subject: StoredSubject, now: datetime) -> Pack:
        pack = self.packs.get(subject.jurisdiction)
        events = [e for e, _ in tx.consents.events([stored.grant.consent_id])[stored.grant.consent_id]]
        state = self._state(stored.grant, events, now, self._birth_date(subject, self._data_key(subject)), pack)
        if not state.active:
            since = f" since {state.since.date().isoformat()}" if state.since else ""
            raise OperationRefusedError(f"this consent is {state.status.value}{since}; nothing to change")
        return pack

    def _consents_alone(self, pack: Pack, grant: ConsentGrant, subject: StoredSubject,
                        now: datetime) -> tuple[int, bool] | None:
        """The age from which the client consents alone to ``grant``'s scope and whether they have
        reached it now (``None``: the pack sets no such age, or the birth date is unknown)."""
        own_age = guardian_age(pack, grant)
        birth = self._birth_date(subject, self._data_key(subject))
        if own_age is None or birth is None:
            return None
        return own_age, age_on(birth, now.date()) >= own_age

    @staticmethod
    def _state(grant: ConsentGrant, events: Sequence[ConsentEvent], at: datetime, birth: date | None,
               pack: Pack) -> ConsentState:
        return state_at(grant, events, at, birth_date=birth,
                        self_consent_age=guardian_age(pack, grant),
                        at_self_consent_age=pack.consent.at_self_consent_age)

    def _views(self, tx: Tx, subject: StoredSubject, stored: Sequence[StoredConsent], at: datetime,
               *, decrypt: bool) -> list[ConsentView]:
        pack = self.packs.get(subject.jurisdiction)
        data_key = self._data_key(subject)
        birth = self._birth_date(subject, data_key)
        events = tx.consents.events([s.grant.consent_id for s in stored])
        views = []
        for item in stored:
            grant = item.grant
            if decrypt and item.personal is not None:
                names = json.loads(open_sealed(data_key, item.personal, personal_aad(subject.subject_id)))
                grant = replace(grant, grantor_name=names.get("grantor_name"), witness=names.get("witness"))
            history = tuple(e for e, _ in events[grant.consent_id])
            views.append(ConsentView(grant, history, self._state(grant, history, at, birth, pack)))
        return views


def _sha256_hex(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise InvalidInputError("evidence: expected the SHA-256 of the signed form (64 hex digits)")
    return text


def _grant_details(grant: ConsentGrant, pack: Pack) -> dict[str, object]:
    return {
        "consent_id": grant.consent_id, "effect": grant.effect.value, "grantor": grant.grantor.value,
        "form": grant.form.value, "recipients": [str(r) for r in grant.scope.recipients],
        "purposes": sorted(grant.scope.purposes), "categories": sorted(grant.scope.categories),
        "valid_until": format_instant(grant.valid_until) if grant.valid_until else None,
        "pack": pack.ref, "pack_hash": pack.content_hash,
        "evidence": grant.evidence_sha256 is not None, "in_custody": grant.context.in_custody,
    }

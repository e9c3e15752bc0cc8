"""Use cases on disclosures: check (one or many), the accounting, the override review queue."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent, AuditRecord
from consentkit.clock import format_instant
from consentkit.consent.model import RecipientRef
from consentkit.disclosure.decide import decide
from consentkit.disclosure.model import OUTWARD_DENIAL, ConsentHistory, Decision, DisclosureRequest, SubjectFacts
from consentkit.errors import ErasedError, InvalidInputError, NotFoundError, OperationRefusedError
from consentkit.keys import open_sealed, seal
from consentkit.kit._base import KitBase
from consentkit.storage import Tx
from consentkit.storage.disclosures import DisclosureRecord, OverrideUse
from consentkit.storage.subjects import StoredSubject
from consentkit.subjects import check_typed_line, personal_aad
from consentkit.types import Role, check_reason, check_subject_id

__all__ = ["REVIEW_OUTCOMES", "CheckRequest", "DisclosureOps"]

REVIEW_OUTCOMES = ("justified", "unjustified", "needs-follow-up")


@dataclass(frozen=True)
class CheckRequest:
    """One request for :meth:`DisclosureOps.check_many` (same fields as ``check``)."""

    subject_id: str
    recipient: str
    purpose: str
    categories: tuple[str, ...]
    at: datetime | None = None
    override: str | None = None
    justification: str | None = None
    reference: str | None = None
    approver: str | None = None


class DisclosureOps(KitBase):
    """Disclosure decisions, recorded with their audit event in the same transaction."""

    def check(self, subject_id: str, *, recipient: str, purpose: str, categories: Sequence[str],
              at: datetime | None = None, override: str | None = None, justification: str | None = None,
              reference: str | None = None, approver: str | None = None, explain: bool = False) -> Decision:
        """May these categories go to this recipient for this purpose (now, or at ``at``)?

        The decision and its reasons are audited. A permitted disclosure *now* is also
        recorded for the accounting of disclosures and withdrawal follow-up; a decision at
        a past ``at`` is an inquiry and is only audited.
        """
        request = CheckRequest(subject_id, recipient, purpose, tuple(categories), at, override, justification,
                               reference, approver)
        return self._check_batch([request], explain=explain)[0]

    def check_outward(self, subject_id: str, *, recipient: str, purpose: str, categories: Sequence[str]) -> bytes:
        """The recipient-safe answer: the same bytes for every denial, unknown or erased client included.

        For systems that answer a recipient directly: whether the client or any consent
        exists must not leak (HAPI FHIR hides totals; C2S answers "no applicable consent"
        and "no documents" alike). The attempt is audited either way.
        """
        try:
            return self.check(subject_id, recipient=recipient, purpose=purpose, categories=categories).outward()
        except (NotFoundError, ErasedError):
            with self.store.write() as tx:
                self._require(tx, Permission.DISCLOSURE_CHECK)
                self._audit(tx, AuditEvent("disclosure.checked", outcome="deny", details={
                    "recipient": recipient.partition(":")[0], "purpose": purpose, "requested": list(categories),
                    "denied": "unknown-or-erased-subject"}))
            return OUTWARD_DENIAL

    def check_many(self, requests: Sequence[CheckRequest]) -> list[Decision]:
        """Decide a batch in one transaction: one audit event per decision, appended together (one
        head update, one INSERT statement), and the permitted ones recorded for the accounting."""
        return self._check_batch(list(requests), explain=False)

    def disclosures(self, subject_id: str) -> list[DisclosureRecord]:
        """The subject's accounting of disclosures; the read is audited."""
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            subject = self._subject(tx, subject_id)
            records = tx.disclosures.for_subject(subject.subject_id)
            self._audit(tx, AuditEvent("disclosure.listed", subject.subject_id, details={"count": len(records)}))
        return records

    def override_uses(self, *, pending_only: bool = True) -> list[OverrideUse]:
        """The DPO's review queue (or every override use)."""
        with self.store.read() as tx:
            self._require(tx, Permission.OVERRIDE_REVIEW)
            return tx.disclosures.override_uses(pending_only=pending_only)

    def review_override(self, disclosure_id: str, *, outcome: str, subject_informed: bool = False) -> None:
        """Close the review of an override use (DPO)."""
        if outcome not in REVIEW_OUTCOMES:
            raise InvalidInputError(f"--outcome: choose {', '.join(REVIEW_OUTCOMES)}")
        now = self._now()
        with self.store.write() as tx:
            self._require(tx, Permission.OVERRIDE_REVIEW)
            uses = [u for u in tx.disclosures.override_uses() if u.disclosure_id == disclosure_id]
            if not uses:
                raise NotFoundError(f"no override use {disclosure_id} (see `consentkit override list`)")
            use = uses[0]
            if use.actor == self.actor:
                raise OperationRefusedError("you used this override yourself; another DPO must review it")
            if use.approver == self.actor:  # four eyes: the review checks the approval too
                raise OperationRefusedError("you approved this override; another DPO must review it")
            if use.review_status == "reviewed":
                if outcome != use.review_outcome or not subject_informed or use.subject_informed_at:
                    raise OperationRefusedError(
                        f"override use {disclosure_id} was already reviewed ({use.review_outcome}, by "
                        f"{use.reviewed_by} on {(use.reviewed_at or '')[:10]}): a review is final; to record that "
                        f"the client was informed since, give --outcome {use.review_outcome} --subject-informed")
                tx.disclosures.mark_informed(disclosure_id, at=now)
                self._audit(tx, AuditEvent("override.subject-informed", use.subject_id,
                                           f"disclosure:{disclosure_id}", details={"override": use.override_id}))
                return
            tx.disclosures.review(disclosure_id, outcome=outcome, by=self.actor, at=now,
                                  informed_at=now if subject_informed else None)
            self._audit(tx, AuditEvent("override.reviewed", use.subject_id, f"disclosure:{disclosure_id}",
                                       details={"override": use.override_id, "outcome": outcome,
                                                "subject_informed": subject_informed}))

    # -- internals ---------------------------------------------------------------------

    def _check_batch(self, requests: list[CheckRequest], *, explain: bool) -> list[Decision]:
        if not requests:
            return []
        with self.store.write() as tx:
            # Read under the write lock, like a withdrawal's time: decisions and withdrawals are
            # ordered in time as they are in the log.
            now = self.clock.now()
            self._require(tx, Permission.DISCLOSURE_CHECK)
            roles = frozenset(r.value for r in self._roles_of_actor(tx))
            sids = [_subject_id(r.subject_id) for r in requests]
            subjects = self._load_subjects(tx, sids)
            keys = {sid: self._data_key(s) for sid, s in subjects.items()}
            facts = {sid: SubjectFacts(sid, s.jurisdiction, self._birth_date(s, keys[sid]))
                     for sid, s in subjects.items()}
            histories = self._histories(tx, list(subjects))
            recipients: dict[str, RecipientRef] = {}
            decisions = []
            for item, sid in zip(requests, sids, strict=True):
                recipient = recipients.get(item.recipient)
                if recipient is None:
                    recipient = recipients[item.recipient] = RecipientRef.parse(item.recipient)
                request = DisclosureRequest(
                    subject_id=sid, recipient_type=recipient.type, recipient_id=recipient.id,
                    purpose=item.purpose, categories=item.categories, at=item.at or now, actor=self.actor,
                    override=item.override, justification=item.justification, reference=item.reference,
                    approver=item.approver, actor_roles=roles)
                if item.override is not None:
                    _check_override_text(item)
                    self._check_approver(tx, item.approver)
                decisions.append(decide(request, facts[sid], histories[sid], self.packs.get(facts[sid].jurisdiction),
                                        explain=explain))
            instants = _Instants()
            records = self._audit_many(tx, [_event(d, instants) for d in decisions], keys)
            return self._record_decisions(tx, decisions, records, keys, historical=[r.at is not None for r in requests],
                                          instants=instants)

    def _load_subjects(self, tx: Tx, sids: list[str]) -> dict[str, StoredSubject]:
        ids = list(dict.fromkeys(sids))
        found = tx.subjects.get_many(ids)
        for sid in ids:
            stored = found.get(sid)
            if stored is None:
                raise NotFoundError(f"no subject {sid}: check the id (`consentkit subject list`)")
            if stored.erased_at:
                raise ErasedError(f"subject {sid} was erased on {stored.erased_at[:10]}: there is nothing to disclose")
        return found

    def _histories(self, tx: Tx, subject_ids: list[str]) -> dict[str, list[ConsentHistory]]:
        return {sid: [ConsentHistory(grant, events) for grant, events in items]
                for sid, items in tx.consents.histories(subject_ids).items()}

    def _check_approver(self, tx: Tx, approver: str | None) -> None:
        if approver is None:
            return
        if approver == self.actor:
            raise InvalidInputError("--approver: someone other than you must approve the override")
        if not tx.actors.roles(approver) & {Role.SUPERVISOR, Role.DPO, Role.ADMIN}:
            raise InvalidInputError(f"--approver: {approver} is not a registered supervisor or DPO (give the actor id "
                                    "of one; an admin registers it with `consentkit actor add --id ID --role "
                                    "supervisor`)")

    def _record_decisions(self, tx: Tx, decisions: list[Decision], records: list[AuditRecord], keys: dict[str, bytes],
                          *, historical: list[bool], instants: _Instants) -> list[Decision]:
        done, rows = [], []
        new_ids = _new_ids(sum(1 for d, past in zip(decisions, historical, strict=True) if d.permitted and not past))
        for decision, record, past in zip(decisions, records, historical, strict=True):
            seq = record.seq
            disclosure_id = None
            if decision.permitted and not past:
                disclosure_id = next(new_ids)
                rows.append(self._disclosure_row(decision, disclosure_id, seq, instants))
            done.append(_with_ids(decision, seq, disclosure_id))
        tx.disclosures.add_many(rows)
        for decision in done:
            if decision.disclosure_id and decision.basis.kind == "override":
                tx.disclosures.add_override_use(self._override_use(decision, keys[decision.request.subject_id]))
        return done

    def _disclosure_row(self, decision: Decision, disclosure_id: str, seq: int,
                        instants: _Instants) -> DisclosureRecord:
        request = decision.request
        return DisclosureRecord(
            disclosure_id, request.subject_id, instants.format(request.at), self.actor, request.recipient_type,
            request.recipient_id, request.purpose, decision.permitted, decision.decision.value,
            decision.basis.kind, decision.basis.override, decision.pack, seq, decision.basis.consent_ids)

    def _override_use(self, decision: Decision, data_key: bytes) -> OverrideUse:
        request = decision.request
        inform = next((o.due for o in decision.obligations if o.kind == "inform-subject" and o.due), None)
        details = {"justification": request.justification, "reference": request.reference}
        return OverrideUse(
            disclosure_id=decision.disclosure_id or "", subject_id=request.subject_id,
            override_id=decision.basis.override or "", mandatory=decision.mandatory,
            used_at=format_instant(request.at), actor=self.actor, approver=request.approver,
            details_sealed=seal(data_key, json.dumps(details).encode(), personal_aad(request.subject_id)),
            expires_at=format_instant(decision.review_by) if decision.review_by else None,
            inform_by=format_instant(inform) if inform else None, subject_informed_at=None,
            review_status="pending" if any(o.kind == "review" for o in decision.obligations) else "not-required",
            review_outcome=None, reviewed_by=None, reviewed_at=None)

    def override_details(self, use: OverrideUse) -> dict[str, str | None]:
        """The sealed justification and reference of an override use (DPO only)."""
        with self.store.write() as tx:
            self._require(tx, Permission.OVERRIDE_REVIEW)
            subject = self._subject(tx, use.subject_id)
            self._audit(tx, AuditEvent("override.viewed", subject.subject_id, f"disclosure:{use.disclosure_id}"))
        if use.details_sealed is None or subject.wrapped is None:
            return {"justification": None, "reference": None}
        data = json.loads(open_sealed(self._data_key(subject), use.details_sealed, personal_aad(subject.subject_id)))
        return {"justification": data.get("justification"), "reference": data.get("reference")}


# A subject id already in canonical form (lower-case hyphenated UUID), which check_subject_id
# would return unchanged: batches skip the UUID round trip for those.
_CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _subject_id(value: str) -> str:
    return value if _CANONICAL_ID.fullmatch(value) else check_subject_id(value)


class _Instants:
    """``format_instant`` memoised for one batch: its requests mostly share one time (now)."""

    def __init__(self) -> None:
        self._done: dict[datetime, str] = {}

    def format(self, moment: datetime) -> str:
        text = self._done.get(moment)
        if text is None:
            text = self._done[moment] = format_instant(moment)
        return text


def _check_override_text(item: CheckRequest) -> None:
    """The typed parts of an override, when given: a reference is one line (it is shown as one
    field); a justification may run over lines, without other control characters. An override
    is used now, never asked about another time: what it permits is recorded for review."""
    if item.at is not None:
        raise InvalidInputError("--at: an override is used now and goes to the review queue; it cannot be "
                                "asked about another time (leave --at out)")
    if item.reference is not None:
        check_typed_line("--reference", item.reference)
    if item.justification is not None and item.justification.strip():
        check_reason(item.justification, "--justification", "say why the override applies")


def _new_ids(count: int) -> Iterator[str]:
    """``count`` time-ordered UUIDs (version 7, RFC 9562 §5.7) from one read of the OS random source.

    A disclosure id is the primary key of ``ck_disclosures`` (and of ``ck_override_uses``):
    ids that grow with time land on the right-most B-tree page, which stays in the cache,
    where random (version 4) ids would each land on a random leaf page of a large table.
    The 48-bit millisecond time says no more than ``decided_at`` beside it; a batch counter
    in ``rand_a`` keeps the ids of one batch in order, and the 62 bits of ``rand_b`` are
    random.
    """
    pool = os.urandom(8 * count)
    millis = time.time_ns() // 1_000_000
    for index in range(count):
        high = (millis + (index >> 12)) << 16 | 0x7000 | index & 0x0FFF  # unix_ts_ms | ver 7 | rand_a
        low = int.from_bytes(pool[8 * index:8 * index + 8], "big") & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000
        text = f"{high:016x}{low:016x}"
        yield f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _with_ids(decision: Decision, audit_id: int, disclosure_id: str | None) -> Decision:
    """``dataclasses.replace(decision, audit_id=..., disclosure_id=...)`` at a tenth of the cost.

    replace() walks the fields and runs the frozen ``__init__`` (one ``object.__setattr__``
    per field); Decision has no ``__post_init__``, so a copy of its ``__dict__`` with the two
    ids set is the same value (tests/disclosure/test_hot_path.py compares the two).
    """
    copy = object.__new__(Decision)
    copy.__dict__.update(decision.__dict__, audit_id=audit_id, disclosure_id=disclosure_id)
    return copy


def _event(decision: Decision, instants: _Instants) -> AuditEvent:
    request = decision.request
    details = {
        "recipient": request.recipient_type, "recipient_id": request.recipient_id, "purpose": request.purpose,
        "requested": list(request.categories), "permitted": list(decision.permitted),
        "denied": {c: d.reason.value for c, d in decision.denied.items()},
        "basis": decision.basis.kind, "consents": list(decision.basis.consent_ids),
        "override": decision.basis.override, "pack": decision.pack, "pack_hash": decision.pack_hash,
        "at": instants.format(request.at),
    }
    personal = None
    if request.override is not None:
        personal = {"justification": request.justification, "reference": request.reference,
                    "approver": request.approver}
    action = "disclosure.override" if request.override else "disclosure.checked"
    return AuditEvent(action, request.subject_id, details=details, outcome=decision.decision.value,
                      personal=personal)

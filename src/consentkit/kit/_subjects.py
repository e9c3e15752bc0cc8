"""Use cases on subjects: register, read, list, find, legal holds and erasure."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent, Outcome
from consentkit.errors import InvalidInputError, OperationRefusedError
from consentkit.keys import open_sealed, seal
from consentkit.kit._base import KitBase
from consentkit.pseudonym import identifiers
from consentkit.storage import Tx
from consentkit.storage.subjects import StoredSubject
from consentkit.subjects import (
    DEFAULT_ID_TYPE,
    LANGUAGES,
    PersonalData,
    SubjectRecord,
    check_typed_person,
    personal_aad,
)
from consentkit.types import check_reason

__all__ = ["ERASURE_GROUNDS", "SubjectOps"]

#: Why a subject is erased (GDPR Art. 17(1) grounds, retention, or a court order); a code,
#: never free text, because the erasure event must stay readable after the key is gone.
ERASURE_GROUNDS = ("request", "consent-withdrawn", "objection", "unlawful", "retention-ended",
                   "legal-obligation", "court-order")


class SubjectOps(KitBase):
    """Subjects: every personal field sealed under the subject's own data key."""

    def add_subject(
        self,
        *,
        jurisdiction: str,
        name: str,
        birth_date: date,
        national_id: str | None = None,
        national_id_type: str | None = None,
        language: str | None = None,
        contact: str | None = None,
        other_names: tuple[str, ...] = (),
    ) -> SubjectRecord:
        """Register a client and return the record (its ``subject_id`` is a new random UUID)."""
        language = self._check_jurisdiction(jurisdiction, language)
        now = self.clock.now()
        if not date(1900, 1, 1) <= birth_date <= now.date():
            raise InvalidInputError("birth date: must be between 1900-01-01 and today")
        id_type, nid_key = self._national_id(jurisdiction, national_id, national_id_type, now.date())
        check_typed_person(name, contact, other_names)
        person = PersonalData(name=name.strip(), birth_date=birth_date, national_id=national_id,
                              national_id_type=id_type, contact=contact, other_names=other_names)
        subject_id = str(uuid.uuid4())
        data_key = secrets.token_bytes(32)
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_WRITE)
            tx.meta.add_master_kid(self.keys.master.kid)
            tx.subjects.add(
                subject_id, jurisdiction=jurisdiction, language=language, at=self._now(), by=self.actor,
                personal=seal(data_key, person.to_bytes(), personal_aad(subject_id)),
                nid_index=self.keys.blind_index(nid_key) if nid_key else None,
                wrapped=self.keys.wrap(subject_id, data_key),
            )
            self._audit(tx, AuditEvent("subject.added", subject_id,
                                       details={"jurisdiction": jurisdiction, "language": language}))
        return SubjectRecord(subject_id, jurisdiction, language, now, person)

    def subject(self, subject_id: str) -> SubjectRecord:
        """Read one subject, decrypting personal fields; the access is audited."""
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            stored = self._subject(tx, subject_id)
            self._audit(tx, AuditEvent("subject.viewed", stored.subject_id))
        return self._record(stored)

    def subjects(self, *, jurisdiction: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[SubjectRecord]:
        """List subjects without decrypting anything (ids, jurisdiction, status)."""
        if jurisdiction is not None:
            self.packs.get(jurisdiction)  # an unknown jurisdiction is an error naming the known ones
        with self.store.read() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            rows = tx.subjects.page(jurisdiction=jurisdiction, limit=limit, offset=offset)
        return [self._record(stored, decrypt=False) for stored in rows]

    def find_subjects(self, national_id: str, *, national_id_type: str | None = None,
                      jurisdiction: str | None = None) -> list[str]:
        """Subject ids whose national ID matches, through the blind index; the search is audited."""
        if jurisdiction is not None:
            self.packs.get(jurisdiction)  # an unknown jurisdiction is an error naming the known ones
        id_type = national_id_type or DEFAULT_ID_TYPE.get(jurisdiction or "", "")
        types = [id_type] if id_type else sorted(set(DEFAULT_ID_TYPE.values()))
        keys = [f"{kind}:{identifiers.normalise(kind, national_id, today=self.clock.now().date())}"
                for kind in types if identifiers.is_valid(kind, national_id)]
        if not keys:
            raise InvalidInputError("national id: not a valid identifier of the given or any known type")
        indexes = [index for key in keys for index in self.keys.blind_indexes(key)]
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            found = tx.subjects.find_by_index(indexes)
            self._audit(tx, AuditEvent("subject.searched", details={"matches": len(found)}))
        return found

    def hold_subject(self, subject_id: str, *, reason: str) -> None:
        """Place a legal hold: erasure is refused until it is released."""
        check_reason(reason, "--reason", "say why the data must be kept (court case, investigation)")
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_HOLD)
            stored = self._live_subject(tx, subject_id)
            data_key = self._data_key(stored)
            hold_id = tx.subjects.place_hold(
                stored.subject_id, at=self._now(), by=self.actor,
                reason_sealed=seal(data_key, reason.encode(), personal_aad(stored.subject_id)),
            )
            self._audit(tx, AuditEvent("subject.hold-placed", stored.subject_id, object_ref=f"hold:{hold_id}",
                                       personal={"reason": reason}), data_key=data_key)

    def release_subject(self, subject_id: str) -> int:
        """Release every active legal hold of a subject; returns how many."""
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_HOLD)
            stored = self._subject(tx, subject_id)
            released = tx.subjects.release_holds(stored.subject_id, at=self._now(), by=self.actor)
            if not released:
                raise OperationRefusedError("this subject has no active legal hold")
            self._audit(tx, AuditEvent("subject.hold-released", stored.subject_id,
                                       details={"released": released}))
        return released

    def erase_subject(self, subject_id: str, *, ground: str = "request") -> SubjectRecord:
        """Crypto-shred a subject: destroy the data key so every sealed field becomes unreadable.

        Refused (and the refusal audited) while a legal hold is active. The audit trail keeps
        verifying: its entries hashed the ciphertext, not the plaintext.
        """
        if ground not in ERASURE_GROUNDS:
            raise InvalidInputError(f"--ground: choose one of {', '.join(ERASURE_GROUNDS)}")
        refused = False
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_ERASE)
            # An erased subject whose key is back (restored from a backup) is erased again.
            stored = self._live_subject(tx, subject_id, restored=True)
            if stored.on_hold:
                refused = True
                self._audit(tx, AuditEvent("subject.erase-refused", stored.subject_id,
                                           outcome=Outcome.REFUSED, details={"ground": ground,
                                                                             "because": "legal-hold"}))
            else:
                now = self._now()
                tx.subjects.erase(stored.subject_id, at=now)
                self._audit(tx, AuditEvent("subject.erased", stored.subject_id, details={"ground": ground}),
                            ts=now)
        if refused:
            raise OperationRefusedError(
                "erasure refused: the subject is under a legal hold (release it first with "
                "`consentkit subject release`, if the hold has ended)"
            )
        with self.store.read() as tx:
            return self._record(self._subject(tx, stored.subject_id))

    # -- helpers -----------------------------------------------------------------

    def _live_subject(self, tx: Tx, subject_id: str, *, restored: bool = False) -> StoredSubject:
        """The subject, refused if erased (``restored``: unless its data key is back)."""
        stored = self._subject(tx, subject_id)
        if stored.erased_at and not (restored and stored.wrapped is not None):
            raise OperationRefusedError(f"this subject was already erased on {stored.erased_at[:10]}")
        return stored

    def _record(self, stored: StoredSubject, *, decrypt: bool = True) -> SubjectRecord:
        person = None
        if decrypt and stored.personal is not None and stored.wrapped is not None:
            data_key = self._data_key(stored)
            person = PersonalData.from_bytes(
                open_sealed(data_key, stored.personal, personal_aad(stored.subject_id))
            )
        return SubjectRecord(
            subject_id=stored.subject_id, jurisdiction=stored.jurisdiction, language=stored.language,
            created_at=datetime.fromisoformat(stored.created_at),
            personal=person,
            erased_at=datetime.fromisoformat(stored.erased_at) if stored.erased_at else None,
            on_hold=stored.on_hold,
        )

    def _check_jurisdiction(self, jurisdiction: str, language: str | None) -> str:
        known = self.packs.ids()
        if jurisdiction not in known:
            raise InvalidInputError(f"--jurisdiction: choose one of {', '.join(known)} (the policy packs)")
        chosen = language or self.packs.get(jurisdiction).languages[0]
        if chosen not in LANGUAGES:
            raise InvalidInputError(f"--language: choose one of {', '.join(LANGUAGES)}")
        return chosen

    @staticmethod
    def _national_id(jurisdiction: str, value: str | None, id_type: str | None,
                     today: date) -> tuple[str | None, str | None]:
        if value is None:
            return None, None
        kind = id_type or DEFAULT_ID_TYPE.get(jurisdiction)
        if kind is None:
            raise InvalidInputError("--national-id-type: required for this jurisdiction "
                                    f"(one of {', '.join(identifiers.KINDS)})")
        if kind not in identifiers.KINDS:
            raise InvalidInputError(f"--national-id-type: choose one of {', '.join(identifiers.KINDS)}")
        if not identifiers.is_valid(kind, value):
            raise InvalidInputError(f"--national-id: not a valid {kind} (check the digits)")
        return kind, f"{kind}:{identifiers.normalise(kind, value, today=today)}"

"""Use case: the names of a subject, for redacting notes about them (``redact --subject``)."""

from __future__ import annotations

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent
from consentkit.errors import ErasedError
from consentkit.keys import open_sealed
from consentkit.kit._base import KitBase
from consentkit.subjects import PersonalData, personal_aad

__all__ = ["RedactOps"]


class RedactOps(KitBase):
    """Reads a subject's names so the detector can find them in free text."""

    def redaction_names(self, subject_id: str) -> tuple[str, ...]:
        """The subject's name and other names (relatives, aliases) as recorded.

        Reading them decrypts the subject's record, so it needs ``subject.read`` and is
        audited as a record access; the entry says why (``redaction``) and how many names
        were read, never the names nor the text being redacted.
        """
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            stored = self._subject(tx, subject_id)
            if stored.personal is None or stored.wrapped is None:
                raise ErasedError("this subject was erased: its names can no longer be read; "
                                  "give them with --known-name if you still hold them")
            person = PersonalData.from_bytes(open_sealed(self._data_key(stored), stored.personal,
                                                         personal_aad(stored.subject_id)))
            names = (person.name, *person.other_names)
            self._audit(tx, AuditEvent("subject.viewed", stored.subject_id,
                                       details={"purpose": "redaction", "names": len(names)}))
        return names

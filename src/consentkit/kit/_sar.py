"""Use cases on the subject-access register: open a request, list, extend, close.

The due date is computed once, when the request is recorded, by the subject's pack clock
(GDPR Art. 12(3): one month; 152-FZ art. 14(3), 20: ten working days...) and the
organisation's public holidays; the DPO report shows due and overdue requests.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent
from consentkit.errors import InvalidInputError, NotFoundError, OperationRefusedError
from consentkit.kit._base import KitBase
from consentkit.reports.deadline import DeadlineRule
from consentkit.reports.organisation import Organisation, load_organisation
from consentkit.reports.subject import deadline_rule
from consentkit.storage.sar import AccessRequest, AccessRequestRepository

__all__ = ["ACCESS_CHANNELS", "ACCESS_OUTCOMES", "AccessRequestOps"]

ACCESS_CHANNELS = ("written", "electronic", "in-person", "phone")
ACCESS_OUTCOMES = ("answered", "refused", "withdrawn")


class AccessRequestOps(KitBase):
    """The register of subject-access requests (``consentkit sar``)."""

    def organisation(self, path: Path | None = None) -> Organisation:
        """The organisation configuration from ``path``, or defaults when there is none."""
        return load_organisation(path, self.packs) if path is not None else Organisation.unset()

    def _deadline(self, jurisdiction: str) -> DeadlineRule:
        rule = deadline_rule(self.packs.get(jurisdiction))
        if rule is None:
            raise OperationRefusedError(f"pack {jurisdiction} sets no subject-access deadline "
                                        "(deadlines.subject_access): add one to the pack")
        return rule

    def open_access_request(self, subject_id: str, *, received: date | None = None, channel: str = "written",
                            organisation: Path | None = None) -> AccessRequest:
        """Record a subject-access request and its due date by the pack's clock."""
        if channel not in ACCESS_CHANNELS:
            raise InvalidInputError(f"--channel: choose one of {', '.join(ACCESS_CHANNELS)}")
        today = self.clock.now().date()
        received = received or today
        if received > today:
            raise InvalidInputError("--received: the request cannot arrive in the future")
        if received.year < 1990:  # a typo, not a request a register could still have open
            raise InvalidInputError("--received: give the date the request arrived (YYYY-MM-DD, from 1990 on)")
        org = self.organisation(organisation)
        with self.store.write() as tx:
            self._require(tx, Permission.REPORT_SUBJECT)
            stored = self._subject(tx, subject_id)
            due = self._deadline(stored.jurisdiction).due(received, org.holidays)
            request = AccessRequest(
                request_id=str(uuid.uuid4()), subject_id=stored.subject_id, jurisdiction=stored.jurisdiction,
                received_on=received.isoformat(), due_on=due.isoformat(), extended_to=None, channel=channel,
                status="open", opened_at=self._now(), opened_by=self.actor)
            AccessRequestRepository(tx.conn).add(request)
            self._audit(tx, AuditEvent("sar.opened", stored.subject_id, f"sar:{request.request_id}", details={
                "received": request.received_on, "due": request.due_on, "channel": channel}))
        return request

    def access_requests(self, *, status: str | None = None, subject_id: str | None = None) -> list[AccessRequest]:
        """The register, earliest deadline first (ids and dates only, nothing decrypted)."""
        if status not in (None, "open", "closed"):
            raise InvalidInputError("--status: open or closed")
        with self.store.read() as tx:
            self._require(tx, Permission.REPORT_SUBJECT)
            return AccessRequestRepository(tx.conn).find(status=status, subject_id=subject_id)

    def extend_access_request(self, request_id: str, *, organisation: Path | None = None) -> AccessRequest:
        """Use the pack's extension (GDPR Art. 12(3): two more months), before the first deadline."""
        org = self.organisation(organisation)
        with self.store.write() as tx:
            self._require(tx, Permission.REPORT_SUBJECT)
            repo = AccessRequestRepository(tx.conn)
            request = self._open_request(repo, request_id)
            if request.extended_to:
                raise OperationRefusedError("this request was already extended once")
            if self.clock.now().date().isoformat() > request.due_on:
                raise OperationRefusedError("the first deadline has passed: an extension had to be notified "
                                            "before it")
            extended = self._deadline(request.jurisdiction).extended(date.fromisoformat(request.received_on),
                                                                      org.holidays)
            if extended is None:
                raise OperationRefusedError(f"pack {request.jurisdiction} allows no extension")
            repo.extend(request_id, to=extended.isoformat())
            self._audit(tx, AuditEvent("sar.extended", request.subject_id, f"sar:{request_id}",
                                       details={"to": extended.isoformat()}))
            return repo.get(request_id) or request

    def close_access_request(self, request_id: str, *, outcome: str = "answered") -> AccessRequest:
        """Close a request: answered, refused (with reasons given to the subject) or withdrawn."""
        if outcome not in ACCESS_OUTCOMES:
            raise InvalidInputError(f"--outcome: choose one of {', '.join(ACCESS_OUTCOMES)}")
        with self.store.write() as tx:
            self._require(tx, Permission.REPORT_SUBJECT)
            repo = AccessRequestRepository(tx.conn)
            request = self._open_request(repo, request_id)
            today = self.clock.now().date().isoformat()
            repo.close(request_id, on=today, by=self.actor, outcome=outcome)
            self._audit(tx, AuditEvent("sar.closed", request.subject_id, f"sar:{request_id}", details={
                "outcome": outcome, "late": today > request.deadline}))
            return repo.get(request_id) or request

    @staticmethod
    def _open_request(repo: AccessRequestRepository, request_id: str) -> AccessRequest:
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise InvalidInputError("request id: expected a UUID (see `consentkit sar list`)") from None
        request = repo.get(request_id)
        if request is None:
            raise NotFoundError(f"no subject-access request {request_id} (see `consentkit sar list`)")
        if request.status != "open":
            raise OperationRefusedError(f"this request was already closed on {request.closed_on}")
        return request

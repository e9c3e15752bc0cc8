"""Subject-access requests as stored: the register behind ``consentkit sar`` and the DPO report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from consentkit.storage.tables import SubjectAccessRequestRow

__all__ = ["AccessRequest", "AccessRequestRepository"]

_ROW = SubjectAccessRequestRow


@dataclass(frozen=True)
class AccessRequest:
    """One subject-access request; dates are ``YYYY-MM-DD``."""

    request_id: str
    subject_id: str
    jurisdiction: str
    received_on: str
    due_on: str
    extended_to: str | None
    channel: str
    status: str
    opened_at: str
    opened_by: str
    closed_on: str | None = None
    closed_by: str | None = None
    outcome: str | None = None

    @property
    def deadline(self) -> str:
        """The date the answer is due: the extended date once the deadline was extended."""
        return self.extended_to or self.due_on


def _request(row: Any) -> AccessRequest:
    return AccessRequest(**{name: getattr(row, name) for name in AccessRequest.__dataclass_fields__})


class AccessRequestRepository:
    """Read and write ``ck_access_requests``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, request: AccessRequest) -> None:
        """Record a new request."""
        self.conn.execute(insert(_ROW).values(**request.__dict__))

    def get(self, request_id: str) -> AccessRequest | None:
        """One request, or ``None``."""
        row = self.conn.execute(select(_ROW).where(_ROW.request_id == request_id)).first()
        return _request(row) if row is not None else None

    def find(self, *, status: str | None = None, subject_id: str | None = None,
             received_before: str | None = None, limit: int = 1000) -> list[AccessRequest]:
        """Requests, earliest deadline first (an extended one by its new deadline), optionally by
        status, subject or receipt date; ties in the same order on every database."""
        request_id: Any = _ROW.request_id
        if self.conn.dialect.name == "postgresql":  # byte order, as SQLite; a locale's order skips the hyphens
            request_id = request_id.collate("C")
        query = select(_ROW).order_by(func.coalesce(_ROW.extended_to, _ROW.due_on), _ROW.received_on, request_id)
        if status is not None:
            query = query.where(_ROW.status == status)
        if subject_id is not None:
            query = query.where(_ROW.subject_id == subject_id)
        if received_before is not None:
            query = query.where(_ROW.received_on < received_before)
        return [_request(row) for row in self.conn.execute(query.limit(limit))]

    def close(self, request_id: str, *, on: str, by: str, outcome: str) -> int:
        """Close an open request; returns the rows changed (0 if it is unknown or already closed)."""
        result = self.conn.execute(update(_ROW).where(_ROW.request_id == request_id, _ROW.status == "open")
                                   .values(status="closed", closed_on=on, closed_by=by, outcome=outcome))
        return int(result.rowcount)

    def extend(self, request_id: str, *, to: str) -> int:
        """Extend the deadline of an open request (the subject must be told why)."""
        result = self.conn.execute(update(_ROW).where(_ROW.request_id == request_id, _ROW.status == "open")
                                   .values(extended_to=to))
        return int(result.rowcount)

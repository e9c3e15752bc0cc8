"""Installation facts kept in the database: log origin and known master key ids (no secrets)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, update

from consentkit.storage.tables import MetaRow

__all__ = ["MetaRepository"]

_GET = select(MetaRow.value).where(MetaRow.key == bindparam("wanted"))


class MetaRepository:
    """Read and write ``ck_meta``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> str | None:
        """The value for ``key``, or ``None``."""
        return self.conn.execute(_GET, {"wanted": key}).scalar_one_or_none()

    def put(self, key: str, value: str) -> None:
        """Insert or replace ``key``."""
        if self.get(key) is None:
            self.conn.execute(insert(MetaRow).values(key=key, value=value))
        else:
            self.conn.execute(update(MetaRow).where(MetaRow.key == key).values(value=value))

    def master_kids(self) -> list[str]:
        """Master key ids that have wrapped data keys in this database."""
        value = self.get("master_kids")
        return value.split(",") if value else []

    def add_master_kid(self, kid: str) -> None:
        """Remember that ``kid`` wraps keys here."""
        kids = self.master_kids()
        if kid not in kids:
            self.put("master_kids", ",".join([*kids, kid]))

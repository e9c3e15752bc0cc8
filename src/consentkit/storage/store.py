"""The unit of work: one database transaction with the repositories bound to it.

``Store.write()`` yields a :class:`Tx` whose changes and audit events commit together or
not at all; ``Store.read()`` yields a read-only one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, Engine, inspect

from consentkit.storage.actors import ActorRepository
from consentkit.storage.audit_log import AuditLog
from consentkit.storage.consents import ConsentRepository
from consentkit.storage.disclosures import DisclosureRepository
from consentkit.storage.engine import check_schema, make_engine, migrate, translate_errors, writer
from consentkit.storage.meta import MetaRepository
from consentkit.storage.subjects import SubjectRepository

__all__ = ["Store", "Tx"]


@dataclass
class Tx:
    """Repositories sharing one connection (and so one transaction); each made once."""

    conn: Connection

    @cached_property
    def meta(self) -> MetaRepository:
        """Installation facts."""
        return MetaRepository(self.conn)

    @cached_property
    def actors(self) -> ActorRepository:
        """Actors and roles."""
        return ActorRepository(self.conn)

    @cached_property
    def subjects(self) -> SubjectRepository:
        """Subjects, their wrapped keys and legal holds."""
        return SubjectRepository(self.conn)

    @cached_property
    def consents(self) -> ConsentRepository:
        """Consent grants and events."""
        return ConsentRepository(self.conn)

    @cached_property
    def disclosures(self) -> DisclosureRepository:
        """Disclosures and override uses."""
        return DisclosureRepository(self.conn)

    @cached_property
    def audit(self) -> AuditLog:
        """The audit trail."""
        return AuditLog(self.conn)


class Store:
    """Owns the engine; hands out transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    @classmethod
    def open(cls, url: str) -> Store:
        """Open an existing database whose schema is current."""
        engine = make_engine(url, must_exist=True)
        try:
            check_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @classmethod
    def create(cls, url: str) -> Store:
        """Open or create a database and bring its schema to the head revision."""
        engine = make_engine(url, must_exist=False)
        migrate(engine)
        return cls(engine)

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open or create a database without checking its schema (for ``init``)."""
        return cls(make_engine(url, must_exist=False))

    def migrate(self) -> None:
        """Bring the schema to the head revision."""
        migrate(self.engine)

    def peek_installation(self) -> tuple[str | None, list[str]]:
        """Log origin and master key ids of an existing installation, before any write."""
        with translate_errors(), self.engine.connect() as conn:
            if not inspect(conn).has_table("ck_meta"):
                return None, []
            tx = Tx(conn)
            return tx.meta.get("origin"), tx.meta.master_kids()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction: commits on success, rolls back on any exception."""
        with translate_errors(), self._writer.begin() as conn:
            yield Tx(conn)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Tx]:
        """A read transaction (rolled back at the end).

        ``snapshot`` asks for one consistent view across several queries (verification
        reads rows, head and checkpoints while writers go on). SQLite's transactions
        already are snapshots; PostgreSQL needs REPEATABLE READ for that.
        """
        engine = self.engine
        if snapshot and self.dialect == "postgresql":
            engine = engine.execution_options(isolation_level="REPEATABLE READ")
        with translate_errors(), engine.connect() as conn, conn.begin():
            yield Tx(conn)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

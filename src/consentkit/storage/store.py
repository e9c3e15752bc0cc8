"""The unit of work: one database transaction with the repositories bound to it.

``Store.write()`` yields a :class:`Tx` whose changes and audit events commit together or
not at all; ``Store.read()`` yields a read-only one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, inspect

from consentkit.storage._raw import RawStatements, wrap_driver_error
from consentkit.storage.actors import ActorRepository
from consentkit.storage.audit_log import AuditLog
from consentkit.storage.consents import ConsentRepository
from consentkit.storage.disclosures import DisclosureRepository
from consentkit.storage.engine import check_schema, make_engine, migrate, translate_errors, writer
from consentkit.storage.meta import MetaRepository
from consentkit.storage.subjects import SubjectRepository

__all__ = ["Store", "Tx"]


class Tx:
    """Repositories sharing one connection (and so one transaction); each made on first use.

    (Plain lazy attributes rather than ``functools.cached_property``, which takes a lock on
    every first access in Python 3.11: a check touches four repositories per transaction.)
    The repositories that send raw statements share one :class:`RawStatements`, and so one
    DB-API cursor, instead of making one each.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._raw: RawStatements | None = None
        self._meta: MetaRepository | None = None
        self._actors: ActorRepository | None = None
        self._subjects: SubjectRepository | None = None
        self._consents: ConsentRepository | None = None
        self._disclosures: DisclosureRepository | None = None
        self._audit: AuditLog | None = None

    @property
    def raw(self) -> RawStatements:
        """The transaction's raw statements (see ``storage._raw``)."""
        if self._raw is None:
            self._raw = RawStatements(self.conn)
        return self._raw

    @property
    def meta(self) -> MetaRepository:
        """Installation facts."""
        if self._meta is None:
            self._meta = MetaRepository(self.conn)
        return self._meta

    @property
    def actors(self) -> ActorRepository:
        """Actors and roles."""
        if self._actors is None:
            self._actors = ActorRepository(self.conn)
        return self._actors

    @property
    def subjects(self) -> SubjectRepository:
        """Subjects, their wrapped keys and legal holds."""
        if self._subjects is None:
            self._subjects = SubjectRepository(self.conn, self.raw)
        return self._subjects

    @property
    def consents(self) -> ConsentRepository:
        """Consent grants and events."""
        if self._consents is None:
            self._consents = ConsentRepository(self.conn, self.raw)
        return self._consents

    @property
    def disclosures(self) -> DisclosureRepository:
        """Disclosures and override uses."""
        if self._disclosures is None:
            self._disclosures = DisclosureRepository(self.conn, self.raw)
        return self._disclosures

    @property
    def audit(self) -> AuditLog:
        """The audit trail."""
        if self._audit is None:
            self._audit = AuditLog(self.conn, self.raw)
        return self._audit


class Store:
    """Owns the engine; hands out transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        # SQLite: each thread keeps its writer connection between transactions. Checking one
        # out of the pool and back (reset included) cost more than BEGIN IMMEDIATE and COMMIT
        # themselves, and a check is one short transaction. PostgreSQL keeps the pool, whose
        # pre-ping reconnects transparently after a server restart.
        self._keep_writer = engine.dialect.name == "sqlite"
        self._local = threading.local()
        self._kept: list[Connection] = []
        self._kept_lock = threading.Lock()

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
        if not self._keep_writer:
            with translate_errors(), self._writer.begin() as conn:
                tx = Tx(conn)
                if self.dialect == "postgresql":
                    # Writers queue on the audit head's row lock from their first statement, as
                    # SQLite's BEGIN IMMEDIATE queues them: a decision then reads the consents as
                    # the last withdrawal left them, and a withdrawal sees every disclosure made
                    # before it. (Taken at the first append instead, a check could decide on
                    # consents read before a withdrawal committed and log its permit after it.)
                    tx.audit.head(lock=True)
                yield tx
            return
        with translate_errors():
            conn = self._take_writer()
            try:
                # BEGIN IMMEDIATE and COMMIT straight on the driver: SQLAlchemy's Transaction
                # (object, begin and commit events, three layers of commit) cost about twice
                # what the two statements do, on every one-check transaction. A SQLAlchemy
                # statement inside still autobegins: the begin hook sends nothing when the
                # driver is already in a transaction (engine._on_begin), and SQLAlchemy then
                # commits, as it knows a transaction is open.
                driver: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
                try:
                    driver.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as error:
                    raise wrap_driver_error("BEGIN IMMEDIATE", error, sqlite3.Error) from error
                yield Tx(conn)
                if conn.in_transaction():
                    conn.commit()
                else:
                    try:
                        driver.commit()
                    except sqlite3.Error as error:
                        raise wrap_driver_error("COMMIT", error, sqlite3.Error) from error
            except BaseException:
                # After any failure the next transaction starts on a fresh connection; closing
                # this one hands it back to the pool, which rolls the transaction back.
                self._discard(conn)
                raise
            if getattr(self._local, "writer", None) is None:
                self._local.writer = conn
            else:  # a nested write() already put its connection back
                self._discard(conn)

    def _take_writer(self) -> Connection:
        # Taken out of the thread's slot, so a nested write() gets a pool connection of its own.
        kept: Connection | None = getattr(self._local, "writer", None)
        self._local.writer = None
        if kept is not None:
            return kept
        conn = self._writer.connect()
        with self._kept_lock:
            self._kept.append(conn)
        return conn

    def _discard(self, conn: Connection) -> None:
        with self._kept_lock:
            if conn in self._kept:
                self._kept.remove(conn)
        conn.close()

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
        """Release pooled connections (and the writer connections threads kept)."""
        with self._kept_lock:
            kept, self._kept = self._kept, []
        for conn in kept:
            conn.close()
        self._local = threading.local()
        self.engine.dispose()


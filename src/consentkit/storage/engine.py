"""Engines for SQLite and PostgreSQL, schema checks, migrations and error translation.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL`` (an acknowledged
consent or audit event must survive a power cut, not only a crash). Write transactions
start with ``BEGIN IMMEDIATE`` so that exactly one writer holds the database from its
first read of the audit head to its commit: concurrent processes can never fork the chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError, SQLAlchemyError

from consentkit.errors import SchemaOutdatedError, StorageError

__all__ = [
    "SCHEMA_REVISION",
    "check_schema",
    "make_engine",
    "migrate",
    "sqlite_file",
    "translate_errors",
]

#: The Alembic head this version of consentkit needs (a test keeps it equal to the head).
SCHEMA_REVISION = "0005"

_WRITE_OPTION = "consentkit_write"


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite database URL (``None`` for in-memory SQLite and other databases)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite":
        return None
    if database.startswith("file:"):  # an SQLite URI filename (e.g. ?mode=ro&uri=true)
        database = database[len("file:"):].partition("?")[0]
    return Path(database) if database not in ("", ":memory:") else None


def make_engine(url: str, *, must_exist: bool) -> Engine:
    """Create an engine; with ``must_exist`` a missing SQLite file is an error, not a new file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if must_exist and database is not None and not database.exists():
            raise SchemaOutdatedError(f"database {database} does not exist: run `consentkit init` first")
        engine = create_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so its transactions begin as writers (``BEGIN IMMEDIATE``)."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        driver = conn.connection.driver_connection
        if driver.in_transaction:
            # Store.write() began it on the driver (BEGIN IMMEDIATE): a SQLAlchemy statement
            # inside that transaction autobegins, and there is nothing to send.
            return
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        # Straight to the driver: exec_driver_sql would add SQLAlchemy's whole execution
        # path (about 100 µs) to every transaction, a fifth of a one-check transaction.
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutdatedError` unless the database is at :data:`SCHEMA_REVISION`."""
    with translate_errors(), engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except (OperationalError, ProgrammingError):
            row = None
    if row is None:
        raise SchemaOutdatedError("this database has no consentkit schema: run `consentkit init`")
    if row[0] != SCHEMA_REVISION:
        raise SchemaOutdatedError(
            f"the database schema is at revision {row[0]} but this consentkit needs "
            f"{SCHEMA_REVISION}: run `consentkit init` to upgrade (back up the database first)"
        )


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the head revision (Alembic, shipped in the package)."""
    # Imported here: Alembic costs ~0.4 s to import and only `init` needs it.
    from alembic import command  # noqa: PLC0415
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with translate_errors(), engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors into one-line :class:`StorageError` messages without SQL or values."""
    try:
        yield
    except DBAPIError as exc:
        raise StorageError(_describe(exc)) from None
    except SQLAlchemyError as exc:
        raise StorageError(f"database error ({type(exc).__name__})") from None


_KNOWN = (
    (re.compile(r"readonly database|read-only", re.I), "the database is read-only: check file permissions"),
    (re.compile(r"database or disk is full|No space left|disk full", re.I),
     "the disk is full: free space, then retry (nothing was written)"),
    # SQLite reports a write refused by the OS (no room for its shared-memory index, a file
    # size limit, a failing disk) as a plain I/O error, not as "full".
    (re.compile(r"disk I/O error", re.I),
     "the database could not be written (disk I/O error): check free space and the disk, then retry "
     "(nothing was written)"),
    (re.compile(r"database is locked", re.I), "the database stayed locked by another process: retry"),
    (re.compile(r"unable to open database|could not connect|connection refused|"
                r"connection failed|Name or service not known", re.I),
     "cannot connect to the database: check --db (or CONSENTKIT_DB) and that the server is running"),
    (re.compile(r"file is not a database|malformed", re.I),
     "the database file is damaged or not a consentkit database"),
)


def _describe(exc: DBAPIError) -> str:
    # str(exc) would include the SQL and its bound values: use only the driver's message.
    original = str(exc.orig) if exc.orig is not None else ""
    for pattern, message in _KNOWN:
        if pattern.search(original):
            return message
    return f"database error ({type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__})"

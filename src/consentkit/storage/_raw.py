"""Hot statements sent straight to the DB-API cursor of a SQLAlchemy connection.

Through SQLAlchemy Core each statement cost ~70 µs of Python (compiled-cache lookup,
execution events, result proxy), more than SQLite took to run it, and ``kit.check`` sends
seven. The statements here are fixed strings written with ``?`` placeholders (rewritten to
``%s`` for psycopg once), run on the same connection and so in the caller's transaction.
Driver errors are wrapped as SQLAlchemy wraps them, so ``storage.engine.translate_errors``
reports them the same way (its message never carries the SQL or the values).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError

__all__ = ["IN_CHUNK", "RawStatements", "placeholders", "wrap_driver_error"]

#: Values per ``IN (...)``: under SQLite's oldest limit of 999 bound parameters.
IN_CHUNK = 500


@cache
def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` of ``count`` values."""
    return ", ".join("?" * count)


def wrap_driver_error(statement: str, error: Exception, base: type[Exception]) -> StatementError:
    """A driver error wrapped as SQLAlchemy wraps it, so ``translate_errors`` reports it the same way.

    No parameters: they may be sealed personal data or ids, and never belong in an error.
    """
    return DBAPIError.instance(statement, None, error, base)


@cache
def _pyformat(sql: str) -> str:
    # Only placeholders contain "?" in these statements (no literals, no JSON operators).
    return sql.replace("%", "%%").replace("?", "%s")


class RawStatements:
    """Execute fixed SQL on the transaction's DB-API connection (one cursor per transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self._cursor: Any = None

    def _sql(self, sql: str) -> str:
        return _pyformat(sql) if self.postgres else sql

    @property
    def cursor(self) -> Any:
        """The DB-API cursor, made on first use."""
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run a query and return its rows as tuples."""
        cursor = self.cursor
        statement = self._sql(sql)
        try:
            cursor.execute(statement, params)
            return list(cursor.fetchall())
        except self._errors() as error:
            raise self._wrap(statement, error) from error

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query and return its first row (``None`` when there is none)."""
        cursor = self.cursor
        statement = self._sql(sql)
        try:
            cursor.execute(statement, params)
            return cursor.fetchone()
        except self._errors() as error:
            raise self._wrap(statement, error) from error

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement that returns no rows."""
        statement = self._sql(sql)
        try:
            self.cursor.execute(statement, params)
        except self._errors() as error:
            raise self._wrap(statement, error) from error

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row (psycopg pipelines them; sqlite3 loops in C).

        A single row goes through ``execute``: psycopg's pipeline set-up costs more than the
        one statement (kit.check writes one row per table).
        """
        if len(rows) == 1:
            self.execute(sql, rows[0])
            return
        statement = self._sql(sql)
        try:
            self.cursor.executemany(statement, rows)
        except self._errors() as error:
            raise self._wrap(statement, error) from error

    def _errors(self) -> type[Exception]:
        error: type[Exception] = self.conn.dialect.loaded_dbapi.Error
        return error

    def _wrap(self, statement: str, error: Exception) -> StatementError:
        return wrap_driver_error(statement, error, self._errors())

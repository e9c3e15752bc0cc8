"""The worker side of a parallel audit verification (``storage.audit_scan``).

A worker is a fresh process, so what it imports is paid on every verification: this
module needs only the DB-API driver and ``audit.verify`` (about 0.1 s), not SQLAlchemy
and the repositories (about 0.9 s). It runs one fixed read-only query on a connection of
its own: SQLite opened read-only; PostgreSQL in the caller's exported snapshot.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from consentkit.audit.verify import EncodedRow, RangeScan, scan_range

__all__ = ["Target", "scan_stored_range"]

#: How a worker reaches the database: ("sqlite", file path, None) or
#: ("postgresql", libpq connection URI, exported snapshot id).
Target = tuple[str, str, str | None]

_QUERY = ("SELECT seq, entry, prev_hash, entry_hash FROM ck_audit_events "
          "WHERE seq >= {p} AND seq < {p} ORDER BY seq")
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9A-Fa-f]+)?")
_BATCH = 20_000


def scan_stored_range(target: Target, origin: str, start: int, end: int, height: int,
                      sizes: Sequence[int]) -> RangeScan:
    """Verify entries ``start``..``end - 1`` as :func:`~consentkit.audit.verify.scan_range` does."""
    kind, where, snapshot = target
    if kind == "sqlite":
        conn = sqlite3.connect(f"{Path(where).resolve().as_uri()}?mode=ro", uri=True)  # any file name, read-only
        try:
            cursor = conn.execute(_QUERY.format(p="?"), (start, end))
            return _scan(_batches(cursor, text=False), origin, start, height, sizes)
        finally:
            conn.close()
    import psycopg  # noqa: PLC0415 - only PostgreSQL installations have it

    if snapshot is None or not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError("a PostgreSQL range needs the caller's exported snapshot")
    with psycopg.connect(where) as pg:
        pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        pg.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        with pg.cursor(name="ck_audit_range") as server:
            server.execute(_QUERY.format(p="%s"), (start, end))
            return _scan(_batches(server, text=True), origin, start, height, sizes)


def _scan(batches: Iterator[Sequence[EncodedRow]], origin: str, start: int, height: int,
          sizes: Sequence[int]) -> RangeScan:
    return scan_range(origin, batches, start=start, prev=None if start else bytes(32), block_height=height,
                      sizes=sizes)


def _batches(cursor: Any, *, text: bool) -> Iterator[Sequence[EncodedRow]]:
    while rows := cursor.fetchmany(_BATCH):
        # PostgreSQL's entry is text (its bytea conversion is not immutable); SQLite's a BLOB.
        yield [(seq, entry.encode("utf-8"), prev, digest) for seq, entry, prev, digest in rows] if text else rows

"""The worker side of a parallel audit verification (``storage.audit_scan``).

A worker is a fresh interpreter started as ``python -c`` (see ``audit_scan``), so what it
imports is paid on every verification: this module needs only the DB-API driver and
``audit.verify`` (about 0.1 s), not SQLAlchemy and the repositories (about 0.9 s). It runs
two fixed read-only queries on a connection of its own: SQLite opened read-only;
PostgreSQL in the caller's exported snapshot. The job comes as JSON on stdin and the range
scan goes back as JSON on stdout: hashes and sizes only, never an entry.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from consentkit.audit.verify import Damage, RangeScan, scan_stored

__all__ = ["Target", "main", "scan_from_json", "scan_stored_range", "scan_to_json"]

#: How a worker reaches the database: ("sqlite", file path, None) or
#: ("postgresql", libpq connection URI, exported snapshot id).
Target = tuple[str, str, str | None]

#: The entries of a range, as the database concatenates them (``storage.entry_sql``), with
#: their stored hashes (which inclusion proofs read): the scan checks one against the other.
_ENTRIES_SQL = "SELECT entry, entry_hash FROM ck_audit_events WHERE seq >= {p} AND seq < {p} ORDER BY seq"
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9A-Fa-f]+)?")
_BATCH = 4096  # one chunk of scan_stored per fetch


def scan_stored_range(target: Target, origin: str, start: int, end: int, height: int,
                      sizes: Sequence[int]) -> RangeScan:
    """Rebuild the tree of entries ``start``..``end - 1`` and check their stored hashes
    (:func:`~consentkit.audit.verify.scan_stored`); a mismatch is reported as damage for the caller to name."""
    kind, where, snapshot = target
    if kind == "sqlite":
        conn = sqlite3.connect(f"{Path(where).resolve().as_uri()}?mode=ro", uri=True)  # any file name, read-only
        try:
            return scan_stored(origin, _batches(conn.execute(_ENTRIES_SQL.format(p="?"), (start, end)), text=False),
                               start=start, block_height=height, sizes=sizes)
        finally:
            conn.close()
    import psycopg  # noqa: PLC0415 - only PostgreSQL installations have it

    if snapshot is None or not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError("a PostgreSQL range needs the caller's exported snapshot")
    with psycopg.connect(where) as pg:
        pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        pg.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        with pg.cursor(name="ck_audit_range") as server:
            server.execute(_ENTRIES_SQL.format(p="%s"), (start, end))
            return scan_stored(origin, _batches(server, text=True), start=start, block_height=height, sizes=sizes)


def _batches(cursor: Any, *, text: bool) -> Iterator[Sequence[tuple[bytes, bytes]]]:
    while rows := cursor.fetchmany(_BATCH):
        # PostgreSQL's entry is text (its bytea conversion is not immutable); SQLite's a BLOB.
        yield [(entry.encode("utf-8"), digest) for entry, digest in rows] if text else rows


def scan_to_json(scan: RangeScan) -> dict[str, Any]:
    """A range scan as JSON-ready data (hashes in hex)."""
    return {
        "start": scan.start, "size": scan.size, "first_prev": scan.first_prev.hex(), "last_hash": scan.last_hash.hex(),
        "blocks": [b.hex() for b in scan.blocks], "peaks": [p.hex() for p in scan.peaks],
        "snapshots": [[size, complete, [p.hex() for p in peaks]] for size, complete, peaks in scan.snapshots],
        "damage": None if scan.damage is None else [scan.damage.kind, scan.damage.seq, scan.damage.message],
    }


def scan_from_json(data: dict[str, Any]) -> RangeScan:
    """The range scan :func:`scan_to_json` wrote."""
    damage = data["damage"]
    return RangeScan(
        start=int(data["start"]), size=int(data["size"]), first_prev=bytes.fromhex(data["first_prev"]),
        last_hash=bytes.fromhex(data["last_hash"]), blocks=[bytes.fromhex(b) for b in data["blocks"]],
        peaks=[bytes.fromhex(p) for p in data["peaks"]],
        snapshots=[(int(size), int(complete), [bytes.fromhex(p) for p in peaks])
                   for size, complete, peaks in data["snapshots"]],
        damage=None if damage is None else Damage(str(damage[0]), damage[1], str(damage[2])))


def main(job: dict[str, Any]) -> None:
    """A worker process: the job ``audit_scan`` sent (its first line on stdin), the range scan as JSON on stdout."""
    kind, where, snapshot = job["target"]
    scan = scan_stored_range((kind, where, snapshot), job["origin"], job["start"], job["end"], job["height"],
                             job["sizes"])
    json.dump(scan_to_json(scan), sys.stdout)

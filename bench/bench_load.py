"""Load: eight processes doing checks and grants against one installation for 60 s (``--quick``:
5 s), on SQLite and PostgreSQL, each beside a bare baseline run by the same harness.

Every operation is its own transaction, as at a front desk: a ``check`` decides, records the
disclosure and appends its audit event; a ``grant`` validates against the pack, stores the
consent and appends its event. All appends to one log are serialised (that is what keeps the
chain from forking), so the throughput is bounded by one writer at a time. The baseline is
the same eight processes doing one plain INSERT per transaction, serialised the same way
(SQLite ``BEGIN IMMEDIATE``; PostgreSQL a row lock on a one-row head), with the same
durability (SQLite WAL + ``synchronous=FULL``). After each consentkit run the installation is
verified like after a crash (tests/hardening/driver.py: every acknowledged operation there
with its event, no gap, no fork, the trail verifies); a failed verification fails the suite.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consentkit.kit import ConsentKit  # noqa: E402
from consentkit.types import Role  # noqa: E402
from pg import pg_schema, plain  # noqa: E402
from tests.hardening.driver import LoadRun, bare_schema, problems, run_load  # noqa: E402

from table import Row, Section  # noqa: E402

WORKERS = 8
SUBJECTS = 16
OPS = "check,check,check,grant"  # three checks for each grant





def _consentkit_run(url: str, keys_dir: Path, seconds: float) -> LoadRun:
    kit, _ = ConsentKit.init(url, keys_dir, actor="ada")
    actors = [f"w{i}" for i in range(WORKERS)]
    with kit:
        for actor in actors:
            kit.add_actor(actor, [Role.CASEWORKER])
        subjects = []
        for i in range(SUBJECTS):
            sid = kit.add_subject(jurisdiction="eu-gdpr", name=f"Load Client {i}",
                                  birth_date=date(1980, 1, 1 + i)).subject_id
            kit.grant_consent(sid, recipients=["treatment-provider"], purposes=["treatment"],
                              categories=["identity"], notice_version="v1")
            subjects.append(sid)
    run = run_load(url, keys_dir, actors, subjects, seconds=seconds, ops=OPS)
    with ConsentKit.open(url, keys_dir, actor="ada") as kit:
        found = problems(kit, run.acks)
    if found:
        raise AssertionError(f"load run left problems: {found[:5]}")
    return run


def _bare_run(url: str, seconds: float) -> LoadRun:
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        for statement in bare_schema(url):
            conn.execute(statement)
        conn.commit()
        conn.close()
    else:
        import psycopg

        base, _, query = plain(url).partition("?")
        options = query.removeprefix("options=").replace("%3D", "=")
        with psycopg.connect(base, options=options, autocommit=True) as pg:
            for statement in bare_schema(url):
                pg.execute(statement)  # type: ignore[arg-type]
    subjects = [str(uuid.UUID(int=i)) for i in range(SUBJECTS)]
    return run_load(url, Path("unused"), [f"b{i}" for i in range(WORKERS)], subjects, seconds=seconds, bare=True)


def _rows(backend: str, run: LoadRun, bare: LoadRun) -> list[Row]:
    checks = sum(1 for line in run.acks if line.startswith("check "))
    grants = sum(1 for line in run.acks if line.startswith("grant "))
    return [
        Row(f"{backend}: {WORKERS} processes, checks + grants", run.throughput, "ops/s",
            f"bare serialised INSERT, {WORKERS} processes", bare.throughput),
        Row(f"{backend}: of which checks / grants", float(checks), f"checks, {grants:,} grants in "
            f"{run.seconds:.1f} s"),
        Row(f"{backend}: slowest / fastest worker", float(min(run.per_worker)),
            f"ops vs {max(run.per_worker):,} (fairness)"),
    ]


def run(quick: bool = False) -> list[Section]:
    """Measure and return the load section."""
    seconds = 5.0 if quick else 60.0
    rows: list[Row] = []
    notes = [
        f"{WORKERS} OS processes started together, each running one transaction per operation for "
        f"{seconds:.0f} s; {OPS.count('check')} checks per grant, over {SUBJECTS} clients with a consent each. "
        "ops/s = operations acknowledged by all workers / the longest worker loop.",
        "Baseline: the same harness and processes doing one INSERT per transaction into a plain table, "
        "serialised like the audit appends (SQLite BEGIN IMMEDIATE, WAL, synchronous=FULL; PostgreSQL a "
        "row lock on a one-row head).",
        "After every consentkit run each acknowledged operation was found with its audit event, the "
        "sequence had no gap and the whole trail verified.",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        print("   SQLite", file=sys.stderr)
        ck = _consentkit_run(f"sqlite:///{directory / 'load.db'}", directory / "keys-sqlite", seconds)
        bare = _bare_run(f"sqlite:///{directory / 'bare.db'}", seconds)
        rows += _rows("SQLite", ck, bare)
        with pg_schema() as pg:
            url = pg[0] if pg else None
            if url is None:
                notes.append("PostgreSQL was not reachable in this run: no PostgreSQL figures.")
            else:
                print("   PostgreSQL", file=sys.stderr)
                ck = _consentkit_run(url, directory / "keys-pg", seconds)
        with pg_schema() as pg:
            if pg is not None:
                url = pg[0]
                bare = _bare_run(url, seconds)
                rows += _rows("PostgreSQL", ck, bare)
    return [Section(f"Load: {WORKERS} processes, checks and grants", rows, notes)]

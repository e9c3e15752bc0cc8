"""A worker process for the fault-injection and load tests (and ``bench/bench_load.py``).

Run as a script: it opens one installation and performs operations one transaction at a
time, printing one line per operation *after* it returned (so after its commit), flushed:

    grant <consent_id>
    check <audit_seq> <disclosure_id or ->
    append <audit_seq>

A test can then kill it with SIGKILL at any moment: every printed line is an acknowledged
operation that must be in the database with its audit event. It prints ``ready`` once open,
waits for a line on stdin when ``--wait`` is given (so several workers start together), and
``done <count> <seconds>`` when it stops on its own.

    python driver.py DB_URL KEYS_DIR ACTOR SUBJECT_ID[,SUBJECT_ID...] [--ops grant,check,append]
                     [--seconds S | --count N] [--seed N] [--wait]

``--bare`` does the baseline instead: one plain INSERT per transaction into a table of its
own, serialised the way consentkit serialises audit appends (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a row lock on a one-row head table), with the same durability settings.
:func:`run_load` starts N drivers together and collects what they acknowledged.

:func:`problems` is the check after a crash or a load run: every acknowledged operation is
there with its audit event, nothing is half-written, and the trail verifies.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from consentkit.audit.events import AuditEvent
from consentkit.kit import ConsentKit


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("db_url")
    parser.add_argument("keys_dir")
    parser.add_argument("actor")
    parser.add_argument("subjects")
    parser.add_argument("--ops", default="grant,check,append")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--count", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--packs", default="eu-gdpr", help="packs to load before `ready` (the subjects' ones)")
    return parser.parse_args(argv)


def _operate(kit: ConsentKit, op: str, subject: str, n: int) -> str:
    if op == "grant":
        view = kit.grant_consent(subject, recipients=["healthcare"], purposes=["treatment"],
                                 categories=["identity", "health"], notice_version="v1")
        return f"grant {view.grant.consent_id}"
    if op == "check":
        decision = kit.check(subject, recipient="treatment-provider", purpose="treatment", categories=["identity"])
        return f"check {decision.audit_id} {decision.disclosure_id or '-'}"
    record = kit.append_event(AuditEvent("case.viewed", subject, f"case:{n}", details={"n": n}))
    return f"append {record.seq}"


def main(argv: list[str]) -> int:
    """Run operations until the count or the time is reached (or until killed)."""
    args = _parse(argv)
    subjects = args.subjects.split(",")
    ops = args.ops.split(",")
    rng = random.Random(args.seed)  # noqa: S311 - picks operations, not secrets
    with _session(args) as operate:
        _say("ready")
        if args.wait:
            sys.stdin.readline()
        started = time.monotonic()
        done = 0
        while (args.count is None or done < args.count) and \
                (args.seconds is None or time.monotonic() - started < args.seconds):
            _say(operate(rng.choice(ops), rng.choice(subjects), done))
            done += 1
        _say(f"done {done} {time.monotonic() - started:.3f}")
    return 0


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[Any]:
    if args.bare:
        with _bare(args.db_url, args.seed) as operate:
            yield operate
        return
    with ConsentKit.open(args.db_url, args.keys_dir, actor=args.actor) as kit:
        for pack_id in args.packs.split(","):
            kit.packs.get(pack_id)  # loaded once per process: not part of what a load run measures
        yield lambda op, subject, n: _operate(kit, op, subject, n)


@contextmanager
def _bare(db_url: str, worker: int) -> Iterator[Any]:
    """The baseline: the same loop with one plain serialised INSERT per transaction."""
    if db_url.startswith("sqlite"):
        import sqlite3

        conn: Any = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")

        def operate(_op: str, subject: str, n: int) -> str:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bare_ops (worker, n, subject) VALUES (?, ?, ?)", (worker, n, subject))
            conn.execute("COMMIT")
            return f"bare {worker} {n}"
    else:
        import psycopg

        url, _, query = db_url.replace("postgresql+psycopg://", "postgresql://").partition("?")
        options = dict(part.split("=", 1) for part in query.split("&") if part)
        conn = psycopg.connect(url, options=options.get("options", "").replace("%3D", "="))

        def operate(_op: str, subject: str, n: int) -> str:
            with conn.transaction():
                conn.execute("SELECT size FROM bare_head WHERE id = 1 FOR UPDATE")
                conn.execute("INSERT INTO bare_ops (worker, n, subject) VALUES (%s, %s, %s)", (worker, n, subject))
                conn.execute("UPDATE bare_head SET size = size + 1 WHERE id = 1")
            return f"bare {worker} {n}"
    try:
        yield operate
    finally:
        conn.close()


def problems(kit: ConsentKit, acks: Iterable[str]) -> list[str]:
    """What is wrong with the installation after workers printed ``acks`` (empty: nothing)."""
    with kit.store.read() as tx:
        conn = tx.conn
        events = {int(seq): str(action) for seq, action in conn.execute(
            text("SELECT seq, action FROM ck_audit_events"))}
        granted = {str(ref) for (ref,) in conn.execute(
            text("SELECT object_ref FROM ck_audit_events WHERE action = 'consent.granted'"))}
        size = int(conn.execute(text("SELECT size FROM ck_audit_head")).scalar_one())
        consents = {str(cid) for (cid,) in conn.execute(text("SELECT consent_id FROM ck_consents"))}
        disclosures = {str(did): int(seq) for did, seq in conn.execute(
            text("SELECT disclosure_id, audit_seq FROM ck_disclosures"))}
    found = _half_written(events, size, granted, consents, disclosures)
    found += _missing(acks, events, consents, disclosures)
    result = kit.verify_audit()
    if not result.ok:
        found.append(f"audit trail does not verify: {result.damage}")
    elif result.size != size:
        found.append(f"verified {result.size} entries but the head says {size}")
    return found


def _half_written(events: dict[int, str], size: int, granted: set[str], consents: set[str],
                  disclosures: dict[str, int]) -> list[str]:
    found = []
    # No gap, no duplicate, no event beyond the head (or a head beyond the events).
    if sorted(events) != list(range(size)):
        found.append(f"audit seqs are not exactly 0..{size - 1} ({len(events)} events)")
    found += [f"consent {c} has no consent.granted event" for c in consents if f"consent:{c}" not in granted]
    found += [f"event for {ref} but no such consent" for ref in granted if ref.removeprefix("consent:") not in consents]
    found += [f"disclosure {d} points at audit entry {seq}, which is not its decision"
              for d, seq in disclosures.items() if events.get(seq) not in ("disclosure.checked", "disclosure.override")]
    return found


def _missing(acks: Iterable[str], events: dict[int, str], consents: set[str],
             disclosures: dict[str, int]) -> list[str]:
    found = []
    for line in acks:
        kind, *rest = line.split()
        if kind == "grant" and rest[0] not in consents:
            found.append(f"acknowledged grant {rest[0]} is missing")
        elif kind == "check" and (events.get(int(rest[0])) != "disclosure.checked"
                                  or (rest[1] != "-" and disclosures.get(rest[1]) != int(rest[0]))):
            found.append(f"acknowledged check (audit entry {rest[0]}, disclosure {rest[1]}) is missing")
        elif kind == "append" and events.get(int(rest[0])) != "case.viewed":
            found.append(f"acknowledged append at audit entry {rest[0]} is missing")
    return found


@dataclass
class LoadRun:
    """What N drivers acknowledged, how many operations they did and how long their loops ran."""

    acks: list[str] = field(default_factory=list)
    operations: int = 0
    seconds: float = 0.0
    per_worker: list[int] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Operations per second over the slowest worker's loop."""
        return self.operations / self.seconds if self.seconds else 0.0


def run_load(db_url: str, keys_dir: Path, actors: Sequence[str], subjects: Sequence[str], *, seconds: float,
             ops: str = "check,check,check,grant", bare: bool = False, timeout: float = 600) -> LoadRun:
    """Start one driver per actor, let them go at the same moment, collect their acknowledgements."""
    extra = ["--bare"] if bare else []
    procs = [subprocess.Popen(
        [sys.executable, __file__, db_url, str(keys_dir), actor, ",".join(subjects), "--ops", ops,
         "--seconds", str(seconds), "--seed", str(i), "--wait", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, actor in enumerate(actors)]
    run = LoadRun()
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdin is not None
            if proc.stdout.readline() != "ready\n":
                raise RuntimeError(f"a driver failed to start: {proc.communicate(timeout=timeout)[1][-2000:]}")
        for proc in procs:
            proc.stdin.write("go\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"a driver failed: {err[-2000:]}")
            lines = out.splitlines()
            _, count, took = lines[-1].split()
            run.acks += lines[:-1]
            run.per_worker.append(int(count))
            run.operations += int(count)
            run.seconds = max(run.seconds, float(took))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return run


def bare_schema(db_url: str) -> list[str]:
    """DDL of the baseline's tables (run it before :func:`run_load` with ``bare=True``)."""
    head = [] if db_url.startswith("sqlite") else [
        "CREATE TABLE bare_head (id integer PRIMARY KEY, size bigint NOT NULL)",
        "INSERT INTO bare_head VALUES (1, 0)"]
    return ["CREATE TABLE bare_ops (worker integer, n integer, subject varchar(36), PRIMARY KEY (worker, n))", *head]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

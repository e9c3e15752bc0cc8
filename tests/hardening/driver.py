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
    python driver.py verify DB_URL KEYS_DIR ACK_FILE...   (prints problems; exit 1 if any)

:func:`problems` is the check after a crash or a load run: every acknowledged operation is
there with its audit event, nothing is half-written, and the trail verifies.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterable

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
    out = sys.stdout
    with ConsentKit.open(args.db_url, args.keys_dir, actor=args.actor) as kit:
        out.write("ready\n")
        out.flush()
        if args.wait:
            sys.stdin.readline()
        started = time.monotonic()
        done = 0
        while True:
            if args.count is not None and done >= args.count:
                break
            if args.seconds is not None and time.monotonic() - started >= args.seconds:
                break
            line = _operate(kit, rng.choice(ops), rng.choice(subjects), done)
            out.write(line + "\n")
            out.flush()
            done += 1
        out.write(f"done {done} {time.monotonic() - started:.3f}\n")
        out.flush()
    return 0


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


def _verify(argv: list[str]) -> int:
    db_url, keys_dir, *files = argv
    acks = [line for name in files for line in open(name, encoding="utf-8")  # noqa: SIM115
            if line.split()[:1] and line.split()[0] in ("grant", "check", "append")]
    with ConsentKit.open(db_url, keys_dir, actor="verifier") as kit:
        found = problems(kit, acks)
    for problem in found:
        print(problem)
    print(f"checked {len(acks)} acknowledged operations: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(_verify(sys.argv[2:]) if sys.argv[1:2] == ["verify"] else main(sys.argv[1:]))

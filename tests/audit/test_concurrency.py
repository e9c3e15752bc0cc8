"""Concurrent writers: four OS processes append to one installation at once (SQLite and PostgreSQL).

Appends are serialised by ``BEGIN IMMEDIATE`` on SQLite and by the head row lock
(``SELECT ... FOR UPDATE``) on PostgreSQL; this test checks that, under real contention,
no append is lost or duplicated and the chain never forks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from consentkit.audit.envelope import GENESIS_HASH
from consentkit.kit import ConsentKit
from consentkit.types import Role

WORKERS = 4
OPERATIONS = 50  # per worker: alternately add a subject and read one back, one transaction each
# Small enough that several signed checkpoints are taken by the workers inside their appends.
CHECKPOINT_EVERY = 32

# Each worker opens the installation, reports ready, waits for "go" on stdin (so all four
# start together), then prints the subjects it added and when its loop ran (CLOCK_MONOTONIC
# is system-wide, so the times compare across processes). Any failure exits non-zero.
# The short pause between operations (a caseworker's think time) matters on SQLite: a waiting
# writer polls with the busy handler's back-off, so without it one process takes the lock again
# and again and the writers run almost one after the other instead of interleaving.
WORKER = """
import json, sys, time
from datetime import date

import consentkit.kit._base as base
from consentkit.kit import ConsentKit

db_url, keys_dir, actor, operations, every = sys.argv[1:6]
base.CHECKPOINT_EVERY = int(every)
added = []
with ConsentKit.open(db_url, keys_dir, actor=actor) as kit:
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    for i in range(int(operations)):
        if i % 2 == 0:
            added.append(kit.add_subject(jurisdiction="se", name=f"{actor} {i}",
                                         birth_date=date(1990, 1, 1)).subject_id)
        else:
            assert kit.subject(added[-1]).subject_id == added[-1]
        time.sleep(0.002)
    ended = time.monotonic()
print(json.dumps({"added": added, "started": started, "ended": ended}), flush=True)
"""


def _run_workers(db_url: str, keys_dir: Path, actors: list[str]) -> dict[str, dict[str, Any]]:
    procs = {
        actor: subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url, str(keys_dir), actor, str(OPERATIONS), str(CHECKPOINT_EVERY)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for actor in actors
    }
    try:
        for proc in procs.values():
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready" (or EOF if it failed; the exit code says so below)
        for proc in procs.values():
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = {actor: proc.communicate(timeout=120) for actor, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for actor, proc in procs.items():
        assert proc.returncode == 0, f"worker {actor} failed:\n{outputs[actor][1]}"
    return {actor: json.loads(out.strip().splitlines()[-1]) for actor, (out, _) in outputs.items()}


def test_concurrent_processes_keep_one_chain(kit: ConsentKit, db_url: str, keys_dir: Path) -> None:
    actors = [f"w{i}" for i in range(1, WORKERS + 1)]
    for actor in actors:
        kit.add_actor(actor, [Role.CASEWORKER])
    before = kit.verify_audit()
    assert before.ok, before.damage

    reports = _run_workers(db_url, keys_dir, actors)
    # The workers really ran at the same time: every one started before any one finished.
    assert max(r["started"] for r in reports.values()) < min(r["ended"] for r in reports.values())

    with kit.store.read() as tx:
        rows = list(tx.audit.rows())
        head_size = tx.audit.head().size
    total = before.size + WORKERS * OPERATIONS
    # No lost or duplicated append: exactly what the workers did, seq 0..n-1 with no gap.
    assert len(rows) == head_size == total
    assert [row[0] for row in rows] == list(range(total))
    # No fork: every entry names its predecessor's hash.
    prev = GENESIS_HASH
    for row in rows:
        assert row[9] == prev, f"entry {row[0]} does not link to entry {row[0] - 1}"
        prev = row[10]
    # Every operation of every worker left exactly one event, under its own actor.
    new = rows[before.size:]
    per_actor = Counter((row[2], row[3]) for row in new)
    for actor in actors:
        added = reports[actor]["added"]
        assert len(added) == OPERATIONS // 2
        assert per_actor[(actor, "subject.added")] == OPERATIONS // 2
        assert per_actor[(actor, "subject.viewed")] == OPERATIONS // 2
        assert sorted(row[4] for row in new if row[2] == actor and row[3] == "subject.added") == sorted(added)

    result = kit.verify_audit()
    assert result.ok, result.damage
    assert result.size == total
    # The checkpoints the workers signed inside their appends all match the rebuilt tree.
    assert result.checkpoints == total // CHECKPOINT_EVERY - before.size // CHECKPOINT_EVERY

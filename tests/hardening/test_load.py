"""Load: eight processes doing checks and grants at once against one installation, then the
same verification as after a crash: every acknowledged operation is there with its audit
event, no fork, no gap, the trail verifies. ``bench/bench_load.py`` runs the 60 s version
and reports the throughput; here it runs 3 s, enough for the workers to contend."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from consentkit.kit import ConsentKit
from consentkit.types import Role
from tests.hardening.driver import problems, run_load
from tests.hardening.test_faults import prepare

WORKERS = 8
SECONDS = 3.0


@pytest.mark.slow
def test_eight_processes_checking_and_granting(db_url: str, keys_dir: Path) -> None:
    subjects = prepare(db_url, keys_dir, subjects=4)
    actors = [f"w{i}" for i in range(WORKERS)]
    with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
        for actor in actors:
            kit.add_actor(actor, [Role.CASEWORKER])
        size_before = kit.verify_audit().size
    run = run_load(db_url, keys_dir, actors, subjects, seconds=SECONDS)
    # Every worker got its turn (no writer starved for the whole run) and both kinds happened.
    assert all(count > 0 for count in run.per_worker), run.per_worker
    kinds = Counter(line.split()[0] for line in run.acks)
    assert kinds["check"] > 0 and kinds["grant"] > 0, kinds
    assert len(run.acks) == run.operations
    with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
        assert problems(kit, run.acks) == []
        with kit.store.read() as tx:
            # One audit event per operation: nothing lost, nothing doubled.
            assert tx.audit.head().size == size_before + run.operations

"""Fault injection: a worker killed with SIGKILL in the middle of a batch, a disk that refuses
writes, a read-only database. Afterwards every acknowledged operation is there with its
audit event, nothing is half-written, the trail verifies, and the next writer can go on."""

from __future__ import annotations

import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from consentkit.audit.events import AuditEvent
from consentkit.kit import ConsentKit
from consentkit.types import Role
from tests.hardening.cleanliness import DatabaseState, assert_clean_text
from tests.hardening.driver import problems

DRIVER = Path(__file__).with_name("driver.py")
CLI_MAIN = "from consentkit.cli import main; main()"
ROUNDS = 2


def prepare(db_url: str, keys_dir: Path, subjects: int = 3) -> list[str]:
    """An installation with a caseworker ``worker`` and clients who consented to treatment."""
    kit, _ = ConsentKit.init(db_url, keys_dir, actor="ada")
    with kit:
        kit.add_actor("worker", [Role.CASEWORKER])
        ids = []
        for i in range(subjects):
            sid = kit.add_subject(jurisdiction="eu-gdpr", name=f"Client {i}",
                                  birth_date=date(1990, 1, 1 + i)).subject_id
            kit.grant_consent(sid, recipients=["treatment-provider"], purposes=["treatment"],
                              categories=["identity"], notice_version="v1")
            ids.append(sid)
    return ids


def start_driver(db_url: str, keys_dir: Path, actor: str, subjects: list[str], *extra: str) -> subprocess.Popen[str]:
    """A driver process (see driver.py); its stdout is read line by line."""
    return subprocess.Popen([sys.executable, str(DRIVER), db_url, str(keys_dir), actor, ",".join(subjects), *extra],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[2])


def _kill_after(proc: subprocess.Popen[str], acks: int) -> list[str]:
    """Read ``acks`` acknowledgements, SIGKILL the worker at once, return every line it printed."""
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n", proc.stderr.read() if proc.stderr else ""
    lines = [proc.stdout.readline() for _ in range(acks)]
    proc.send_signal(signal.SIGKILL)  # lands inside the next operation, wherever it is
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return [line.strip() for line in [*lines, *rest.splitlines()] if line.strip()]


def test_kill_9_in_the_middle_of_a_batch(db_url: str, keys_dir: Path) -> None:
    subjects = prepare(db_url, keys_dir)
    rng = random.Random(8)  # noqa: S311 - reproducible kill points, not secrets
    acknowledged: list[str] = []
    for round_ in range(ROUNDS):
        proc = start_driver(db_url, keys_dir, "worker", subjects, "--count", "100000", "--seed", str(round_))
        lines = _kill_after(proc, rng.randint(3, 40))
        assert all(line.split()[0] in ("grant", "check", "append") for line in lines), lines
        acknowledged += lines
        with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
            assert problems(kit, acknowledged) == []
    kinds = {line.split()[0] for line in acknowledged}
    assert kinds == {"grant", "check", "append"}, kinds
    # The killed writers left no lock behind: the next one appends at once, and the chain still verifies.
    with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
        record = kit.append_event(AuditEvent("case.viewed", subjects[0], "case:after", details={"n": -1}))
        assert problems(kit, [*acknowledged, f"append {record.seq}"]) == []


def test_kill_9_of_a_writer_while_others_go_on(db_url: str, keys_dir: Path) -> None:
    """One of three concurrent writers dies mid-transaction; the other two finish cleanly."""
    subjects = prepare(db_url, keys_dir)
    survivors = [start_driver(db_url, keys_dir, "worker", subjects, "--count", "25", "--seed", str(i))
                 for i in (1, 2)]
    victim = start_driver(db_url, keys_dir, "worker", subjects, "--count", "100000", "--seed", "3")
    acknowledged = _kill_after(victim, 15)
    for proc in survivors:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        lines = out.splitlines()
        assert lines[0] == "ready" and lines[-1].startswith("done 25 ")
        acknowledged += lines[1:-1]
    with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
        assert problems(kit, acknowledged) == []


# -- a disk that refuses writes, a read-only database ------------------------------------------


def _cli(db_url: str, keys_dir: Path, *args: str, limit: int | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess; with ``limit``, no file may grow past that many bytes
    (RLIMIT_FSIZE: the write() fails with EFBIG, as on a full disk; SIGXFSZ is ignored)."""

    def restrict() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-c", CLI_MAIN, "--db", db_url, "--keys", str(keys_dir),
                           "--actor", "ada", *args], capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=restrict, env={**os.environ, **(env or {})})


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("consentkit: error: "), result.stderr[-2000:]
    assert_clean_text(result.stderr)
    for word in words:
        assert word in lines[0], lines[0]


WRITES: list[tuple[str, Callable[[str], list[str]]]] = [
    ("subject add", lambda s: ["subject", "add", "--jurisdiction", "se", "--name", "Sara Lind",
                               "--birth-date", "1990-01-01"]),
    ("consent grant", lambda s: ["consent", "grant", "--subject", s, "--recipient", "healthcare", "--purpose",
                                 "treatment", "--category", "identity", "--notice-version", "v1"]),
    ("check", lambda s: ["check", "--subject", s, "--recipient", "treatment-provider", "--purpose", "treatment",
                         "--category", "identity"]),
]


def test_disk_full_sqlite(tmp_path: Path) -> None:
    db_url, keys_dir = f"sqlite:///{tmp_path / 'ck.db'}", tmp_path / "keys"
    subject = prepare(db_url, keys_dir, subjects=1)[0]
    # Checkpoint the WAL into the main file, so that the commands below must grow the WAL to write.
    with closing(sqlite3.connect(tmp_path / "ck.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    state = DatabaseState(db_url)
    try:
        before = state.snapshot()
        for _, command in WRITES:
            # The shared-memory index (32 KiB) fits; the WAL frames of a transaction do not.
            _assert_one_line_error(_cli(db_url, keys_dir, *command(subject), limit=40_000), "nothing was written")
        state.assert_unchanged(before)
        # With room again, the same commands work and the trail verifies.
        assert _cli(db_url, keys_dir, *WRITES[1][1](subject)).returncode == 0
        assert _cli(db_url, keys_dir, "audit", "verify").returncode == 0
    finally:
        state.close()


def test_read_only_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "ck.db"
    db_url, keys_dir = f"sqlite:///{path}", tmp_path / "keys"
    subject = prepare(db_url, keys_dir, subjects=1)[0]
    _assert_writes_refused_as_read_only(db_url, f"sqlite:///file:{path}?mode=ro&uri=true", keys_dir, subject)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_read_only_sqlite_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "ck.db"
    db_url, keys_dir = f"sqlite:///{path}", tmp_path / "keys"
    subject = prepare(db_url, keys_dir, subjects=1)[0]
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        for _, command in WRITES:
            _assert_one_line_error(_cli(db_url, keys_dir, *command(subject)))
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o644)


@pytest.mark.postgres
def test_read_only_postgres_database(db_url: str, keys_dir: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite has its own tests above)")
    subject = prepare(db_url, keys_dir, subjects=1)[0]
    # What a hot standby (a read replica) or a read-only role looks like to a writer.
    _assert_writes_refused_as_read_only(db_url, db_url + "%20-cdefault_transaction_read_only%3Don", keys_dir, subject)


def _assert_writes_refused_as_read_only(db_url: str, read_only: str, keys_dir: Path, subject: str) -> None:
    """Every write through ``read_only`` fails with a one-line error; the database is unchanged."""
    state = DatabaseState(db_url)
    try:
        before = state.snapshot()
        for _, command in WRITES:
            _assert_one_line_error(_cli(read_only, keys_dir, *command(subject)), "read-only")
        state.assert_unchanged(before)
    finally:
        state.close()

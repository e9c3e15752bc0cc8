"""Fixtures of the hardening suite: an installation driven through the CLI, and the checks
every hostile input must pass (a clean error or a valid result, and nothing half-written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.cli_runner import Run
from tests.hardening.cleanliness import DatabaseState


class Installation:
    """An initialised database with one client and one active consent, driven through the CLI."""

    def __init__(self, db_url: str, keys_dir: Path, workdir: Path) -> None:
        self.db_url = db_url
        self.keys_dir = keys_dir
        self.workdir = workdir
        self.run = Run(db_url, keys_dir)
        result = self.run("init", "--role", "caseworker", "--role", "supervisor", "--role", "dpo")
        assert result.exit_code == 0, result.output
        self.subject_id = str(self.run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test",
                                            "--birth-date", "1995-04-01")["subject_id"])
        self.consent_id = str(self.run.json(
            "consent", "grant", "--subject", self.subject_id, "--recipient", "treatment-provider",
            "--purpose", "treatment", "--category", "identity", "--notice-version", "v1")["consent_id"])
        self.state = DatabaseState(db_url)

    def __call__(self, *args: str) -> Result:
        return self.run(*args)

    def close(self) -> None:
        self.state.close()


@pytest.fixture
def installation(db_url: str, keys_dir: Path, tmp_path: Path) -> Iterator[Installation]:
    """One installation per test; hypothesis examples share it and compare its state around each call."""
    work = tmp_path / "work"
    work.mkdir()
    inst = Installation(db_url, keys_dir, work)
    try:
        yield inst
    finally:
        inst.close()


@pytest.fixture
def file_installation(keys_dir: Path, tmp_path: Path) -> Iterator[Installation]:
    """An SQLite installation for commands that only read files the user gives (verifying an
    export, a proof, a key): their parsers do not depend on the database engine."""
    work = tmp_path / "work"
    work.mkdir()
    inst = Installation(f"sqlite:///{tmp_path / 'files.db'}", keys_dir, work)
    try:
        yield inst
    finally:
        inst.close()

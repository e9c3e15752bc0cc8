"""Shared fixtures: every storage test runs on SQLite and, when
``CONSENTKIT_TEST_POSTGRES_URL`` is set, on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit

PG_URL = os.environ.get("CONSENTKIT_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if PG_URL else ["sqlite"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own consentkit settings or keys."""
    for name in ("CONSENTKIT_DB", "CONSENTKIT_KEYS", "CONSENTKIT_ACTOR", "CONSENTKIT_MASTER_KEY",
                 "CONSENTKIT_SIGNING_KEY", "CONSENTKIT_PSEUDONYM_KEY", "CONSENTKIT_LOG_ORIGIN",
                 "CONSENTKIT_POLICIES", "CONSENTKIT_TEMPLATES"):
        monkeypatch.delenv(name, raising=False)


def _postgres_schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for a database that does not exist yet (SQLite file or PG schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consentkit.db'}"
        return
    import psycopg

    schema = f"ck_test_{uuid.uuid4().hex[:12]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _postgres_schema_url(PG_URL, schema)
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """Where init writes the keys."""
    return tmp_path / "keys"


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at 2026-03-02 10:00 UTC."""
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def kit(db_url: str, keys_dir: Path, clock: FixedClock) -> Iterator[ConsentKit]:
    """An initialised installation; actor ``ada`` is admin (the first actor)."""
    kit, _ = ConsentKit.init(db_url, keys_dir, actor="ada", clock=clock)
    try:
        yield kit
    finally:
        kit.close()


@pytest.fixture
def open_as(db_url: str, keys_dir: Path, clock: FixedClock) -> Iterator[Callable[[str], ConsentKit]]:
    """Open the same installation as another actor (closed at the end of the test)."""
    opened: list[ConsentKit] = []

    def factory(actor: str) -> ConsentKit:
        other = ConsentKit.open(db_url, keys_dir, actor=actor, clock=clock)
        opened.append(other)
        return other

    yield factory
    for other in opened:
        other.close()

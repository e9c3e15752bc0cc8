"""Foundation: CLI start-up time, subject add and lookup throughput (SQLite and PostgreSQL)."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import consentkit
from consentkit.kit import ConsentKit
from consentkit.types import Role

from table import Row, Section

PG_URL = os.environ.get("CONSENTKIT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def personnummer(n: int) -> str:
    """A checksum-valid Swedish personnummer (12 digits) for the n-th synthetic person."""
    born = date(1950, 1, 1) + timedelta(days=n % 20000)
    serial = f"{(n // 20000) % 1000:03d}"
    body = f"{born:%y%m%d}{serial}"
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return f"{born:%Y}{body[2:]}{(10 - total % 10) % 10}"


def _startup(quick: bool) -> list[Row]:
    exe = shutil.which("consentkit") or str(Path(sys.executable).with_name("consentkit"))
    runs = 7 if quick else 21

    def timed(cmd: list[str]) -> float:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    # As pip leaves an installed package: byte-compiled (an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise compile every module on every start).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(consentkit.__file__).parent)], check=True,
                   capture_output=True)
    bare = timed([sys.executable, "-c", "pass"])
    click_only = timed([sys.executable, "-c", "import click"])
    help_time = timed([exe, "--help"])
    with tempfile.TemporaryDirectory() as tmp:
        url, keys = f"sqlite:///{Path(tmp) / 'start.db'}", Path(tmp) / "keys"
        ConsentKit.init(url, keys, actor="bench", roles=(Role.CASEWORKER,))[0].close()
        command = timed([exe, "--db", url, "--keys", str(keys), "--actor", "bench", "subject", "list"])
    floor = timed([sys.executable, "-c", _FLOOR])
    return [
        Row(f"`consentkit --help` (median of {runs})", help_time, "s", "`python -c pass`", bare,
            "< 0.3 s", help_time < 0.3),
        Row("`python -c 'import click'`", click_only, "s", "`python -c pass`", bare),
        Row(f"`consentkit subject list` on an empty database (median of {runs})", command, "s",
            "`python -c` importing click, SQLAlchemy's ORM and AES-GCM", floor),
    ]


# What any command that opens the database must import, whatever it does.
_FLOOR = "import click, sqlalchemy.orm; from cryptography.hazmat.primitives.ciphers.aead import AESGCM"


def _fresh_sqlite(directory: Path) -> tuple[str, Path]:
    return f"sqlite:///{directory / 'bench.db'}", directory / "keys"


def _fresh_pg() -> tuple[str, Path] | None:
    try:
        import psycopg
    except ImportError:
        return None
    schema = f"ck_bench_{uuid.uuid4().hex[:10]}"
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error:
        return None
    atexit.register(_drop_schema, plain, schema)
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", Path(tempfile.mkdtemp()) / "keys"


def _drop_schema(plain_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(plain_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _subjects(url: str, keys: Path, n: int) -> tuple[float, float, float]:
    kit, _ = ConsentKit.init(url, keys, actor="bench", roles=(Role.CASEWORKER,))
    with kit:
        ids = []
        start = time.perf_counter()
        for i in range(n):
            ids.append(kit.add_subject(jurisdiction="se", name=f"Person {i}", birth_date=date(1980, 1, 1),
                                       national_id=personnummer(i)).subject_id)
        add_rate = n / (time.perf_counter() - start)
        lookups = min(n, 1000)
        start = time.perf_counter()
        for i in range(lookups):
            assert kit.find_subjects(personnummer(i), national_id_type="SE_PERSONNUMMER") == [ids[i]]
        find_rate = lookups / (time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(lookups):
            kit.subject(ids[i])
        show_rate = lookups / (time.perf_counter() - start)
    return add_rate, find_rate, show_rate


def _bare_sqlite(directory: Path, n: int) -> tuple[float, float]:
    conn = sqlite3.connect(directory / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, k TEXT, payload BLOB)")
    conn.execute("CREATE INDEX ix_k ON t (k)")
    payload = os.urandom(160)
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", (str(uuid.uuid4()), f"k{i}", payload))
        conn.execute("COMMIT")
    insert_rate = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(min(n, 1000)):
        conn.execute("SELECT id FROM t WHERE k = ?", (f"k{i}",)).fetchall()
    select_rate = min(n, 1000) / (time.perf_counter() - start)
    conn.close()
    return insert_rate, select_rate


def _bare_pg(n: int) -> float | None:
    try:
        import psycopg
    except ImportError:
        return None
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(plain, autocommit=False, connect_timeout=5)
    except psycopg.Error:
        return None
    table = f"ck_bare_{uuid.uuid4().hex[:8]}"
    with conn:
        conn.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, k TEXT, payload BYTEA)")
        conn.commit()
        payload = os.urandom(160)
        start = time.perf_counter()
        for i in range(n):
            conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)",  # noqa: S608 - generated table name
                         (str(uuid.uuid4()), f"k{i}", payload))
            conn.commit()
        rate = n / (time.perf_counter() - start)
        conn.execute(f"DROP TABLE {table}")
        conn.commit()
    return rate


def run(quick: bool = False) -> list[Section]:
    """Measure and return the foundation sections."""
    n = 300 if quick else 3000
    startup = Section("CLI start-up", _startup(quick), notes=[
        "`--help` imports click and the command modules only; SQLAlchemy, Alembic and presidio load "
        "when a command needs them (a test asserts this).",
        "Every other command imports the library: templates (Jinja2), receipts (PyJWT), schema validation "
        "(jsonschema) and the PostgreSQL dialect load only in the commands that use them (a test asserts this).",
        "Timed as an installed package runs: consentkit's modules are byte-compiled first, as pip does at install.",
    ])
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bare_insert, bare_select = _bare_sqlite(directory, n)
        add_rate, find_rate, show_rate = _subjects(*_fresh_sqlite(directory), n)
    rows += [
        Row(f"SQLite: subject add, one commit each ({n:,})", add_rate, "subjects/s",
            "bare SQLite insert+commit (WAL, FULL)", bare_insert),
        Row("SQLite: subject find by national ID (audited)", find_rate, "lookups/s",
            "bare SQLite indexed select", bare_select),
        Row("SQLite: subject show, decrypted (audited)", show_rate, "reads/s",
            "bare SQLite indexed select", bare_select),
    ]
    pg = _fresh_pg()
    if pg is not None:
        bare_pg = _bare_pg(n)
        add_rate, find_rate, show_rate = _subjects(*pg, n)
        rows += [
            Row(f"PostgreSQL: subject add, one commit each ({n:,})", add_rate, "subjects/s",
                "bare psycopg insert+commit", bare_pg),
            Row("PostgreSQL: subject find by national ID (audited)", find_rate, "lookups/s"),
            Row("PostgreSQL: subject show, decrypted (audited)", show_rate, "reads/s"),
        ]
    notes = [
        "Each add seals the personal fields (AES-256-GCM under a new random data key), wraps the key "
        "under the master key, computes the HMAC blind index and appends a hash-chained audit event, "
        "all in one transaction.",
        "find and show are audited (record access), so each is a write transaction too.",
    ]
    if pg is None:
        notes.append("PostgreSQL was not reachable in this run: no PostgreSQL figures.")
    return [startup, Section("Subjects", rows, notes)]

"""Audit trail: appends (one commit each and batched), verification of 1,000,000 events, proofs.

Each library figure stands beside a bare baseline measured in the same run: plain DB-API
inserts with the same pragmas, a bare hashlib loop over the same entry bytes, a bare
SELECT + re-hash of the same rows, the same Merkle call on leaves already in memory.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import update

from consentkit.audit import checkpoint as notes
from consentkit.audit import verify as audit_verify
from consentkit.audit.envelope import ENTRY_FORMAT, canonical_json, encode_entry, entry_hash
from consentkit.audit.events import AuditEvent
from consentkit.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)
from consentkit.audit.proof_file import parse_proof, verify_proof
from consentkit.kit import ConsentKit
from consentkit.kit._base import CHECKPOINT_EVERY
from consentkit.storage.audit_log import Head
from consentkit.storage.audit_scan import worker_count
from consentkit.storage.tables import AuditHeadRow
from consentkit.types import Role
from pg import PG_URL, pg_schema, plain

from table import Row, Section, median_time

BATCH = 1000  # events per transaction in the batched figures
FILL_CHUNK = 100_000  # events per transaction when building the large logs
ACTIONS = ("subject.viewed", "subject.added", "consent.checked", "disclosure.checked")
COLUMNS = "seq, ts, actor, action, subject_id, object_ref, outcome, details, sealed, prev_hash, entry_hash"





@contextmanager
def _step(label: str) -> Iterator[None]:
    """Progress on stderr: the large runs take a minute or two."""
    start = time.perf_counter()
    yield
    print(f"   {label}: {time.perf_counter() - start:.1f} s", file=sys.stderr)


def _init(url: str, directory: Path, keys: Path | None = None) -> ConsentKit:
    kit, _ = ConsentKit.init(url, keys or directory / f"keys-{uuid.uuid4().hex[:6]}", actor="bench",
                             roles=(Role.SUPERVISOR,))
    return kit


# -- appends -------------------------------------------------------------------------------


def _events(n: int) -> list[AuditEvent]:
    rng = random.Random(7)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(997)]
    return [AuditEvent(ACTIONS[i % 4], subjects[i % 997], details={"n": i % 13}) for i in range(n)]


def _library_appends(kit: ConsentKit, n: int, batch: int) -> float:
    """Events/s appended through ``kit._audit``, ``batch`` events per transaction."""
    events = _events(n)
    start = time.perf_counter()
    for first in range(0, n, batch):
        with kit.store.write() as tx:
            for event in events[first:first + batch]:
                kit._audit(tx, event)
    return n / (time.perf_counter() - start)


def _bare_rows(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(11)
    return [(seq, f"2026-03-02T10:00:00.{seq % 1_000_000:06d}Z", f"w{seq % 8}", ACTIONS[seq % 4],
             str(uuid.UUID(int=rng.getrandbits(128), version=4)), None, "ok", '{"n":3}', None,
             rng.randbytes(32), rng.randbytes(32)) for seq in range(n)]


def _bare_ddl(blob: str) -> list[str]:
    """The same table and indexes as ``ck_audit_events``."""
    return [
        "CREATE TABLE bare_events (seq BIGINT PRIMARY KEY, ts VARCHAR(32), actor VARCHAR(128), "
        "action VARCHAR(64), subject_id VARCHAR(36), object_ref VARCHAR(200), outcome VARCHAR(32), "
        f"details TEXT, sealed TEXT, prev_hash {blob}, entry_hash {blob})",
        "CREATE INDEX bare_subject ON bare_events (subject_id, seq)",
        "CREATE INDEX bare_actor ON bare_events (actor, ts)",
        "CREATE INDEX bare_action ON bare_events (action, ts)",
        "CREATE INDEX bare_ts ON bare_events (ts)",
    ]


def _bare_sqlite_appends(path: Path, n: int, batch: int) -> float:
    """Bare sqlite3 (WAL, synchronous=FULL, BEGIN IMMEDIATE): rows/s, ``batch`` rows per commit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    for statement in _bare_ddl("BLOB"):
        conn.execute(statement)
    rows = _bare_rows(n)
    sql = "INSERT INTO bare_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    start = time.perf_counter()
    for first in range(0, n, batch):
        conn.execute("BEGIN IMMEDIATE")
        if batch == 1:
            conn.execute(sql, rows[first])
        else:
            conn.executemany(sql, rows[first:first + batch])
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def _bare_pg_appends(schema: str, n: int, batch: int) -> float:
    """Bare psycopg: rows/s, ``batch`` rows per commit (executemany when batched)."""
    import psycopg

    with psycopg.connect(plain(PG_URL), options=f"-csearch_path={schema}") as conn:
        conn.execute("DROP TABLE IF EXISTS bare_events")
        for statement in _bare_ddl("BYTEA"):
            conn.execute(statement)
        conn.commit()
        rows = _bare_rows(n)
        sql = "INSERT INTO bare_events VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        start = time.perf_counter()
        with conn.cursor() as cursor:
            for first in range(0, n, batch):
                if batch == 1:
                    cursor.execute(sql, rows[first])
                else:
                    cursor.executemany(sql, rows[first:first + batch])
                conn.commit()
        return n / (time.perf_counter() - start)


def _append_rows(backend: str, url: str, directory: Path, bare: Callable[[int, int], float],
                 per_commit: int, batched: int) -> list[Row]:
    kit = _init(url, directory)
    with kit, _step(f"{backend} appends"):
        one = _library_appends(kit, per_commit, 1)
        many = _library_appends(kit, batched, BATCH)
        assert kit.verify_audit().ok
    with _step(f"{backend} bare appends"):
        bare_one, bare_many = bare(per_commit, 1), bare(batched, BATCH)
    return [
        Row(f"{backend}: append, one commit per event ({per_commit:,})", one, "events/s",
            "bare insert+commit", bare_one),
        Row(f"{backend}: append, {BATCH:,} events per transaction ({batched:,})", many, "events/s",
            f"bare executemany, {BATCH:,} rows per commit", bare_many),
    ]


# -- a large log, written the way AuditLog.append writes it ---------------------------------


def _fill(kit: ConsentKit, size: int) -> tuple[list[bytes], list[bytes]]:
    """Grow the log to ``size`` entries fast; returns every entry's bytes and leaf hash.

    Rows, head (with its MAC) and signed checkpoints every CHECKPOINT_EVERY entries are
    computed exactly as ``AuditLog.append`` and ``KitBase._audit`` compute them, but
    inserted with one executemany per FILL_CHUNK entries. ``verify_audit`` must accept it.
    """
    rng = random.Random(5)
    subjects = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5000)]
    sealed = [base64.b64encode(rng.randbytes(90)).decode() for _ in range(64)]
    details = [canonical_json({"jurisdiction": "se", "n": n}) for n in range(13)]
    entries: list[bytes] = []
    leaves: list[bytes] = []
    with kit.store.read() as tx:
        leaves += tx.audit.leaf_hashes(tx.audit.head().size)
    while len(leaves) < size:
        with kit.store.write() as tx:
            head = tx.audit.head(lock=True)
            rows = _fill_rows(kit, tx, head, min(size, head.size + FILL_CHUNK), subjects, sealed, details)
            marker = "?" if tx.conn.dialect.paramstyle == "qmark" else "%s"
            tx.conn.exec_driver_sql(
                f"INSERT INTO ck_audit_events ({COLUMNS}) VALUES ({', '.join([marker] * 11)})",  # noqa: S608
                rows)
            tx.conn.execute(update(AuditHeadRow).where(AuditHeadRow.id == 1).values(
                size=head.size, last_hash=head.last_hash, compact=head.compact.to_bytes(),
                tag=kit.keys.head_tag(head.message(kit.keys.origin))))
        entries += [encode_entry(kit.keys.origin, *row[:10]) for row in rows]
        leaves += [row[10] for row in rows]
    return entries, leaves


def _fill_rows(kit: ConsentKit, tx: Any, head: Head, end: int, subjects: list[str], sealed: list[str],
               details: list[str]) -> list[tuple[Any, ...]]:
    origin, signer = kit.keys.origin, kit.keys.signer
    rows: list[tuple[Any, ...]] = []
    for seq in range(head.size, end):
        ms = seq * 7  # one event every 7 ms
        ts = f"2026-03-02T{10 + ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}." \
             f"{ms % 1000:03d}000Z"
        row = (seq, ts, f"w{seq % 8}", ACTIONS[seq % 4], subjects[seq % 5000], None, "ok",
               details[seq % 13], sealed[seq % 64] if seq % 10 == 0 else None, head.last_hash)
        digest = entry_hash(encode_entry(origin, *row))
        rows.append((*row, digest))
        head.compact.append(digest)
        head.size, head.last_hash = seq + 1, digest
        if head.size % CHECKPOINT_EVERY == 0:
            cp = notes.Checkpoint(origin, head.size, head.compact.root())
            tx.audit.add_checkpoint(size=cp.size, root=cp.root, signer_kid=signer.kid, at=ts,
                                    note=notes.sign_checkpoint(cp, signer.name, signer.private_key))
    return rows


# -- verification --------------------------------------------------------------------------


def _bare_hash(entries: Sequence[bytes], repeat: int) -> float:
    """The bare hashlib loop over ``entries`` on one core (median of ``repeat`` runs), entries/s."""
    sha256 = hashlib.sha256

    def loop() -> None:
        for entry in entries:
            sha256(b"\x00" + entry).digest()

    return len(entries) / median_time(loop, repeat)


def _c_core_hash(origin: str, entries: Sequence[bytes], repeat: int) -> float:
    """The C core alone (leaf and node hashes, 4,096 entries per call) over the same entries in
    memory, one core (median of ``repeat`` runs), entries/s."""
    prefix = f"{ENTRY_FORMAT}\n{origin}\n".encode()
    chunks = [[entry.removeprefix(prefix) for entry in entries[at:at + 4096]] for at in range(0, len(entries), 4096)]
    levels = audit_verify.tree_levels
    leaf_prefix = b"\x00" + prefix

    def hash_all() -> None:
        for chunk in chunks:
            levels(leaf_prefix, chunk)

    return len(entries) / median_time(hash_all, repeat)


@contextmanager
def _pure_python_hashing() -> Iterator[None]:
    """Verification in this process hashes with hashlib, as an install without the C core does."""
    saved = audit_verify.tree_levels
    audit_verify.tree_levels = audit_verify.python_levels
    try:
        yield
    finally:
        audit_verify.tree_levels = saved


def _hash_range(path: str, origin: str, start: int, end: int, at: float) -> tuple[float, float]:
    """In a worker: load entries start..end-1 (untimed), wait until wall time ``at``, then run
    the bare hashlib loop over them; returns its (start, end) wall times."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    prefix = f"{ENTRY_FORMAT}\n{origin}\n".encode()
    entries = [prefix + tail for (tail,) in conn.execute(
        "SELECT entry FROM ck_audit_events WHERE seq >= ? AND seq < ? ORDER BY seq", (start, end))]
    conn.close()
    time.sleep(max(0.0, at - time.time()))
    sha256 = hashlib.sha256
    began = time.time()
    for entry in entries:
        sha256(b"\x00" + entry).digest()
    return began, time.time()


def _bare_hash_parallel(path: Path, origin: str, size: int, workers: int) -> float:
    """The bare hashlib loop on ``workers`` processes at once, each over its share of the
    same entries: entries/s from the first start to the last finish."""
    context = multiprocessing.get_context("spawn")
    at = time.time() + 5.0  # every worker has loaded its share by then
    bounds = [size * i // workers for i in range(workers + 1)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        spans = list(pool.map(_hash_range, [str(path)] * workers, [origin] * workers, bounds[:-1], bounds[1:],
                              [at] * workers))
    return size / (max(end for _, end in spans) - min(start for start, _ in spans))


def _rehash(origin: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """Re-encode and re-hash rows as a bare loop would; returns how many matched."""
    sha256, good = hashlib.sha256, 0
    for seq, ts, actor, action, subject, obj, outcome, details, sealed, prev, digest in rows:
        entry = "\n".join((ENTRY_FORMAT, origin, str(seq), ts, actor, action, subject or "", obj or "",
                           outcome, details, sealed or "", bytes(prev).hex())).encode()
        good += sha256(b"\x00" + entry).digest() == digest
    return good


def _bare_entry_scan(path: Path, origin: str, size: int) -> float:
    """Bare sqlite3 reading the generated entry column and hashing it (no chain, no tree), rows/s."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    prefix = hashlib.sha256(b"\x00" + f"{ENTRY_FORMAT}\n{origin}\n".encode())
    start, good = time.perf_counter(), 0
    for _seq, entry, digest in conn.execute("SELECT seq, entry, entry_hash FROM ck_audit_events ORDER BY seq"):
        state = prefix.copy()
        state.update(entry)
        good += state.digest() == digest
    rate = size / (time.perf_counter() - start)
    conn.close()
    assert good == size
    return rate


def _bare_sqlite_scan(path: Path, origin: str, size: int) -> tuple[float, float]:
    """Bare sqlite3 over the same rows: (SELECT only, SELECT + re-encode + hash) in rows/s."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    query = f"SELECT {COLUMNS} FROM ck_audit_events ORDER BY seq"  # noqa: S608 - constant names
    start = time.perf_counter()
    cursor = conn.execute(query)
    while cursor.fetchmany(20_000):
        pass
    fetched = size / (time.perf_counter() - start)
    start = time.perf_counter()
    good = _rehash(origin, conn.execute(query))
    rehashed = size / (time.perf_counter() - start)
    conn.close()
    assert good == size
    return fetched, rehashed


def _bare_pg_scan(schema: str, origin: str, size: int) -> float:
    import psycopg

    with psycopg.connect(plain(PG_URL), options=f"-csearch_path={schema}") as conn:
        start = time.perf_counter()
        with conn.cursor(name="scan") as cursor:
            cursor.itersize = 20_000
            cursor.execute(f"SELECT {COLUMNS} FROM ck_audit_events ORDER BY seq")  # noqa: S608
            good = _rehash(origin, iter(cursor))
        rate = size / (time.perf_counter() - start)
    assert good == size
    return rate


def _processes(count: int) -> str:
    return f"{count} process{'es' if count > 1 else ''}"


def _verify_rate(kit: ConsentKit, size: int, repeat: int, *, deep: bool = False, workers: int | None = None) -> float:
    def verify() -> None:
        result = kit.verify_audit(deep=deep, workers=workers)
        assert result.ok, result.damage
        assert result.size == size

    return size / median_time(verify, repeat)


def _cli_verify_rate(path: Path, keys: Path, size: int, repeat: int) -> float:
    """Events/s of the ``consentkit audit verify`` command, as an auditor runs it (wall time of the process)."""
    exe = shutil.which("consentkit") or str(Path(sys.executable).with_name("consentkit"))
    command = [exe, "--db", f"sqlite:///{path}", "--keys", str(keys), "--actor", "bench", "audit", "verify"]

    def verify() -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert f"{size} events" in done.stdout, done.stdout

    return size / median_time(verify, repeat)


# -- proofs --------------------------------------------------------------------------------


def _proof_rows(kit: ConsentKit, leaves: list[bytes], runs: int) -> list[Row]:
    size = len(leaves)
    rng = random.Random(3)
    seqs = [rng.randrange(size) for _ in range(runs)]
    olds = [rng.randrange(1, size) for _ in range(runs)]
    head = root(leaves)
    incl_lib = _median_over(kit.prove_inclusion, seqs)
    incl_mem = _median_over(lambda s: inclusion_proof(leaves, s, size), seqs)
    cons_lib = _median_over(kit.prove_consistency, olds)
    cons_mem = _median_over(lambda o: consistency_proof(leaves, o, size), olds)
    proof = inclusion_proof(leaves, seqs[0], size)
    cproof = consistency_proof(leaves, olds[0], size)
    old_root = root(leaves[:olds[0]])
    loops = 2000
    v_incl = _per_call(lambda: verify_inclusion(leaves[seqs[0]], seqs[0], size, proof, head), loops)
    v_cons = _per_call(lambda: verify_consistency(olds[0], size, old_root, head, cproof), loops)
    bare_incl = _per_call(lambda: _bare_node_hashes(proof), loops)
    bare_cons = _per_call(lambda: _bare_node_hashes(cproof), loops)
    text = kit.prove_inclusion(seqs[0])
    verifiers = kit.verifiers()
    v_file = _per_call(lambda: verify_proof(text, verifiers, kit.keys.origin), 200)
    assert parse_proof(text).index == seqs[0]
    return [
        Row(f"`prove_inclusion(seq)` at {size:,} (median of {runs})", incl_lib * 1e3, "ms",
            "`merkle.inclusion_proof` on leaves in memory", incl_mem * 1e3),
        Row(f"`prove_consistency(old)` at {size:,} (median of {runs})", cons_lib * 1e3, "ms",
            "`merkle.consistency_proof` on leaves in memory", cons_mem * 1e3),
        Row(f"`verify_inclusion` ({len(proof)} hashes)", v_incl * 1e6, "µs",
            "bare hashlib, same number of node hashes", bare_incl * 1e6),
        Row(f"`verify_consistency` ({len(cproof)} hashes)", v_cons * 1e6, "µs",
            "bare hashlib, same number of node hashes", bare_cons * 1e6),
        Row("`verify_proof` of a proof file (parse, Ed25519 checkpoint, path)", v_file * 1e6, "µs",
            "`verify_inclusion` alone", v_incl * 1e6),
    ]


def _median_over(action: Callable[[int], object], arguments: list[int]) -> float:
    """Median time of one call of ``action`` over the arguments (each timed once)."""
    return statistics.median(median_time(partial(action, a), 1) for a in arguments)


def _per_call(action: Callable[[], object], loops: int) -> float:
    def many() -> None:
        for _ in range(loops):
            action()

    return median_time(many, 5) / loops


def _bare_node_hashes(proof: Sequence[bytes]) -> bytes:
    node = bytes(32)
    for sibling in proof:
        node = hashlib.sha256(b"\x01" + node + sibling).digest()
    return node


# -- the suite -----------------------------------------------------------------------------


def _verify_sqlite(directory: Path, size: int, repeat: int, proof_runs: int) -> tuple[list[Row], list[Row]]:
    path, keys = directory / "large.db", directory / "keys-large"
    kit = _init(f"sqlite:///{path}", directory, keys)
    with kit:
        start = time.perf_counter()
        with _step(f"SQLite fill {size:,}"):
            entries, leaves = _fill(kit, size)
        built = time.perf_counter() - start
        with _step(f"SQLite verify x{repeat}"):
            rate = _verify_rate(kit, size, repeat)
        with _step(f"SQLite verify in one process x{repeat}"):
            single = _verify_rate(kit, size, repeat, workers=1)
        if audit_verify.C_CORE:
            with _step(f"SQLite verify in one process, hashlib instead of the C core x{repeat}"), \
                    _pure_python_hashing():
                pure = _verify_rate(kit, size, repeat, workers=1)
        with _step(f"SQLite `consentkit audit verify` x{repeat}"):
            command = _cli_verify_rate(path, keys, size, repeat)
        with _step("SQLite verify --deep"):
            deep = _verify_rate(kit, size, 1, deep=True, workers=1)
        with _step("SQLite bare verify baselines"):
            hashed = _bare_hash(entries, repeat)
            core = _c_core_hash(kit.keys.origin, entries, repeat) if audit_verify.C_CORE else None
            del entries
            workers = worker_count(size, None)
            hashed_parallel = _bare_hash_parallel(path, kit.keys.origin, size, workers) if workers > 1 else None
            fetched, scanned = _bare_sqlite_scan(path, kit.keys.origin, size)
            entry_scan = _bare_entry_scan(path, kit.keys.origin, size)
        with _step("proofs"):
            proofs = _proof_rows(kit, leaves, proof_runs)
    target = rate >= 300_000 and rate >= hashed / 2
    processes = _processes(workers)
    parallel = [] if hashed_parallel is None else [
        Row(f"bare hashlib loop over the same bytes, {processes} at once", hashed_parallel, "entries/s",
            "the same loop, one core", hashed),
        Row(f"SQLite: `verify_audit()`, {processes}, against the bare loop on as many", rate, "events/s",
            f"bare hashlib loop, {processes} at once", hashed_parallel),
    ]
    hashing = "C core" if audit_verify.C_CORE else "hashlib, no C core"
    core_rows = [] if core is None else [
        Row("the C core's hashing alone (leaf + node hashes), same bytes in memory, one core", core, "entries/s",
            "bare hashlib loop, one core", hashed),
        Row(f"SQLite: `verify_audit(workers=1)` hashing with hashlib instead of the C core ({size / pure:.2f} s)",
            pure, "events/s", "`verify_audit(workers=1)` with the C core", single),
    ]
    return [
        Row(f"SQLite: `verify_audit()`, {size:,} events, {processes}, {hashing} ({size / rate:.2f} s)", rate,
            "events/s", "bare hashlib `sha256(0x00 ‖ entry)` over the same bytes, one core", hashed,
            "≥ 300k/s and ≥ 0.5x hashlib", target),
        *parallel,
        *core_rows,
        Row(f"SQLite: `consentkit audit verify` (the CLI, start-up included), same log ({size / command:.2f} s)",
            command, "events/s", "`verify_audit()` in this process", rate),
        Row(f"SQLite: `verify_audit(workers=1)`, same log ({size / single:.2f} s)", single, "events/s",
            "bare sqlite3 SELECT of the generated entry + hash (no chain, no tree)", entry_scan),
        Row("SQLite: `verify_audit(deep=True)` (re-encodes the 11 fields)", deep, "events/s",
            "bare sqlite3 SELECT of the 11 fields + re-encode + hash", scanned),
        Row("SQLite: `verify_audit(deep=True)`, same log", deep, "events/s",
            "bare sqlite3 SELECT of the 11 fields alone (no hashing)", fetched),
        Row(f"SQLite: building the {size:,}-event log (executemany per {FILL_CHUNK:,})", size / built,
            "events/s"),
    ], proofs


def _verify_pg(url: str, schema: str, directory: Path, size: int, repeat: int) -> list[Row]:
    kit = _init(url, directory)
    with kit:
        with _step(f"PostgreSQL fill {size:,}"):
            _fill(kit, size)
        with _step(f"PostgreSQL verify x{repeat} + bare"):
            rate = _verify_rate(kit, size, repeat)
            single = _verify_rate(kit, size, repeat, workers=1)
            scanned = _bare_pg_scan(schema, kit.keys.origin, size)
    return [Row(f"PostgreSQL: `verify_audit()`, {size:,} events, {_processes(worker_count(size, None))} "
                f"({size / rate:.2f} s)", rate, "events/s",
                "bare psycopg SELECT (server-side cursor) of the 11 fields + re-encode + hash", scanned),
            Row(f"PostgreSQL: `verify_audit(workers=1)`, same log ({size / single:.2f} s)", single, "events/s",
                "bare psycopg SELECT (server-side cursor) of the 11 fields + re-encode + hash", scanned)]


def run(quick: bool = False) -> list[Section]:
    """Measure and return the audit sections."""
    per_commit, batched = (200, 10_000) if quick else (2000, 100_000)
    large, large_pg = (50_000, 20_000) if quick else (1_000_000, 200_000)
    repeat, proof_runs = (1, 3) if quick else (3, 5)
    appends: list[Row] = []
    verify: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        appends += _append_rows("SQLite", f"sqlite:///{directory / 'appends.db'}", directory,
                                lambda n, b: _bare_sqlite_appends(directory / f"bare-{n}-{b}.db", n, b),
                                per_commit, batched)
        verify, proofs = _verify_sqlite(directory, large, repeat, proof_runs)
        with pg_schema() as pg:
            if pg is not None:
                url, schema = pg
                appends += _append_rows("PostgreSQL", url, directory,
                                        lambda n, b: _bare_pg_appends(schema, n, b), per_commit, batched)
        with pg_schema() as pg:
            if pg is not None:
                verify += _verify_pg(*pg, directory, large_pg, repeat)
    notes_ = [
        "Library appends go through `kit._audit` inside `kit.store.write()`: per event it validates the "
        "ids, encodes and hashes the entry, extends the Merkle compact range, MACs the head and updates "
        f"the head row; a signed checkpoint is taken every {CHECKPOINT_EVERY:,} events. The bare baselines "
        "insert prebuilt rows into a table with the same columns and indexes, nothing else.",
        "SQLite: WAL, synchronous=FULL, BEGIN IMMEDIATE for library and baseline alike.",
    ]
    verify_notes = [
        "`verify_audit()` checks that the table still generates each entry from its fields, reads the "
        "entry column (a stored column the database computes from the fields), hashes every entry and "
        "folds the leaves into the Merkle tree 4,096 at a time (in the C core, `audit/_treehash.c`, through "
        "OpenSSL's SHA-256; with hashlib where the core was not built), compares every signed checkpoint "
        f"(one per {CHECKPOINT_EVERY:,} events, Ed25519) and the head's tree with it, checks that each "
        "stored entry hash (read beside the entry) is the hash of its entry, then checks the head's MAC and the "
        "erasure records. Only if something does not match does it rescan entry by entry, following the "
        "chain, to name the first bad entry. From 200,000 events it splits the log at block boundaries "
        "over one process per core (here 2): the caller's process takes the first range, a `python -c` "
        "worker the second, started before the caller authenticates the checkpoints; the ranges join "
        "into one tree. `deep=True` re-encodes the 11 stored fields in Python and follows the chain "
        "instead of reading the entry column (catches edits made to the file behind the database). "
        "The bare loops only re-hash, on one core.",
        "The hashlib baseline (median of as many runs as verification) runs on one core over bytes "
        "already in memory, while verification must also fetch every row and hash the Merkle nodes (one "
        "node hash per entry on average). The C core's hashing alone, over the same bytes in memory, shows "
        "how much of that is hashing; verification in one process with hashlib instead of the core shows "
        "what the core saves. The rows with the bare loop on as many processes as verification uses show "
        "what a second process adds on this machine (two virtual CPUs), even to a loop that does nothing "
        "but hash bytes already in memory: each worker loads its share first, untimed, and all start at "
        "the same moment.",
        "The large logs are written row by row exactly as `AuditLog.append` would write them (same bytes, "
        "hashes, head and checkpoints), but with one executemany per 100,000 events.",
    ]
    if not any(r.metric.startswith("PostgreSQL") for r in appends):
        notes_.append("PostgreSQL was not reachable in this run: no PostgreSQL figures.")
    return [
        Section("Audit appends", appends, notes_),
        Section("Audit verification", verify, verify_notes),
        Section(f"Audit proofs at {large:,} events (SQLite)", proofs),
    ]

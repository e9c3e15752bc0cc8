"""The ``entry`` column the database computes: equal to the hashed encoding, unwritable, and
its definition checked before verification trusts it (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from consentkit.audit.envelope import ENTRY_FORMAT, canonical_json, encode_entry
from consentkit.audit.events import AuditEvent
from consentkit.kit import ConsentKit
from tests.migrations import alembic

COLUMNS = "seq, ts, actor, action, subject_id, object_ref, outcome, details, sealed, prev_hash, entry_hash"


@pytest.fixture
def engine(db_url: str, kit: ConsentKit) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def _stored(engine: Engine, seq: int) -> tuple[bytes, bytes]:
    """(the database's entry, the envelope encoding of the stored fields minus its first two lines)."""
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT {COLUMNS}, entry FROM ck_audit_events WHERE seq = :s"), {"s": seq}).one()
    origin = conn.dialect.name  # any origin: only the first two lines depend on it
    encoded = encode_entry(origin, row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                           bytes(row[9]))
    prefix = f"{ENTRY_FORMAT}\n{origin}\n".encode()
    entry = row[11].encode() if isinstance(row[11], str) else bytes(row[11])
    return entry, encoded[len(prefix):]


text_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(details=st.dictionaries(st.sampled_from(["a", "ä", "ключ", "κλειδί", "k\\n"]), text_values, max_size=4),
       object_ref=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._@:+/=#-]{0,30}", fullmatch=True)),
       outcome=st.sampled_from(["ok", "deny", "permit"]))
def test_the_database_computes_exactly_the_hashed_encoding(
        kit: ConsentKit, engine: Engine, details: dict[str, str], object_ref: str | None, outcome: str) -> None:
    record = kit.append_event(AuditEvent("test.event", object_ref=object_ref, outcome=outcome, details=details))
    entry, expected = _stored(engine, record.seq)
    assert entry == expected
    assert canonical_json(details).encode() in entry


def test_nobody_can_write_the_entry_column(kit: ConsentKit, engine: Engine) -> None:
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE ck_audit_events SET entry = :e WHERE seq = 0"), {"e": b"forged"})
    assert kit.verify_audit().ok


def test_editing_a_field_changes_the_entry_with_it(kit: ConsentKit, engine: Engine) -> None:
    kit.checkpoint()
    with engine.begin() as conn:
        conn.execute(text("UPDATE ck_audit_events SET outcome = 'deny' WHERE seq = 0"))
    entry, expected = _stored(engine, 0)
    assert entry == expected and b"\ndeny\n" in entry
    damage = kit.verify_audit().damage
    assert damage is not None and (damage.kind, damage.seq) == ("changed", 0)


def _make_entry_a_plain_column(engine: Engine) -> None:
    """What a database administrator would do to forge fields behind a stale entry."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ck_audit_events ALTER COLUMN entry DROP EXPRESSION"))
            return
        conn.execute(text("ALTER TABLE ck_audit_events RENAME TO ck_old"))
        conn.execute(text(
            "CREATE TABLE ck_audit_events (seq BIGINT PRIMARY KEY, ts TEXT, actor TEXT, action TEXT, subject_id TEXT, "
            "object_ref TEXT, outcome TEXT, details TEXT, sealed TEXT, prev_hash BLOB, entry_hash BLOB, entry BLOB)"))
        conn.execute(text(f"INSERT INTO ck_audit_events SELECT {COLUMNS}, entry FROM ck_old"))
        conn.execute(text("DROP TABLE ck_old"))


def test_an_altered_table_definition_is_refused(kit: ConsentKit, engine: Engine) -> None:
    kit.subject(kit.add_subject(jurisdiction="se", name="Klient", birth_date=date(1990, 1, 1)).subject_id)
    kit.checkpoint()
    _make_entry_a_plain_column(engine)
    with engine.begin() as conn:  # the forged field now leaves the stale entry alone
        conn.execute(text("UPDATE ck_audit_events SET actor = 'mallory' WHERE seq = 1"))
    fast = kit.verify_audit().damage
    assert fast is not None and fast.kind == "schema"
    deep = kit.verify_audit(deep=True).damage
    assert deep is not None and (deep.kind, deep.seq) == ("changed", 1)


def test_an_intact_log_verifies_the_same_both_ways(kit: ConsentKit) -> None:
    subject_id = kit.add_subject(jurisdiction="se", name="Klient", birth_date=date(1990, 1, 1)).subject_id
    kit.subject(subject_id)
    kit.erase_subject(subject_id)
    fast, deep = kit.verify_audit(), kit.verify_audit(deep=True)
    assert fast.ok and deep.ok
    assert (fast.size, fast.root) == (deep.size, deep.root)


def test_a_log_written_before_the_column_existed_is_upgraded_and_verifies(
        kit: ConsentKit, engine: Engine, db_url: str) -> None:
    subject_id = kit.add_subject(jurisdiction="se", name="Klient", birth_date=date(1990, 1, 1)).subject_id
    kit.subject(subject_id)
    kit.checkpoint()
    before = kit.verify_audit()
    kit.close()
    alembic(engine, "downgrade", "0003")
    assert "entry" not in {column["name"] for column in inspect(engine).get_columns("ck_audit_events")}
    alembic(engine, "upgrade", "head")
    reopened = ConsentKit.open(db_url, kit.keys_dir, actor="ada")
    try:
        after = reopened.verify_audit()
        assert after.ok and (after.size, after.root) == (before.size, before.root)
        assert _stored(engine, 1)[0] == _stored(engine, 1)[1]
    finally:
        reopened.close()


@pytest.fixture
def long_log(kit: ConsentKit) -> ConsentKit:
    """A log of 203 events with checkpoints at 100 and 201."""
    for n in range(199):
        kit.append_event(AuditEvent("test.event", object_ref=f"obj-{n}", details={"n": n}))
        if n in (98, 198):
            kit.checkpoint()
    kit.append_event(AuditEvent("test.event", details={"n": "last"}))
    return kit


def test_ranges_verified_in_parallel_processes_join_into_the_same_tree(
        long_log: ConsentKit, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fallback(*_args: object) -> None:
        raise AssertionError("an intact log fell back to the sequential scan")

    monkeypatch.setattr("consentkit.kit._audit.scan_encoded", no_fallback)
    one, two, three = (long_log.verify_audit(workers=n) for n in (1, 2, 3))
    assert one.ok and two.ok and three.ok
    assert (one.size, one.root) == (two.size, two.root) == (three.size, three.root)
    assert one.checkpoints == two.checkpoints == three.checkpoints


@pytest.mark.parametrize(("statement", "expected"), [
    ("UPDATE ck_audit_events SET actor = 'mallory' WHERE seq = 150", ("changed", 150)),
    ("DELETE FROM ck_audit_events WHERE seq = 101", ("deleted", 101)),
    ("UPDATE ck_audit_events SET entry_hash = prev_hash WHERE seq = 150", ("changed", 150)),
    ("UPDATE ck_audit_events SET entry_hash = prev_hash WHERE seq = 20", ("changed", 20)),
    ("DELETE FROM ck_audit_events WHERE seq >= 180", ("truncated", 180)),
])
def test_damage_found_in_parallel_is_named_as_a_single_scan_names_it(
        long_log: ConsentKit, engine: Engine, statement: str, expected: tuple[str, int]) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement))
    if expected[0] == "truncated":  # also move the head back, as someone hiding the cut would
        with engine.begin() as conn:
            conn.execute(text("UPDATE ck_audit_head SET size = 180"))
    damage = long_log.verify_audit(workers=2).damage
    assert damage is not None and (damage.kind, damage.seq) == expected
    assert long_log.verify_audit(workers=1).damage == damage


def test_a_worker_that_fails_leaves_the_caller_to_verify_alone(
        long_log: ConsentKit, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    if long_log.store.engine.dialect.name == "sqlite" and long_log.store.engine.url.database in (None, ":memory:"):
        pytest.skip("an in-memory database has no workers")
    alone = long_log.verify_audit(workers=1)
    monkeypatch.setattr("consentkit.storage.audit_scan._WORKER_CODE", "import sys; sys.exit(3)")
    result = long_log.verify_audit(workers=2)
    assert result.ok and (result.size, result.root) == (alone.size, alone.root)
    assert "worker failed (exit 3)" in caplog.text
    # A worker gone before it read its job (a broken pipe for the caller) is the same case.
    monkeypatch.setattr("consentkit.storage.audit_scan._WORKER_CODE", "import os; os.close(0); raise SystemExit(4)")
    result = long_log.verify_audit(workers=2)
    assert result.ok and "worker failed (exit 4)" in caplog.text

"""Attacks at the database level, on SQLite and PostgreSQL: each must be detected and named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from consentkit.audit.checkpoint import Checkpoint, sign_checkpoint
from consentkit.audit.envelope import encode_entry, entry_hash
from consentkit.audit.events import AuditEvent
from consentkit.audit.merkle import CompactRange
from consentkit.errors import AuditIntegrityError
from consentkit.keys import KeyRing
from consentkit.kit import ConsentKit
from consentkit.storage.audit_log import Head

COLUMNS = "seq, ts, actor, action, subject_id, object_ref, outcome, details, sealed, prev_hash, entry_hash"


@pytest.fixture
def log(kit: ConsentKit) -> ConsentKit:
    """A log of 13 events (seq 0-12) with a checkpoint at size 9."""
    ids = [
        kit.add_subject(jurisdiction="se", name=f"Klient {i}", birth_date=date(1990, 1, 1 + i)).subject_id
        for i in range(4)
    ]
    for subject_id in ids:
        kit.subject(subject_id)
    kit.checkpoint()
    for subject_id in ids:
        kit.subject(subject_id)
    assert kit.verify_audit().ok
    return kit


@pytest.fixture
def db(db_url: str) -> Iterator[Connection]:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        yield conn
    engine.dispose()


def _tamper(db_url: str, *statements: str, params: dict[str, object] | None = None) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params or {})
    engine.dispose()


def _damage(kit: ConsentKit, trusted: str | None = None) -> tuple[str, int | None]:
    result = kit.verify_audit(trusted_note=trusted)
    assert result.damage is not None, "tampering was not detected"
    # --deep re-encodes every field instead of reading the database's own entry: same verdict.
    deep = kit.verify_audit(trusted_note=trusted, deep=True)
    assert deep.damage == result.damage
    return result.damage.kind, result.damage.seq


def test_edit_a_field(log: ConsentKit, db_url: str) -> None:
    _tamper(db_url, "UPDATE ck_audit_events SET actor = 'mallory' WHERE seq = 5")
    assert _damage(log) == ("changed", 5)


def test_edit_details_and_rehash_the_row(log: ConsentKit, db_url: str) -> None:
    # Re-hashing the edited row breaks the link from the next one.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        row = conn.execute(text(f"SELECT {COLUMNS} FROM ck_audit_events WHERE seq = 3")).one()
        digest = entry_hash(encode_entry(log.keys.origin, 3, row[1], "mallory", *row[3:8], row[8], bytes(row[9])))
        conn.execute(text("UPDATE ck_audit_events SET actor = 'mallory', entry_hash = :h WHERE seq = 3"), {"h": digest})
    engine.dispose()
    assert _damage(log) == ("deleted", 4)


@pytest.mark.parametrize("seq", [0, 5, 11, 12])
def test_edit_only_a_stored_hash(log: ConsentKit, db_url: str, seq: int) -> None:
    # The entry still hashes to its place in the tree; the stored hash (which proofs read) lies.
    _tamper(db_url, f"UPDATE ck_audit_events SET entry_hash = :h WHERE seq = {seq}", params={"h": bytes(range(32))})
    assert _damage(log) == ("changed", seq)


def test_delete_a_row(log: ConsentKit, db_url: str) -> None:
    _tamper(db_url, "DELETE FROM ck_audit_events WHERE seq = 7")
    assert _damage(log) == ("deleted", 7)


def test_insert_a_forged_row(log: ConsentKit, db_url: str) -> None:
    # Back-date an event: shift the tail up by one and insert a correctly chained forgery at 4.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        rows = conn.execute(text(f"SELECT {COLUMNS} FROM ck_audit_events WHERE seq >= 3 ORDER BY seq")).all()
        conn.execute(text("DELETE FROM ck_audit_events WHERE seq >= 4"))
        prev = bytes(rows[0][10])
        forged = (4, rows[1][1], "mallory", "subject.viewed", rows[1][4], None, "ok", "{}", None)
        digest = entry_hash(encode_entry(log.keys.origin, *forged, prev))
        insert = text(
            f"INSERT INTO ck_audit_events ({COLUMNS}) VALUES "
            "(:seq, :ts, :actor, :action, :subject, :obj, :outcome, :details, :sealed, :prev, :h)"
        )
        conn.execute(
            insert,
            dict(
                zip(
                    ("seq", "ts", "actor", "action", "subject", "obj", "outcome", "details", "sealed"),
                    forged,
                    strict=True,
                )
            )
            | {"prev": prev, "h": digest},
        )
        for row in rows[1:]:
            conn.execute(
                insert,
                {
                    "seq": row[0] + 1,
                    "ts": row[1],
                    "actor": row[2],
                    "action": row[3],
                    "subject": row[4],
                    "obj": row[5],
                    "outcome": row[6],
                    "details": row[7],
                    "sealed": row[8],
                    "prev": row[9],
                    "h": row[10],
                },
            )
    engine.dispose()
    assert _damage(log) == ("inserted", 4)


def _append_forged_tail_row(conn: Connection, origin: str) -> tuple[int, bytes]:
    """Insert a correctly chained forged entry after the last one; returns its seq and hash."""
    size, last = conn.execute(text("SELECT size, last_hash FROM ck_audit_head WHERE id = 1")).one()
    row = ("2026-03-02T10:00:00.000000Z", "mallory", "subject.viewed", None, None, "ok", "{}", None)
    digest = entry_hash(encode_entry(origin, size, *row, bytes(last)))
    conn.execute(
        text(f"INSERT INTO ck_audit_events ({COLUMNS}) "
             "VALUES (:s, :ts, :a, :ac, NULL, NULL, 'ok', '{}', NULL, :p, :h)"),
        {"s": size, "ts": row[0], "a": row[1], "ac": row[2], "p": bytes(last), "h": digest},
    )
    return int(size), digest


def test_append_a_forged_row_at_the_tail(log: ConsentKit, db_url: str) -> None:
    # A correctly chained forgery after the last checkpoint, with the head rewritten to match:
    # the chain and Merkle root agree, but the head's MAC (a key outside the database) does not.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        size, digest = _append_forged_tail_row(conn, log.keys.origin)
        compact = CompactRange.from_bytes(bytes(conn.execute(text("SELECT compact FROM ck_audit_head")).scalar_one()))
        compact.append(digest)
        conn.execute(
            text("UPDATE ck_audit_head SET size = :s, last_hash = :h, compact = :c"),
            {"s": size + 1, "h": digest, "c": compact.to_bytes()},
        )
    engine.dispose()
    assert _damage(log) == ("forged-head", 13)


def test_rows_appended_without_updating_the_head(log: ConsentKit, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        _append_forged_tail_row(conn, log.keys.origin)
    engine.dispose()
    assert _damage(log)[0] == "inserted"


def test_swap_two_rows(log: ConsentKit, db_url: str) -> None:
    _tamper(
        db_url,
        "UPDATE ck_audit_events SET seq = -1 WHERE seq = 10",
        "UPDATE ck_audit_events SET seq = 10 WHERE seq = 11",
        "UPDATE ck_audit_events SET seq = 11 WHERE seq = -1",
    )
    assert _damage(log) == ("reordered", 10)


def test_truncate_the_tail(log: ConsentKit, db_url: str) -> None:
    _tamper(db_url, "DELETE FROM ck_audit_events WHERE seq >= 11")
    assert _damage(log) == ("truncated", 11)


def test_truncate_below_a_checkpoint_and_fix_the_head(log: ConsentKit, db_url: str) -> None:
    # The attacker also rewinds the head to the entries that remain; the stored checkpoint
    # (size 9) still covers more than is left.
    _tamper(db_url, "DELETE FROM ck_audit_events WHERE seq >= 6")
    assert _damage(log) == ("truncated", 6)


def test_sign_with_a_foreign_key(log: ConsentKit, db_url: str) -> None:
    foreign = KeyRing.generate(log.keys.origin)
    size, root = 9, bytes(32)
    note = sign_checkpoint(Checkpoint(log.keys.origin, size, root), foreign.signer.name, foreign.signer.private_key)
    _tamper(db_url, "UPDATE ck_audit_checkpoints SET note = :n", params={"n": note})
    assert _damage(log)[0] == "unknown-key"


def test_forged_checkpoint(log: ConsentKit, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        note = conn.execute(text("SELECT note FROM ck_audit_checkpoints")).scalar_one()
        lines = note.split("\n")
        lines[1] = "8"  # claim a different size under the same signature
        conn.execute(text("UPDATE ck_audit_checkpoints SET note = :n"), {"n": "\n".join(lines)})
    engine.dispose()
    assert _damage(log)[0] == "forged-checkpoint"


def test_a_checkpoint_row_that_is_no_signed_note_is_forged(log: ConsentKit, db_url: str) -> None:
    _tamper(db_url, "UPDATE ck_audit_checkpoints SET note = 'hello'")
    assert _damage(log) == ("forged-checkpoint", None)


@pytest.mark.parametrize("statement", [
    "DELETE FROM ck_audit_head",
    "UPDATE ck_audit_head SET compact = :c",
])
def test_a_head_that_is_gone_or_unreadable_is_named_not_an_error(log: ConsentKit, db_url: str,
                                                                 statement: str) -> None:
    _tamper(db_url, statement, params={"c": b""})
    assert _damage(log) == ("forged-head", None)


@pytest.mark.parametrize("size", [12, 14])
def test_a_head_moved_by_hand_is_named_forged_not_inserted_or_truncated(log: ConsentKit, db_url: str,
                                                                        size: int) -> None:
    # No entry was added or removed: the head (whose MAC no longer verifies) was edited.
    _tamper(db_url, f"UPDATE ck_audit_head SET size = {size}")
    assert _damage(log) == ("forged-head", size - 1)


def test_deleting_the_signed_checkpoints_of_a_long_log_is_caught(log: ConsentKit, db_url: str) -> None:
    # consentkit signs a checkpoint in the append that completes every 1,000 events; without
    # it, the entries after the remaining checkpoint would rest on the head's MAC alone.
    with log.store.write() as tx:
        log._audit_many(tx, [AuditEvent("test.event", details={"n": n}) for n in range(1000)], {})
    assert log.verify_audit().ok
    _tamper(db_url, "DELETE FROM ck_audit_checkpoints WHERE size > 9")
    kind, _ = _damage(log)
    assert kind == "forged-checkpoint"
    _tamper(db_url, "DELETE FROM ck_audit_checkpoints")
    assert _damage(log)[0] == "forged-checkpoint"


@pytest.mark.parametrize("statement", [
    "UPDATE ck_audit_events SET details = CAST(x'7bff7d' AS TEXT) WHERE seq = 4",  # not UTF-8
    "UPDATE ck_audit_events SET prev_hash = lower(hex(prev_hash)) WHERE seq = 4",  # text in a BLOB column
    "UPDATE ck_audit_events SET entry_hash = lower(hex(entry_hash)) WHERE seq = 4",
])
def test_a_value_of_the_wrong_type_is_named_damage_not_a_crash(log: ConsentKit, db_url: str, statement: str) -> None:
    # SQLite stores whatever SQL writes, whatever the column's declared type.
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL enforces column types and UTF-8")
    _tamper(db_url, statement)
    for deep in (False, True):
        damage = log.verify_audit(deep=deep).damage
        assert damage is not None and (damage.kind, damage.seq) == ("changed", 4), (deep, damage)


def test_drop_a_subject_key_without_an_erasure_event(log: ConsentKit, db_url: str) -> None:
    _tamper(
        db_url,
        "UPDATE ck_subject_keys SET wrapped = NULL WHERE subject_id = (SELECT min(subject_id) FROM ck_subject_keys)",
    )
    assert _damage(log)[0] == "key-destroyed"


def test_resigned_rewrite_is_caught_only_with_a_trusted_checkpoint(
    log: ConsentKit, db_url: str, tmp_path: Path
) -> None:
    trusted = log.checkpoint().note  # the auditor keeps this outside the database
    # A database administrator who also holds every key rewrites entry 2 and everything after.
    engine = create_engine(db_url)
    with engine.begin() as conn:
        rows = conn.execute(text(f"SELECT {COLUMNS} FROM ck_audit_events ORDER BY seq")).all()
        compact, prev = CompactRange(), bytes(32)
        for row in rows:
            actor = "mallory" if row[0] == 2 else row[2]
            digest = entry_hash(encode_entry(log.keys.origin, row[0], row[1], actor, *row[3:9], prev))
            conn.execute(
                text("UPDATE ck_audit_events SET actor = :a, prev_hash = :p, entry_hash = :h WHERE seq = :s"),
                {"a": actor, "p": prev, "h": digest, "s": row[0]},
            )
            compact.append(digest)
            prev = digest
        head = Head(len(rows), prev, compact)
        conn.execute(
            text("UPDATE ck_audit_head SET last_hash = :h, compact = :c, tag = :t"),
            {"h": prev, "c": compact.to_bytes(), "t": log.keys.head_tag(head.message(log.keys.origin))},
        )
        conn.execute(text("DELETE FROM ck_audit_checkpoints"))
        note = sign_checkpoint(
            Checkpoint(log.keys.origin, len(rows), compact.root()), log.keys.signer.name, log.keys.signer.private_key
        )
        conn.execute(
            text(
                "INSERT INTO ck_audit_checkpoints (size, root, note, signer_kid, created_at) "
                "VALUES (:s, :r, :n, :k, '2026-03-02T10:00:00.000000Z')"
            ),
            {"s": len(rows), "r": compact.root(), "n": note, "k": log.keys.signer.kid},
        )
    engine.dispose()
    assert log.verify_audit().ok  # the database alone cannot tell
    assert _damage(log, trusted=trusted)[0] == "re-signed"


def test_a_rolled_back_log_is_caught_with_a_trusted_checkpoint(log: ConsentKit, db_url: str) -> None:
    trusted = log.checkpoint().note
    _tamper(db_url, "DELETE FROM ck_audit_checkpoints", "DELETE FROM ck_audit_events WHERE seq >= 11")
    assert _damage(log, trusted=trusted)[0] == "truncated"


def test_a_rewritten_head_stops_every_write_instead_of_being_laundered(log: ConsentKit, db_url: str) -> None:
    # Appending to (or signing a checkpoint of) a head rewritten in the database would give it a
    # valid MAC and signature. Every write refuses instead, and writes nothing.
    _tamper(db_url, "UPDATE ck_audit_head SET size = size - 5")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        before = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("ck_subjects", "ck_audit_events", "ck_audit_checkpoints")]
    with pytest.raises(AuditIntegrityError) as refused:
        log.checkpoint()
    assert refused.value.kind == "forged-head" and "nothing was written" in refused.value.message
    with pytest.raises(AuditIntegrityError):
        log.add_subject(jurisdiction="se", name="Klient 9", birth_date=date(1991, 1, 1))
    with engine.connect() as conn:
        after = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                 for table in ("ck_subjects", "ck_audit_events", "ck_audit_checkpoints")]
    engine.dispose()
    assert after == before
    assert not log.verify_audit().ok


def test_an_export_refused_by_a_rewritten_head_leaves_the_earlier_file(log: ConsentKit, db_url: str,
                                                                        tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    log.export_audit(out)
    earlier = out.read_bytes()
    _tamper(db_url, "UPDATE ck_audit_head SET size = size - 5")
    with pytest.raises(AuditIntegrityError):
        log.export_audit(out)
    assert out.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_erased_subject_restored_from_a_backup_is_caught_and_can_be_erased_again(log: ConsentKit,
                                                                                   db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        subject_id, wrapped = conn.execute(text(
            "SELECT subject_id, wrapped FROM ck_subject_keys ORDER BY subject_id LIMIT 1")).one()
        personal = conn.execute(text("SELECT personal FROM ck_subjects WHERE subject_id = :s"),
                                {"s": subject_id}).scalar_one()
    engine.dispose()
    log.erase_subject(subject_id)
    assert log.verify_audit().erased_subjects == 1
    _tamper(db_url, "UPDATE ck_subject_keys SET wrapped = :w, destroyed_at = NULL WHERE subject_id = :s",
            "UPDATE ck_subjects SET personal = :p WHERE subject_id = :s",
            params={"w": bytes(wrapped), "p": bytes(personal), "s": subject_id})
    result = log.verify_audit()
    assert result.damage is not None and result.damage.kind == "key-restored"
    assert subject_id in result.damage.message
    log.erase_subject(subject_id)  # erased again, not refused as "already erased"
    assert log.verify_audit().ok

"""The audit trail through the library: atomicity, verification, erasure, proofs, export."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from consentkit.audit.checkpoint import parse_verifier_key
from consentkit.audit.events import AuditEvent
from consentkit.audit.export import verify_export
from consentkit.audit.proof_file import parse_proof, verify_proof
from consentkit.errors import AuditIntegrityError, InvalidInputError, StorageError
from consentkit.kit import ConsentKit
from consentkit.kit._base import CHECKPOINT_EVERY
from consentkit.storage.audit_log import AuditFilter
from consentkit.types import Role


def _populate(kit: ConsentKit, n: int = 5) -> list[str]:
    ids = []
    for i in range(n):
        ids.append(kit.add_subject(jurisdiction="se", name=f"Klient {i}", birth_date=date(1990, 1, 1 + i)).subject_id)
        kit.subject(ids[-1])
    return ids


def _count(db_url: str, sql: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        value = int(conn.execute(text(sql)).scalar_one())
    engine.dispose()
    return value


def test_fresh_log_verifies(kit: ConsentKit) -> None:
    _populate(kit)
    result = kit.verify_audit()
    assert result.ok, result.damage
    assert result.size == 1 + 5 * 2
    assert result.checkpoints == 0


def test_no_event_for_a_rolled_back_change(kit: ConsentKit, db_url: str) -> None:
    _populate(kit, 1)
    before = _count(db_url, "SELECT count(*) FROM ck_audit_events")
    with pytest.raises(InvalidInputError), kit.store.write() as tx:
        kit._audit(tx, AuditEvent("subject.viewed", details={"probe": 1}))
        raise InvalidInputError("the change fails after its event was written")
    assert _count(db_url, "SELECT count(*) FROM ck_audit_events") == before
    assert kit.verify_audit().ok


def test_no_change_without_its_event(kit: ConsentKit, db_url: str) -> None:
    subjects_before = _count(db_url, "SELECT count(*) FROM ck_subjects")
    with pytest.raises(InvalidInputError):
        kit.add_subject(jurisdiction="se", name="X\nY", birth_date=date(1990, 1, 1))
    # An audit append that fails (float in details) rolls the subject back with it.
    with pytest.raises(InvalidInputError), kit.store.write() as tx:
        tx.meta.put("probe", "1")
        kit._audit(tx, AuditEvent("subject.viewed", details={"bad": float("nan")}))
    assert _count(db_url, "SELECT count(*) FROM ck_subjects") == subjects_before
    assert _count(db_url, "SELECT count(*) FROM ck_meta WHERE key = 'probe'") == 0


@pytest.mark.parametrize("with_orm_statement", [False, True])
def test_a_failed_write_releases_the_database(kit: ConsentKit, db_url: str, with_orm_statement: bool) -> None:
    # SQLite: Store.write() sends BEGIN IMMEDIATE and COMMIT on the driver; a failure must
    # still roll back and free the write lock at once, whether or not a SQLAlchemy statement
    # autobegan inside the transaction.
    if not db_url.startswith("sqlite"):
        pytest.skip("the driver-level transaction is SQLite's")
    _populate(kit, 1)
    with pytest.raises(InvalidInputError), kit.store.write() as tx:
        if with_orm_statement:
            tx.meta.put("probe", "1")
        kit._audit(tx, AuditEvent("subject.viewed", details={"probe": 1}))
        raise InvalidInputError("the change fails after its event was written")
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the failed write still held it
        assert other.execute("SELECT count(*) FROM ck_meta WHERE key = 'probe'").fetchone() == (0,)
        other.execute("ROLLBACK")
    finally:
        other.close()
    kit.subject(_populate(kit, 1)[0])  # and the kit writes again
    assert kit.verify_audit().ok


def test_erasure_keeps_the_chain_verifying(kit: ConsentKit) -> None:
    ids = _populate(kit, 3)
    kit.hold_subject(ids[0], reason="Anna Svensson's complaint")
    kit.release_subject(ids[0])
    kit.erase_subject(ids[0])
    result = kit.verify_audit()
    assert result.ok, result.damage
    assert result.erased_subjects == 1
    assert result.erased_events >= 4
    records = kit.audit_log(AuditFilter(subject_id=ids[0]))
    sealed = [r for r in records if r.action == "subject.hold-placed"]
    assert sealed[0].personal_state == "erased" and sealed[0].personal is None


def test_dpo_sees_sealed_details_and_caseworker_cannot_read_log(kit: ConsentKit, open_as) -> None:  # type: ignore[no-untyped-def]
    ids = _populate(kit, 1)
    kit.hold_subject(ids[0], reason="investigation 17/2026")
    kit.add_actor("dora", [Role.DPO])
    kit.add_actor("sam", [Role.SUPERVISOR])
    kit.add_actor("cas", [Role.CASEWORKER])
    dpo_view = [
        r for r in open_as("dora").audit_log(AuditFilter(subject_id=ids[0])) if r.action == "subject.hold-placed"
    ]
    assert dpo_view[0].personal == {"reason": "investigation 17/2026"}
    supervisor_view = [
        r for r in open_as("sam").audit_log(AuditFilter(subject_id=ids[0])) if r.action == "subject.hold-placed"
    ]
    assert supervisor_view[0].personal is None and supervisor_view[0].personal_state == "sealed"
    with pytest.raises(Exception, match=r"may not audit\.read"):
        open_as("cas").audit_log(AuditFilter())


def test_periodic_checkpoint(kit: ConsentKit) -> None:
    with kit.store.write() as tx:
        for _ in range(CHECKPOINT_EVERY + 5):
            kit._audit(tx, AuditEvent("system.probe"))
    result = kit.verify_audit()
    assert result.ok and result.checkpoints == 1
    assert result.newest_checkpoint is not None and result.newest_checkpoint.size == CHECKPOINT_EVERY


def test_inclusion_proof_file_verifies_offline(kit: ConsentKit, tmp_path: Path) -> None:
    _populate(kit, 4)
    proof_text = kit.prove_inclusion(3)
    verifiers = [parse_verifier_key(k) for k in kit.public_keys()]
    proof = verify_proof(proof_text, verifiers)
    assert proof.index == 3
    assert b"\nsubject.added\n" in proof.entry or b"\nsubject.viewed\n" in proof.entry
    tampered = proof_text.replace(parse_proof(proof_text).note.splitlines()[1], "999", 1)
    with pytest.raises(AuditIntegrityError):
        verify_proof(tampered, verifiers)


def test_consistency_proof_between_checkpoints(kit: ConsentKit) -> None:
    _populate(kit, 2)
    first = kit.checkpoint()
    _populate(kit, 2)
    proof = kit.prove_consistency(first.size)
    assert proof.old_root == first.root and proof.new_size > first.size
    from consentkit.audit.merkle import verify_consistency

    assert verify_consistency(
        proof.old_size,
        proof.new_size,
        bytes.fromhex(proof.old_root),
        bytes.fromhex(proof.new_root),
        [bytes.fromhex(h) for h in proof.hashes],
    )


def test_export_verifies_offline_with_only_the_public_key(kit: ConsentKit, tmp_path: Path) -> None:
    ids = _populate(kit, 3)
    kit.erase_subject(ids[1])
    out = tmp_path / "audit.jsonl"
    count = kit.export_audit(out)
    lines = out.read_text().splitlines()
    verified = verify_export(lines, [parse_verifier_key(k) for k in kit.public_keys()])
    assert verified.report.size == count and verified.covered == count
    # Altering any entry in the file is caught offline.
    entry = json.loads(lines[3])
    entry["actor"] = "mallory"
    with pytest.raises(AuditIntegrityError) as caught:
        verify_export([*lines[:3], json.dumps(entry), *lines[4:]], [parse_verifier_key(k) for k in kit.public_keys()])
    assert caught.value.kind == "changed" and caught.value.seq == 2
    # The file's own keys prove nothing: a foreign key is refused.
    from consentkit.audit.checkpoint import NoteVerifier
    from consentkit.keys import KeyRing

    other = KeyRing.generate(kit.keys.origin)
    with pytest.raises(AuditIntegrityError) as unknown:
        verify_export(lines, [NoteVerifier.from_public_key(kit.keys.origin, other.signer.public_key)])
    assert unknown.value.kind == "unknown-key"


def test_fhir_export_is_minimal(kit: ConsentKit, tmp_path: Path) -> None:
    ids = _populate(kit, 1)
    kit.hold_subject(ids[0], reason="Secret Reason Text")
    out = tmp_path / "audit.fhir.json"
    kit.export_audit(out, fmt="fhir")
    raw = out.read_text()
    bundle = json.loads(raw)
    assert bundle["resourceType"] == "Bundle"
    events = [e["resource"] for e in bundle["entry"]]
    assert all(e["resourceType"] == "AuditEvent" for e in events)
    viewed = [e for e in events if e["outcomeDesc"].startswith("subject.viewed")]
    assert viewed[0]["action"] == "R" and viewed[0]["entity"][1]["what"]["reference"] == f"Patient/{ids[0]}"
    assert "Secret Reason Text" not in raw and "Klient" not in raw


def test_export_to_missing_folder_is_a_clear_error(kit: ConsentKit, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        kit.export_audit(tmp_path / "missing" / "audit.jsonl")


def test_read_only_database_gives_a_clear_error(kit: ConsentKit, db_url: str, keys_dir: Path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("a read-only connection is a SQLite notion here")
    database = db_url.removeprefix("sqlite:///")
    read_only = ConsentKit.open(f"sqlite:///file:{database}?mode=ro&uri=true", keys_dir, actor="ada")
    try:
        with pytest.raises(StorageError, match="read-only"):
            read_only.add_subject(jurisdiction="se", name="X Y", birth_date=date(1990, 1, 1))
    finally:
        read_only.close()
    assert kit.verify_audit().ok

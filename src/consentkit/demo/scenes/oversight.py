"""Friday: the DPO's review of overrides, an erasure (and one refused by a legal hold), the
audit verification, and a tampering attempt on a copy of the database that verify catches."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from consentkit.demo.scenes.steps import supervisor
from consentkit.demo.stage import Group, SceneResult, Stage
from consentkit.errors import OperationRefusedError
from consentkit.kit import ConsentKit

__all__ = ["DPO", "audit_verified", "erasure", "override_review", "tampering_caught"]

DPO = "dpo.anna"


def override_review(stage: Stage) -> SceneResult:
    """The DPO signs the morning checkpoint, then closes the review of the break-glass use."""
    stage.at(4, "09:00")
    kit = stage.as_(DPO)
    morning = kit.checkpoint()
    kept = stage.folder("audit") / "checkpoint-friday-morning.txt"
    kept.write_text(morning.note, encoding="utf-8")
    stage.wrote(kept, "the checkpoint the DPO kept on Friday morning (outside the database)", Group.AUDIT)
    stage.facts["morning_checkpoint"] = morning.note
    pending = kit.override_uses(pending_only=True)
    target = str(stage.facts["break_glass_disclosure"])
    details = kit.override_details(next(u for u in pending if u.disclosure_id == target))
    kit.review_override(target, outcome="justified", subject_informed=True)
    left = kit.override_uses(pending_only=True)
    return SceneResult(
        f"DPO · signs a checkpoint of the week so far ({morning.size} entries) and keeps it; of "
        f"{len(pending)} override uses the break-glass one is reviewed: justified, Dmitry informed; "
        f"{len(left)} still in the review queue",
        details=[f"checkpoint at size {morning.size}, root {morning.root[:16]}…, signed by key {morning.signer_kid}",
                 f"pending before: {', '.join(sorted(u.override_id for u in pending))}",
                 f"read the sealed justification of the break-glass use ({len(details['justification'] or '')} "
                 "characters; reading it is itself audited)",
                 f"still pending: {', '.join(sorted(u.override_id for u in left)) or 'none'}"],
        data={"pending_before": len(pending), "pending_after": len(left), "reviewed": target})


def erasure(stage: Stage) -> SceneResult:
    """Erlan asks to be erased: done by destroying his key. Timur's file is on hold: refused."""
    stage.at(4, "10:00")
    kit = stage.as_(supervisor("almaty"))
    erased = kit.erase_subject(stage.subjects["erlan"], ground="request")
    try:
        kit.erase_subject(stage.subjects["timur"], ground="request")
        held = "erased (the hold did not stop it)"
    except OperationRefusedError as error:
        held = f"refused: {error}"
    readable = "unreadable" if erased.personal is None else "STILL READABLE"
    return SceneResult(
        f"Almaty · Erlan asks to be erased: his data key destroyed, personal fields now {readable}; "
        f"erasing Timur {held.partition(':')[0]} (legal hold)",
        details=[f"Erlan erased at {erased.erased_at.isoformat() if erased.erased_at else '?'}; his audit "
                 "entries keep verifying (they hashed ciphertext)", f"Timur: {held}"],
        data={"erased": stage.subjects["erlan"], "personal_readable": erased.personal is not None,
              "hold": held})


def audit_verified(stage: Stage) -> SceneResult:
    """Verify the trail against the morning's checkpoint, sign the evening's, export for offline checks."""
    stage.at(4, "16:00")
    kit = stage.as_(DPO)
    result = kit.verify_audit(trusted_note=str(stage.facts["morning_checkpoint"]))
    stage.facts["verified_size"] = result.size
    folder = stage.folder("audit")
    evening = kit.checkpoint()
    note = folder / "checkpoint.txt"
    note.write_text(evening.note, encoding="utf-8")
    stage.wrote(note, "Friday evening's signed checkpoint", Group.AUDIT)
    keys = folder / "verifier-keys.txt"
    keys.write_text("\n".join(kit.public_keys()) + "\n", encoding="utf-8")
    stage.wrote(keys, "public verifier keys", Group.AUDIT)
    export = folder / "audit-export.jsonl"
    count = kit.export_audit(export)
    stage.wrote(export, f"audit export ({count} entries, verifiable offline)", Group.AUDIT)
    verdict = "intact" if result.ok else f"DAMAGED: {result.damage.message if result.damage else ''}"
    return SceneResult(
        f"Audit · trail verified: {verdict}; {result.size} entries, Merkle root {result.root[:16]}…, an "
        f"extension of the morning's checkpoint ({result.trusted_size} entries); {result.erased_subjects} erased "
        "subject(s) still verify",
        details=[f"root {result.root}", f"checkpoints: {result.checkpoints}; erased subjects: "
                 f"{result.erased_subjects} ({result.erased_events} sealed events now unreadable, as they should be)",
                 *result.notes],
        data={"ok": result.ok, "size": result.size, "root": result.root, "checkpoints": result.checkpoints,
              "trusted_size": result.trusted_size})


def tampering_caught(stage: Stage) -> SceneResult:
    """Someone turns the Athens police refusal into a permit in a copy of the database."""
    stage.at(4, "16:10")
    seq = int(stage.facts["refused_audit_id"])
    folder = stage.folder("tampered")
    copy = folder / "consentkit-tampered.db"
    # The backup API copies a consistent snapshot, write-ahead log included.
    with closing(sqlite3.connect(stage.root / "consentkit.db")) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        # The attack, on the copy only: rewrite history so the refused police request reads as permitted.
        target.execute("UPDATE ck_audit_events SET outcome = 'permit' WHERE seq = ?", (seq,))
        target.commit()
    stage.wrote(copy, "the tampered COPY of the database (verify it: exit 4)", Group.TAMPERING)
    tampered = ConsentKit.open(f"sqlite:///{copy}", stage.keys_dir, actor=DPO, clock=stage.clock)
    try:
        result = tampered.verify_audit()
    finally:
        tampered.close()
    damage = result.damage
    found = f"{damage.kind} at entry {damage.seq}: {damage.message}" if damage else "NOT DETECTED"
    return SceneResult(
        f"Tampering · entry {seq} (the refused police request) changed to 'permit' in a copy; "
        f"verify on the copy → {found.partition(':')[0]}",
        details=[f"verify on the tampered copy: {found}",
                 "the demo database itself is untouched and still verifies"],
        data={"edited_seq": seq, "detected": damage is not None, "kind": damage.kind if damage else None,
              "seq": damage.seq if damage else None, "message": damage.message if damage else None})

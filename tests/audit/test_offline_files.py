"""`audit verify FILE`: damaged export and proof files are integrity failures (exit 4) named by
line and kind, never quoting the damaged text; files that are not evidence at all exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from consentkit.audit.envelope import GENESIS_HASH, encode_entry, entry_hash
from consentkit.audit.verify import RawRow, scan_chain
from tests.cli_runner import Run


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init", "--role", "caseworker", "--role", "supervisor", "--role", "dpo").exit_code == 0
    subject = str(runner.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test",
                              "--birth-date", "1995-04-01")["subject_id"])
    for _ in range(4):
        assert runner("subject", "show", subject).exit_code == 0
    return runner


@pytest.fixture
def key(run: Run) -> str:
    return str(run.json("keys", "public")["verifier_keys"][0])


@pytest.fixture
def export(run: Run, tmp_path: Path) -> list[str]:
    """The export's lines: line 1 the header, line n+2 entry n, then the checkpoints."""
    out = tmp_path / "audit.jsonl"
    assert run("audit", "export", "--out", str(out)).exit_code == 0
    lines = out.read_text("utf-8").splitlines()
    assert json.loads(lines[3])["seq"] == 2 and "checkpoint" in json.loads(lines[-1])
    return lines


def _verify(run: Run, key: str, path: Path, *options: str) -> Result:
    return run("audit", "verify", str(path), "--public-key", key, *options)


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "evidence.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _assert_damaged_line(result: Result, line: int, damaged: str) -> None:
    assert result.exit_code == 4, result.output + result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("consentkit: "), result.stderr
    assert f"line {line} was damaged" in message[0]
    assert damaged not in result.stdout + result.stderr


def test_broken_json_line_is_damage(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    damaged = export[3][: len(export[3]) // 2]  # the line cut in half: no longer JSON
    result = _verify(run, key, _write(tmp_path, [*export[:3], damaged, *export[4:]]))
    _assert_damaged_line(result, 4, damaged)
    assert "entry 2" in result.stderr


def test_non_hex_entry_hash_is_damage(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    entry = json.loads(export[3])
    entry["entry_hash"] = entry["entry_hash"][:-1] + "g"
    result = _verify(run, key, _write(tmp_path, [*export[:3], json.dumps(entry), *export[4:]]))
    _assert_damaged_line(result, 4, entry["entry_hash"])


def test_string_seq_is_damage(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    entry = json.loads(export[4])
    entry["seq"] = str(entry["seq"])
    damaged = json.dumps(entry)
    result = _verify(run, key, _write(tmp_path, [*export[:4], damaged, *export[5:]]), "--json")
    _assert_damaged_line(result, 5, entry["entry_hash"])
    assert json.loads(result.stdout)["damage"] == {
        "kind": "malformed", "seq": 3, "line": 5,
        "message": "export line 5 was damaged: it is no longer a readable audit entry (entry 3 was expected there)"}


def test_damaged_header_and_checkpoint_lines(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    header = export[0].replace('"origin"', '"orig1n"')
    _assert_damaged_line(_verify(run, key, _write(tmp_path, [header, *export[1:]])), 1, "orig1n")
    note = json.loads(export[-1])["checkpoint"]
    damaged = json.dumps({"checkpoint": note.replace("\n\n", "\n")})
    _assert_damaged_line(_verify(run, key, _write(tmp_path, [*export[:-1], damaged])), len(export), note)


@pytest.mark.parametrize(("line", "edit"), [
    (1, lambda text: text.replace("tlog-proof@v1", "tlog-pr00f@v1", 1)),
    (3, lambda text: text.replace("\nindex 2\n", "\nindex 2Z\n", 1)),
    (2, lambda text: text.replace("\nextra ", "\nextra !", 1)),
])
def test_edited_proof_header_is_damage(run: Run, key: str, tmp_path: Path, line: int, edit) -> None:  # type: ignore[no-untyped-def]
    proof = tmp_path / "entry.tlog-proof"
    assert run("audit", "prove", "2", "--out", str(proof)).exit_code == 0
    original = proof.read_text("utf-8")
    proof.write_text(edit(original), "utf-8")
    assert proof.read_text("utf-8") != original
    result = _verify(run, key, proof)
    _assert_damaged_line(result, line, "pr00f")
    assert "2Z" not in result.stderr and "extra !" not in result.stderr
    assert "inclusion proof" in result.stderr


def test_swapped_lines_are_reordered(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    swapped = [*export[:3], export[4], export[3], *export[5:]]  # entries 2 and 3
    result = _verify(run, key, _write(tmp_path, swapped))
    assert result.exit_code == 4 and "reordered" in result.stderr and "entry 2 " in result.stderr, result.stderr
    damage = json.loads(_verify(run, key, _write(tmp_path, swapped), "--json").stdout)["damage"]
    assert (damage["kind"], damage["seq"]) == ("reordered", 2)


def test_one_deleted_line_reads_entry_is_missing(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    result = _verify(run, key, _write(tmp_path, [*export[:3], *export[4:]]))
    assert result.exit_code == 4 and "entry 2 is missing (deleted)" in result.stderr, result.stderr


def test_json_failure_carries_the_damage(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    entry = json.loads(export[4])
    entry["actor"] = "mallory"
    result = _verify(run, key, _write(tmp_path, [*export[:4], json.dumps(entry), *export[5:]]), "--json")
    assert result.exit_code == 4
    out = json.loads(result.stdout)
    assert out["ok"] is False and out["kind"] == "export"
    assert (out["damage"]["kind"], out["damage"]["seq"]) == ("changed", 3)
    assert "entry 3 was changed" in out["damage"]["message"]


def test_missing_empty_and_foreign_files_exit_1(run: Run, key: str, tmp_path: Path) -> None:
    missing = _verify(run, key, tmp_path / "nowhere.jsonl")
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = _verify(run, key, empty)
    assert result.exit_code == 1 and "is empty" in result.stderr
    foreign = tmp_path / "notes.txt"
    foreign.write_text("Anna Test, 1995-04-01\nsomething else\n")
    result = _verify(run, key, foreign, "--json")
    assert result.exit_code == 1 and "not a consentkit audit export" in result.stderr
    assert "Anna" not in result.stdout + result.stderr
    other_version = tmp_path / "v9.jsonl"
    other_version.write_text(json.dumps({"format": "consentkit-audit-export/9", "origin": "x"}) + "\n")
    assert _verify(run, key, other_version).exit_code == 1
    bad_key = run("audit", "verify", str(foreign), "--public-key", "not-a-key")
    assert bad_key.exit_code == 1


def test_non_utf8_bytes_in_a_line_are_damage(run: Run, key: str, export: list[str], tmp_path: Path) -> None:
    path = tmp_path / "evidence.jsonl"
    data = "\n".join(export).encode("utf-8").replace(b'"actor": "', b'"actor": "\xff', 1) + b"\n"
    path.write_bytes(data)
    _assert_damaged_line(_verify(run, key, path), 2, '"actor"')


def _chain(origin: str, count: int) -> list[RawRow]:
    rows: list[RawRow] = []
    prev = GENESIS_HASH
    for seq in range(count):
        fields = ("2026-03-02T10:00:00Z", "ada", "system.probe", None, None, "ok", "{}", None)
        digest = entry_hash(encode_entry(origin, seq, *fields, prev))
        rows.append((seq, *fields, prev, digest))
        prev = digest
    return rows


def test_a_swap_across_scan_batches_is_reordered() -> None:
    rows = _chain("example.org/log", 4100)
    assert scan_chain("example.org/log", rows).damage is None
    rows[4095], rows[4096] = rows[4096], rows[4095]  # the first batch holds 4096 rows
    damage = scan_chain("example.org/log", rows).damage
    assert damage is not None and (damage.kind, damage.seq) == ("reordered", 4095)


def _appended(lines: list[str]) -> list[str]:
    """``lines`` with one forged entry chained onto the last one, placed before the checkpoints."""
    origin = json.loads(lines[0])["origin"]
    entries = [i for i, line in enumerate(lines) if "entry_hash" in json.loads(line)]
    last = json.loads(lines[entries[-1]])
    forged = {**last, "seq": last["seq"] + 1, "actor": "mallory", "action": "subject.erased",
              "prev_hash": last["entry_hash"]}
    fields = [forged[name] for name in ("ts", "actor", "action", "subject_id", "object_ref", "outcome", "details",
                                        "sealed")]
    forged["entry_hash"] = entry_hash(encode_entry(origin, forged["seq"], *fields,
                                                   bytes.fromhex(forged["prev_hash"]))).hex()
    at = entries[-1] + 1
    return [*lines[:at], json.dumps(forged), *lines[at:]]


def test_entries_past_the_newest_checkpoint_are_not_verified(run: Run, key: str, tmp_path: Path) -> None:
    """An export is signed up to its last entry: a correctly chained entry added afterwards, or the
    removal of the last checkpoint, leaves entries no signature covers, which is an integrity failure."""
    assert run("audit", "checkpoint").exit_code == 0  # an earlier checkpoint, so one remains when the last goes
    for _ in range(2):
        assert run("audit", "log").exit_code == 0  # each read is audited: entries past that checkpoint
    out = tmp_path / "audit.jsonl"
    assert run("audit", "export", "--out", str(out)).exit_code == 0
    lines = out.read_text("utf-8").splitlines()
    assert _verify(run, key, out).exit_code == 0
    without_last = _verify(run, key, _write(tmp_path, lines[:-1]))
    assert without_last.exit_code == 4 and "covered by no signed checkpoint" in without_last.stderr
    forged = _verify(run, key, _write(tmp_path, _appended(lines[:-1])))
    assert forged.exit_code == 4 and "covered by no signed checkpoint" in forged.stderr
    data = json.loads(_verify(run, key, _write(tmp_path, _appended(lines)), "--json").stdout)
    assert data["damage"]["kind"] in ("inserted", "changed") and not data["ok"]


# -- `audit verify FILE --trusted CHECKPOINT`: the export must extend the auditor's checkpoint --


def _kept_checkpoint(run: Run, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    assert run("audit", "checkpoint", "--out", str(out)).exit_code == 0
    return out


def test_an_export_that_extends_the_kept_checkpoint_verifies(run: Run, key: str, tmp_path: Path) -> None:
    kept = _kept_checkpoint(run, tmp_path, "kept.txt")
    size = int(kept.read_text("utf-8").splitlines()[1])
    assert run("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Bo Test",
               "--birth-date", "1990-01-01").exit_code == 0
    later = tmp_path / "later.jsonl"
    assert run("audit", "export", "--out", str(later)).exit_code == 0
    result = _verify(run, key, later, "--trusted", str(kept), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["trusted_size"] == size and report["entries"] > size
    human = _verify(run, key, later, "--trusted", str(kept))
    assert f"consistent with your trusted checkpoint at size {size}" in human.stdout


def test_an_export_cut_short_of_the_kept_checkpoint_is_truncated(run: Run, key: str, export: list[str],
                                                                  tmp_path: Path) -> None:
    # The export verifies on its own (its checkpoints are genuine), but the auditor has since kept
    # a checkpoint of a longer log: the export no longer shows everything that was logged.
    older = _write(tmp_path, export)
    assert _verify(run, key, older).exit_code == 0
    kept = _kept_checkpoint(run, tmp_path, "kept.txt")
    result = _verify(run, key, older, "--trusted", str(kept), "--json")
    assert result.exit_code == 4, result.stderr
    damage = json.loads(result.stdout)["damage"]
    assert damage["kind"] == "truncated" and damage["seq"] == sum(1 for line in export if "entry_hash" in line)
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_export_of_a_rewritten_log_is_caught_with_the_kept_checkpoint(db_url: str, keys_dir: Path, run: Run,
                                                                         key: str, tmp_path: Path) -> None:
    kept = _kept_checkpoint(run, tmp_path, "kept.txt")
    # Another log under the same keys (what a rewrite re-signed with the log's own key looks like).
    other = Run(f"sqlite:///{tmp_path / 'rewritten.db'}", keys_dir)
    assert other("init", "--role", "caseworker", "--role", "dpo").exit_code == 0
    for _ in range(12):
        assert other("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Bo Test",
                     "--birth-date", "1990-01-01").exit_code == 0
    rewritten = tmp_path / "rewritten.jsonl"
    assert other("audit", "export", "--out", str(rewritten)).exit_code == 0
    assert _verify(run, key, rewritten).exit_code == 0  # every checkpoint in it is genuine
    result = _verify(run, key, rewritten, "--trusted", str(kept), "--json")
    assert result.exit_code == 4, result.stderr
    assert json.loads(result.stdout)["damage"]["kind"] == "re-signed"


def test_a_kept_checkpoint_that_is_not_one_is_a_usage_error(run: Run, key: str, export: list[str],
                                                            tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not a checkpoint\n", "utf-8")
    for target in ([], [str(_write(tmp_path, export))]):
        result = run("audit", "verify", *target, "--public-key", key, "--trusted", str(garbage))
        assert result.exit_code == 1
        assert result.stderr.startswith(f"consentkit: error: --trusted {garbage}: not a signed checkpoint")
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_proof_file_with_a_kept_checkpoint_is_a_usage_error(run: Run, key: str, tmp_path: Path) -> None:
    proof = tmp_path / "proof.txt"
    assert run("audit", "prove", "1", "--out", str(proof)).exit_code == 0
    kept = _kept_checkpoint(run, tmp_path, "kept.txt")
    result = _verify(run, key, proof, "--trusted", str(kept))
    assert result.exit_code == 1 and "--trusted: an inclusion proof" in result.stderr


def test_a_public_key_file_that_is_not_there_is_named(run: Run, export: list[str], tmp_path: Path) -> None:
    result = run("audit", "verify", str(_write(tmp_path, export)), "--public-key", str(tmp_path / "nope.pub"))
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"consentkit: error: --public-key {tmp_path / 'nope.pub'}: no such file (give a "
                                     "signing-*.pub file or a verifier key from `consentkit keys public`)")


def test_a_bare_signing_key_file_verifies_an_export_and_a_proof(run: Run, export: list[str], tmp_path: Path,
                                                               keys_dir: Path) -> None:
    # An auditor given only signing-<kid>.pub (no keyring.json beside it) takes the log's name
    # from the file: the key id and the signature bind that name, so another name finds no key.
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    (pub,) = keys_dir.glob("signing-*.pub")
    bare = auditor / pub.name
    bare.write_bytes(pub.read_bytes())
    path = _write(tmp_path, export)
    assert run("audit", "verify", str(path), "--public-key", str(bare)).exit_code == 0
    proof = tmp_path / "entry.tlog-proof"
    assert run("audit", "prove", "2", "--out", str(proof)).exit_code == 0
    assert run("audit", "verify", str(proof), "--public-key", str(bare)).exit_code == 0
    header = json.loads(export[0])
    renamed = _write(tmp_path, [json.dumps({**header, "origin": "another.example/log"}), *export[1:]])
    assert run("audit", "verify", str(renamed), "--public-key", str(bare)).exit_code == 4

"""``consentkit demo``: the week is played in a real process once per module, then checked by
what it printed and wrote: every scene narrated, the artefacts there and linked, the demo
database verifying, the tampered copy failing with the damage named, and the folder rules
(a foreign non-empty folder is refused; a previous demo is replaced, atomically)."""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from consentkit.cli import cli
from consentkit.demo.cast import CLIENTS, FREE_TEXT, NOTES
from consentkit.demo.scenes import SCENES
from consentkit.kit import ConsentKit

pytestmark = pytest.mark.slow

CLI_MAIN = "from consentkit.cli import main; main()"

#: A word each scene's narrative line must contain: proof the scene told its story.
TOLD = {
    "setup": "fresh database and keys",
    "athens-minor": "his mother's consent",
    "athens-first-arrest": "first arrest",
    "ostersund-asi": "ASI interview",
    "athens-refused": "the police ask",
    "ostersund-sip": "SIP",
    "novgorod-consent": "152-FZ",
    "ostersund-child-welfare": "orosanmälan",
    "novgorod-break-glass": "break-glass",
    "almaty-parent": "his mother calls",
    "ostersund-withdrawal": "withdraws the SIP consent",
    "almaty-investigator": "investigator",
    "dpo-review": "reviewed",
    "erasure": "erased",
    "redaction": "case notes",
    "research-export": "groups under k=5",
    "reports": "records of processing",
    "audit-verify": "trail verified",
    "tampering": "verify on the copy",
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CONSENTKIT_")}


def _run_demo(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CLI_MAIN, *extra, "demo", "--out", str(out)],
                          capture_output=True, text=True, env=_env(), timeout=300, check=False)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    """The demo played once into a new folder: (folder, what it printed, demo.json)."""
    out = tmp_path_factory.mktemp("demo") / "consentkit-demo"
    result = _run_demo(out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return out, result.stdout, json.loads((out / "demo.json").read_text("utf-8"))


def _scene(summary: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in summary["scenes"] if s["scene"] == key)


def _open(db: Path, keys: Path) -> ConsentKit:
    return ConsentKit.open(f"sqlite:///{db}", keys, actor="dpo.anna")


def test_every_scene_is_narrated_in_order(played: tuple[Path, str, dict[str, Any]]) -> None:
    _, stdout, summary = played
    lines = [line for line in stdout.splitlines() if line.startswith("[")]
    assert len(lines) == len(SCENES) == len(TOLD)
    for number, (line, scene) in enumerate(zip(lines, SCENES, strict=True), 1):
        assert line.startswith(f"[{number:2}/{len(SCENES)}] "), line
        assert TOLD[scene.key] in line, (scene.key, line)
    assert [s["scene"] for s in summary["scenes"]] == [s.key for s in SCENES]
    assert re.search(r"^done in \d+\.\d s: 19 scenes", stdout, re.MULTILINE), stdout
    assert f"open {played[0] / 'index.html'}" in stdout


def test_narrative_never_prints_full_names_or_national_ids(played: tuple[Path, str, dict[str, Any]]) -> None:
    _, stdout, _ = played
    for client in CLIENTS.values():
        assert client.name not in stdout
        for relative in client.relatives:
            assert relative not in stdout
        if client.national_id:
            assert client.national_id not in stdout


def test_no_personal_data_or_free_text_in_clear_in_the_database(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, _ = played
    planted = [*FREE_TEXT.values()]
    for client in CLIENTS.values():
        planted += [client.name, *client.relatives, *client.aliases]
        planted += [client.national_id] if client.national_id else []
    stores = [out / "consentkit.db", out / "tampered" / "consentkit-tampered.db", out / "audit" / "audit-export.jsonl",
              out / "demo.json"]
    for path in stores:
        content = path.read_bytes()
        for text in planted:
            assert text.encode() not in content, (path.name, text)


def test_the_law_of_each_jurisdiction_shows(played: tuple[Path, str, dict[str, Any]]) -> None:
    _, _, summary = played
    minor = _scene(summary, "athens-minor")["data"]
    assert minor["own_signature"].startswith("refused") and "okana-minor-guardian" in minor["own_signature"]
    assert minor["decision"]["decision"] == "permit"
    phone = _scene(summary, "novgorod-consent")["data"]["by_phone"]
    assert phone.startswith("refused") and "152-FZ art. 10(2)(1)" in phone
    welfare = _scene(summary, "ostersund-child-welfare")["data"]["decision"]
    assert welfare["basis"]["override"] == "child-welfare-report" and welfare["mandatory"] is True
    assert "family" in welfare["permitted_categories"]  # despite Linnea's refusal
    withdrawn = _scene(summary, "ostersund-withdrawal")["data"]
    assert withdrawn["decision"]["decision"] == "deny"
    assert set(withdrawn["decision"]["denied"].values()) == {"withdrawn"}
    assert withdrawn["receipt"].startswith("valid, but withdrawn on")
    assert [r["recipient_id"] for r in withdrawn["recipients_to_tell"]] == ["region-jamtland-harjedalen"]
    police = _scene(summary, "athens-refused")["data"]
    assert police["decision"]["decision"] == "deny" and police["outward"] == '{"authorised":false}'
    parent = _scene(summary, "almaty-parent")["data"]
    assert parent["decision"]["decision"] == "deny" and parent["same_as_stranger"] is True
    investigator = _scene(summary, "almaty-investigator")["data"]["decision"]
    assert investigator["basis"]["override"] == "investigator-request"
    assert investigator["denied"] == {"contact": "override-minimum"}
    glass = _scene(summary, "novgorod-break-glass")["data"]["decision"]
    assert glass["basis"]["override"] == "incapacitated-patient"
    review = _scene(summary, "dpo-review")["data"]
    assert review["pending_after"] == review["pending_before"] - 1
    erasure = _scene(summary, "erasure")["data"]
    assert erasure["personal_readable"] is False and erasure["hold"].startswith("refused")


def test_index_links_every_artefact_and_they_exist(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, summary = played
    page = (out / "index.html").read_text("utf-8")
    links = set(re.findall(r'href="([^"]+)"', page))
    for artefact in summary["artefacts"]:
        assert artefact["path"] in links
    for link in links:
        assert (out / link).is_file(), link
    for scene in SCENES:
        assert TOLD[scene.key] in html.unescape(page)
    present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(summary["files"]) == present - {"consentkit.db-wal", "consentkit.db-shm"}
    receipts = [a["path"] for a in summary["artefacts"] if a["path"].endswith(".jwt")]
    assert len(receipts) == 5
    with _open(out / "consentkit.db", out / "keys") as kit:
        for path in receipts:
            assert kit.verify_receipt((out / path).read_text("utf-8").strip()).receipt_id


def test_the_demo_database_verifies(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, summary = played
    verified = _scene(summary, "audit-verify")["data"]
    assert verified["ok"] is True and 0 < verified["trusted_size"] < verified["size"]
    with _open(out / "consentkit.db", out / "keys") as kit:
        result = kit.verify_audit(trusted_note=(out / "audit" / "checkpoint.txt").read_text("utf-8"))
    assert result.ok, result.damage
    assert result.size >= _scene(summary, "audit-verify")["data"]["size"]
    assert result.erased_subjects == 1


def test_the_tampered_copy_fails_naming_the_damage(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, summary = played
    tamper = _scene(summary, "tampering")["data"]
    assert tamper["detected"] is True and tamper["kind"] == "changed"
    assert tamper["seq"] == tamper["edited_seq"] == _scene(summary, "athens-refused")["data"]["decision"]["audit_id"]
    copy = out / "tampered" / "consentkit-tampered.db"
    with _open(copy, out / "keys") as kit:
        damage = kit.verify_audit().damage
    assert damage is not None and (damage.kind, damage.seq) == ("changed", tamper["edited_seq"])
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{copy}", "--keys", str(out / "keys"),
                                      "--actor", "dpo.anna", "audit", "verify"])
    assert result.exit_code == 4
    assert f"entry {tamper['edited_seq']} was changed" in result.stderr


def test_a_foreign_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("not the demo's", "utf-8")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "is not empty and is not a previous consentkit demo" in result.stderr
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    target.write_text("x", "utf-8")
    result = CliRunner().invoke(cli, ["demo", "--out", str(target)])
    assert result.exit_code == 1 and "is a file" in result.stderr


def test_a_previous_demo_with_extra_files_is_refused(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, _ = played
    extra = out / "receipts" / "my-notes.txt"
    extra.write_text("mine", "utf-8")
    try:
        result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
        assert result.exit_code == 1
        assert "1 file(s) the demo did not write (e.g. receipts/my-notes.txt)" in result.stderr
    finally:
        extra.unlink()


def test_a_second_run_replaces_the_previous_demo(tmp_path: Path) -> None:
    out = tmp_path / "consentkit-demo"
    first = _run_demo(out)
    assert first.returncode == 0, first.stderr
    old_keys = (out / "keys" / "keyring.json").read_text("utf-8")
    second = _run_demo(out, "--json")
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["replaced_previous"] is True and summary["consentkit_demo"] == 1
    assert [s["scene"] for s in summary["scenes"]] == [s.key for s in SCENES]
    assert "[ 1/" not in second.stdout  # --json prints the summary only
    assert (out / "keys" / "keyring.json").read_text("utf-8") != old_keys  # fresh keys, fresh database
    assert sorted(p.name for p in tmp_path.iterdir()) == ["consentkit-demo"]  # no build or old folder left
    with _open(out / "consentkit.db", out / "keys") as kit:
        assert kit.verify_audit().ok


def test_case_notes_leave_redacted(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, _ = played
    redacted = json.loads((out / "notes" / "redacted-notes.json").read_text("utf-8"))
    assert [r["lang"] for r in redacted] == [n.lang for n in NOTES]
    page = html.unescape((out / "notes" / "redacted-notes.html").read_text("utf-8"))
    for note, row in zip(NOTES, redacted, strict=True):
        client = CLIENTS[note.client]
        for name in note.known_names:
            assert name not in row["text"] and name not in page
        if client.national_id:
            assert client.national_id not in row["text"]
        assert "PERSON" in row["entities"] and "PHONE_NUMBER" in row["entities"]
    expected_ids = {"el": "GR_AMKA", "sv": "SE_PERSONNUMMER", "ru": "RU_SNILS", "kk": "KZ_IIN", "en": "EMAIL_ADDRESS"}
    for row in redacted:
        assert expected_ids[row["lang"]] in row["entities"]


def test_the_research_export_is_pseudonymised_and_k_anonymous(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, summary = played
    data = _scene(summary, "research-export")["data"]
    assert data["first"]["written"] is False and data["first"]["groups_under_k"] > 0
    second = data["second"]
    assert second["written"] is True and second["k_reached"] >= second["k"] == 5
    with (out / "export" / "novgorod-evaluation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == second["rows"] == second["rows_read"] - second["suppressed"]
    assert set(rows[0]) == {"case_number", "sex", "district", "substance", "contacts", "outcome", "age"}
    assert not any(r["case_number"].startswith("NOV-") for r in rows)
    assert len({r["case_number"] for r in rows}) == len(rows)
    groups = Counter((r["age"], r["sex"], r["district"]) for r in rows)
    assert min(groups.values()) >= 5


def test_the_reports_answer_for_the_week(played: tuple[Path, str, dict[str, Any]]) -> None:
    out, _, summary = played
    data = _scene(summary, "reports")["data"]
    folder = out / "reports"
    linnea = html.unescape((folder / "subject-access-linnea.html").read_text("utf-8"))
    assert CLIENTS["linnea"].name in linnea and 'lang="sv"' in linnea
    assert "region-jamtland-harjedalen" in linnea  # the SIP disclosure is accounted for
    assert "ostersund-barn-och-familj" not in linnea  # the child-welfare report is restricted (OSL 26:5)
    dmitry = html.unescape((folder / "subject-access-dmitry.html").read_text("utf-8"))
    assert CLIENTS["dmitry"].name in dmitry and "novgorod-ambulance" in dmitry  # the break-glass use is shown
    assert data["due"]["dmitry"] < data["due"]["linnea"]  # 10 working days (152-FZ) vs one month (GDPR)
    erlan = html.unescape((folder / "subject-access-erlan.html").read_text("utf-8"))
    assert data["subjects"]["erlan"] in erlan
    assert CLIENTS["erlan"].name not in erlan and (CLIENTS["erlan"].national_id or "-") not in erlan
    dpo = html.unescape((folder / "dpo-week.html").read_text("utf-8"))
    for override in ("child-welfare-report", "incapacitated-patient", "investigator-request"):
        assert override in dpo
    assert data["dpo_integrity_ok"] is True
    ropa = html.unescape((folder / "records-of-processing.html").read_text("utf-8"))
    assert "Art. 30" in ropa and data["activities"] >= 1


def test_the_case_notes_cover_five_languages() -> None:
    assert sorted(n.lang for n in NOTES) == ["el", "en", "kk", "ru", "sv"]
    for note in NOTES:
        for name in note.known_names:
            assert name.split()[0] in note.text

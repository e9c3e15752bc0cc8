"""The CLI through click's runner: every foundation command, its JSON and its exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from consentkit.cli import cli
from tests.cli_runner import Run


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    result = runner("init", "--role", "caseworker")
    assert result.exit_code == 0, result.output
    return runner


def _add(run: Run, actor: str = "ada") -> str:
    out = run.json("subject", "add", "--jurisdiction", "gr", "--name", "Γιώργος Παπαδόπουλος",
                   "--birth-date", "2009-11-03", "--national-id", "03110904970", actor=actor)
    return str(out["subject_id"])


def test_init_creates_private_keys_and_is_idempotent(run: Run, keys_dir: Path) -> None:
    assert (keys_dir / "keyring.json").exists()
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in keys_dir.glob("*.key"))
    again = run.json("init")
    assert again["keys_created"] is False and "admin" in again["roles"]


def test_subject_round_trip_json(run: Run) -> None:
    subject_id = _add(run)
    shown = run.json("subject", "show", subject_id)
    assert shown["name"] == "Γιώργος Παπαδόπουλος"
    assert shown["birth_date"] == "2009-11-03" and shown["language"] == "el"
    listed = run.json("subject", "list")
    assert [row["subject_id"] for row in listed] == [subject_id]
    found = run.json("subject", "find", "--national-id", "031109 04970")
    assert found["subject_ids"] == [subject_id]


def test_global_options_work_before_the_subcommand(run: Run) -> None:
    result = run.runner.invoke(cli, [*run.base, "--actor", "ada", "--json", "subject", "list"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_human_output_of_show_and_erase(run: Run) -> None:
    subject_id = _add(run)
    shown = run("subject", "show", subject_id)
    assert "Γιώργος Παπαδόπουλος" in shown.output and "active" in shown.output
    erased = run("subject", "erase", subject_id, "--yes")
    assert erased.exit_code == 0 and "erased on" in erased.output
    after = run.json("subject", "show", subject_id)
    assert after["status"] == "erased" and after["name"] is None and after["erased_at"]


def test_erase_asks_and_no_answer_is_no(run: Run) -> None:
    """Without --yes, erase asks even when stdin is not a terminal: "n" or nothing erases no one."""
    from consentkit.cli import cli

    subject_id = _add(run)
    for answer in ("n\n", ""):
        kept = run.runner.invoke(cli, [*run.base, "--actor", "ada", "subject", "erase", subject_id], input=answer)
        assert kept.exit_code == 1 and "not erased: answer y" in kept.stderr
        assert run.json("subject", "show", subject_id)["status"] == "active"
    erased = run.runner.invoke(cli, [*run.base, "--actor", "ada", "subject", "erase", subject_id], input="y\n")
    assert erased.exit_code == 0 and run.json("subject", "show", subject_id)["status"] == "erased"


def test_erase_under_hold_is_refused(run: Run) -> None:
    subject_id = _add(run)
    assert run("subject", "hold", subject_id, "--reason", "investigation").exit_code == 0
    refused = run("subject", "erase", subject_id, "--yes")
    assert refused.exit_code == 1
    assert refused.stderr.strip().startswith("consentkit: error: erasure refused")
    assert len(refused.stderr.strip().splitlines()) == 1
    assert run("subject", "release", subject_id).exit_code == 0
    assert run("subject", "erase", subject_id, "--yes").exit_code == 0


def test_caseworker_refused_dpo_operation(run: Run) -> None:
    assert run("actor", "add", "--id", "cas", "--role", "caseworker").exit_code == 0
    subject_id = _add(run, actor="cas")
    refused = run("subject", "erase", subject_id, "--yes", actor="cas")
    assert refused.exit_code == 1 and "may not subject.erase" in refused.stderr
    refused_json = run.json("actor", "add", "--id", "x", "--role", "admin", actor="cas", code=1)
    assert refused_json["error"]["kind"] == "PermissionDeniedError"


def test_actor_list(run: Run) -> None:
    run("actor", "add", "--id", "dora", "--role", "dpo", "--role", "supervisor")
    rows = run.json("actor", "list")
    assert {"actor": "dora", "roles": ["dpo", "supervisor"]} in rows


@pytest.mark.parametrize("bad", ["03/11/2009", "2009-13-01", "2009-02-30", "yesterday"])
def test_malformed_dates_give_one_line_error(run: Run, bad: str) -> None:
    result = run("subject", "add", "--jurisdiction", "gr", "--name", "X Y", "--birth-date", bad)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "--birth-date" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_unknown_subject_and_malformed_id(run: Run) -> None:
    missing = run("subject", "show", "3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b")
    assert missing.exit_code == 1 and "no subject" in missing.stderr
    malformed = run("subject", "show", "12345")
    assert malformed.exit_code == 1 and "UUID" in malformed.stderr


def test_usage_error_exits_2(run: Run) -> None:
    assert run("subject", "add", "--name", "X").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_world_readable_key_refused_on_the_cli(run: Run, keys_dir: Path) -> None:
    key = next(keys_dir.glob("master-*.key"))
    os.chmod(key, 0o644)
    result = run("subject", "list")
    assert result.exit_code == 1 and "chmod 600" in result.stderr


def test_corrupt_key_refused_on_the_cli(run: Run, keys_dir: Path) -> None:
    next(keys_dir.glob("master-*.key")).write_text("garbage\n")
    result = run("subject", "list")
    assert result.exit_code == 1 and "corrupt" in result.stderr and "garbage" not in result.stderr


def test_not_initialised(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "--keys",
                                      str(tmp_path / "k"), "subject", "list"])
    assert result.exit_code == 1 and "consentkit init" in result.stderr


def test_keys_rotate_is_admin_only(run: Run) -> None:
    run("actor", "add", "--id", "cas", "--role", "caseworker")
    assert run("keys", "rotate", actor="cas").exit_code == 1
    rotated = run.json("keys", "rotate", "--kind", "master")
    assert set(rotated) >= {"master", "signing", "pseudonym", "rewrapped"}


def test_usage_errors_are_one_line_too(run: Run) -> None:
    """DESIGN.md: exit 2 for usage; like every error, one line on stderr, and with --json an error object."""
    missing = run("subject", "add", "--jurisdiction", "se")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert missing.stderr.strip().splitlines() == [
        "consentkit: error: Missing option '--name'. (see `cli subject add --help`)"]
    unknown = run.json("subject", "nope", code=2)
    assert unknown["error"]["kind"] == "UsageError" and "No such command 'nope'" in unknown["error"]["message"]
    assert run("subject", "add", "--help").exit_code == 0


def test_removing_a_role_the_actor_does_not_have_is_an_error(run: Run) -> None:
    assert run("actor", "add", "--id", "cas", "--role", "caseworker").exit_code == 0
    missing = run("actor", "remove-role", "--id", "nobody", "--role", "dpo")
    assert missing.exit_code == 1 and "actor nobody does not have the role dpo" in missing.stderr
    assert run("actor", "remove-role", "--id", "cas", "--role", "dpo").exit_code == 1
    assert run("actor", "remove-role", "--id", "cas", "--role", "caseworker").exit_code == 0


def test_show_includes_other_names(run: Run) -> None:
    subject_id = str(run.json("subject", "add", "--jurisdiction", "se", "--name", "Karin Lind", "--birth-date",
                              "1990-02-03", "--other-name", "Kajsa Lind", "--other-name", "K. Lindh")["subject_id"])
    assert run.json("subject", "show", subject_id)["other_names"] == ["Kajsa Lind", "K. Lindh"]
    assert "other names      Kajsa Lind, K. Lindh" in run("subject", "show", subject_id).stdout



def test_free_text_is_checked_where_it_is_typed(run: Run) -> None:
    """Empty optional fields, direction overrides and oversized or control-character reasons are refused."""
    base = ("subject", "add", "--jurisdiction", "se", "--name", "Karin Lind", "--birth-date", "1990-02-03")
    for extra, message in ((("--contact", ""), "--contact: must not be empty"),
                           (("--other-name", " "), "--other-name: must not be empty"),
                           (("--other-name", "Kar\u202ein"), "no direction or control characters")):
        refused = run(*base, *extra)
        assert refused.exit_code == 1 and message in refused.stderr and "Karin" not in refused.stderr
    assert run.json("subject", "list") == []
    subject_id = str(run.json(*base)["subject_id"])
    for reason in ("x" * 2001, "x\ay"):
        held = run("subject", "hold", subject_id, "--reason", reason)
        assert held.exit_code == 1 and "--reason: at most 2000 characters, no control characters" in held.stderr
    assert run("subject", "hold", subject_id, "--reason", "court case B 1234-26\nsecond line").exit_code == 0
    nobody = run("subject", "find", "--national-id", "8507092388")
    assert nobody.exit_code == 1 and nobody.stderr == "consentkit: error: no client with this national ID\n"
    unknown = run("subject", "find", "--national-id", "8507092388", "--jurisdiction", "zz")
    assert unknown.exit_code == 1 and "zz" in unknown.stderr and "se" in unknown.stderr
    assert run("sar", "list", "--subject", "not-a-uuid").exit_code == 1
    assert run("sar", "open", subject_id, "--received", "").exit_code == 1


def test_granting_roles_logs_only_what_changed_and_the_log_names_the_actor(run: Run) -> None:
    assert run("actor", "add", "--id", "maria", "--role", "caseworker", "--role", "supervisor",
               "--role", "caseworker").exit_code == 0
    assert run("actor", "add", "--id", "maria", "--role", "caseworker").exit_code == 0  # held already: no event
    events = run.json("audit", "log", "--action", "actor.roles-granted")
    granted = [e for e in events if e["object_ref"] == "actor:maria"]
    assert [e["details"]["roles"] for e in granted] == [["caseworker", "supervisor"]]
    assert "actor:maria" in run("audit", "log", "--action", "actor.roles-granted").stdout
    assert run("actor", "remove-role", "--id", "maria", "--role", "caseworker").exit_code == 0
    assert run("actor", "remove-role", "--id", "maria", "--role", "supervisor").exit_code == 0
    assert "maria: (no roles)" in run("actor", "list").stdout


def test_version_says_how_the_audit_trail_is_hashed() -> None:
    from consentkit.audit.merkle import C_CORE

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("consentkit 0.1.0; audit hashing: ")
    assert ("the C core" in result.output) is C_CORE

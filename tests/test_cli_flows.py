"""The consent, check, policy, override and audit commands through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentkit.cli import cli
from tests.cli_runner import Run


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init", "--role", "caseworker", "--role", "supervisor", "--role", "dpo").exit_code == 0
    return runner


def _client(run: Run) -> str:
    return str(run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test",
                        "--birth-date", "1995-04-01")["subject_id"])


def test_grant_check_withdraw_check(run: Run) -> None:
    subject = _client(run)
    granted = run.json("consent", "grant", "--subject", subject, "--recipient", "treatment-provider",
                       "--purpose", "treatment", "--category", "identity,substance-use", "--notice-version", "v1")
    assert granted["status"] == "active"
    permit = run.json("check", "--subject", subject, "--recipient", "treatment-provider:okana",
                      "--purpose", "treatment", "--category", "identity", "--category", "substance-use")
    assert permit["decision"] == "permit" and permit["basis"]["consent_ids"] == [granted["consent_id"]]
    assert set(permit) >= {"decision", "permitted_categories", "denied", "basis", "obligations", "pack", "audit_id"}
    assert permit["pack"] == "eu-gdpr" and permit["pack_ref"] == f"eu-gdpr@{permit['pack_version']}"
    assert permit["pack_hash"].startswith("sha256:")
    withdrawn = run.json("consent", "withdraw", granted["consent_id"], "--reason", "changed mind")
    assert withdrawn["recipients_to_tell"][0]["recipient_id"] == "okana"
    deny = run.json("check", "--subject", subject, "--recipient", "treatment-provider", "--purpose", "treatment",
                    "--category", "identity", code=3)
    assert deny["decision"] == "deny" and deny["denied"] == {"identity": "withdrawn"}
    swedish = run.json("check", "--subject", subject, "--recipient", "treatment-provider", "--purpose",
                       "treatment", "--category", "identity", "--lang", "sv", code=3)
    assert swedish["reasons"]["identity"] == "samtycket som omfattade detta har återkallats"
    history = run.json("consent", "history", granted["consent_id"])
    assert [h["kind"] for h in history] == ["granted", "withdrawn"]


def test_check_explain_and_partial_exit_code(run: Run) -> None:
    subject = _client(run)
    run("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
        "--category", "identity", "--notice-version", "v1")
    result = run("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity,health", "--explain")
    assert result.exit_code == 3
    assert "PARTIAL" in result.output and "evaluation:" in result.output and "out-of-scope" in result.output


def test_consent_refused_lists_what_is_missing(run: Run) -> None:
    subject = _client(run)
    result = run("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity", "--form", "verbal")
    assert result.exit_code == 1
    assert "witness: a verbal consent needs a witness (--witness NAME)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_override_review_flow(run: Run) -> None:
    subject = _client(run)
    run("actor", "add", "--id", "sam", "--role", "supervisor")
    used = run.json("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "emergency-care",
                    "--category", "identity", "--override", "vital-interests",
                    "--justification", "collapsed in the waiting room", actor="sam")
    assert used["basis"]["override"] == "vital-interests" and used["review_by"]
    pending = run.json("override", "list")
    assert [p["disclosure_id"] for p in pending] == [used["disclosure_id"]]
    shown = run.json("override", "show", used["disclosure_id"])
    assert shown["justification"] == "collapsed in the waiting room"
    assert run("override", "review", used["disclosure_id"], "--outcome", "justified").exit_code == 0
    assert run.json("override", "list") == []
    # A review is final: another outcome is refused; telling the client afterwards can still be recorded.
    again = run("override", "review", used["disclosure_id"], "--outcome", "unjustified")
    assert again.exit_code == 1 and "already reviewed (justified" in again.stderr
    assert run("override", "review", used["disclosure_id"], "--outcome", "justified",
               "--subject-informed").exit_code == 0
    [use] = run.json("override", "list", "--all")
    assert use["review_outcome"] == "justified" and use["subject_informed_at"]
    assert run("override", "review", used["disclosure_id"], "--outcome", "justified",
               "--subject-informed").exit_code == 1  # once
    actions = [e["action"] for e in run.json("audit", "log", "--action", "override.subject-informed")]
    assert actions == ["override.subject-informed"]
    listed = run.json("disclosure", "list", "--subject", subject)
    assert listed[0]["override_id"] == "vital-interests"


def test_policy_commands(run: Run, tmp_path: Path) -> None:
    packs = run.json("policy", "list")
    assert "eu-gdpr" in [p["id"] for p in packs]
    shown = run.json("policy", "show", "eu-gdpr")
    assert shown["hash"].startswith("sha256:") and "vital-interests" in shown["overrides"]
    assert run("policy", "validate").exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: '1'\nname: Bad\nextends: eu-gdpr\noverrides:\n  x:\n    title: {en: X}\n"
                   "    citation: none given\n    verified: maybe\n")
    result = run("policy", "validate", str(bad))
    assert result.exit_code == 1 and "line 9" in result.stderr and "overrides.x.verified" in result.stderr
    diff = run.json("policy", "diff", "eu-gdpr", str(Path("policies/eu-gdpr.yaml").resolve()))
    assert diff["changes"] == []
    text = run("policy", "diff", "eu-gdpr", "gr").stdout
    assert 'id: "eu-gdpr" -> "gr"' in text and "consent.guardian.verified: false -> true" in text
    assert "consent.rules[okana-minor-referral]: added {" in text  # rules compared by id, not as one list
    assert "None" not in text and "'eu-gdpr'" not in text  # JSON values, not Python reprs
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("id: orphan\nversion: '1'\nname: Orphan\nextends: no-such-pack\n")
    lost = run("policy", "validate", str(orphan))
    assert lost.exit_code == 1 and "orphan.yaml line 4, extends: no policy pack 'no-such-pack'" in lost.stderr
    assert "extends: nothing (a base pack)" in run("policy", "show", "eu-gdpr").stdout
    assert "extends: eu-gdpr" in run("policy", "show", "se").stdout


def test_audit_commands(run: Run, tmp_path: Path) -> None:
    subject = _client(run)
    run("subject", "show", subject)
    trusted = tmp_path / "trusted.checkpoint"
    assert run("audit", "checkpoint", "--out", str(trusted)).exit_code == 0
    run("subject", "show", subject)
    verified = run.json("audit", "verify", "--trusted", str(trusted))
    assert verified["ok"] and verified["trusted_size"] == 3
    proof = tmp_path / "p.tlog-proof"
    assert run("audit", "prove", "1", "--out", str(proof)).exit_code == 0
    keys = run.json("keys", "public")["verifier_keys"]
    checked = run.json("audit", "verify", str(proof), "--public-key", keys[0])
    assert checked["ok"] and checked["seq"] == 1
    export = tmp_path / "audit.jsonl"
    assert run("audit", "export", "--out", str(export)).exit_code == 0
    offline = run.json("audit", "verify", str(export), "--public-key", keys[0])
    assert offline["entries"] >= 4
    log = run.json("audit", "log", "--subject", subject)
    assert [e["action"] for e in log] == ["subject.added", "subject.viewed", "subject.viewed"]
    consistency = run.json("audit", "consistency", "--from", "2")
    assert consistency["old_size"] == 2


def test_tampered_export_exits_4(run: Run, tmp_path: Path) -> None:
    _client(run)
    export = tmp_path / "audit.jsonl"
    run("audit", "export", "--out", str(export))
    lines = export.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["actor"] = "mallory"
    lines[1] = json.dumps(entry)
    export.write_text("\n".join(lines) + "\n")
    keys = run.json("keys", "public")["verifier_keys"]
    result = run("audit", "verify", str(export), "--public-key", keys[0])
    assert result.exit_code == 4 and "entry 0 was changed" in result.stderr


def test_reason_language_follows_the_actors_locale(run: Run) -> None:
    subject = _client(run)
    result = run.runner.invoke(
        cli,
        [*run.base, "--actor", "ada", "--json", "check", "--subject", subject, "--recipient", "healthcare",
         "--purpose", "treatment", "--category", "identity"],
        env={"LANG": "el_GR.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
    assert result.exit_code == 3
    assert json.loads(result.stdout)["reasons"]["identity"] == "δεν υπάρχει συγκατάθεση για αυτόν τον αποδέκτη"


def test_until_dates_include_the_day_they_name(run: Run) -> None:
    """``--valid-until D`` holds through D, and ``audit log --until D`` includes D's events."""
    from datetime import UTC, datetime, timedelta

    subject = _client(run)
    today = datetime.now(UTC).date()
    last = today + timedelta(days=40)
    granted = run.json("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose",
                       "treatment", "--category", "identity", "--valid-until", last.isoformat())
    same_day = run.json("consent", "grant", "--subject", subject, "--recipient", "social-services", "--purpose",
                        "treatment", "--category", "identity", "--valid-until", today.isoformat())
    assert granted["status"] == same_day["status"] == "active"  # "until today" is not already over
    ask = ("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
           "--category", "identity", "--at")
    assert run.json(*ask, f"{last.isoformat()}T23:59:59Z")["decision"] == "permit"
    inquiry = run(*ask, f"{last.isoformat()}T23:59:59Z").stdout
    assert "inquiry:   decided as of" in inquiry and "Record the disclosure" not in inquiry
    now = run(*ask[:-1]).stdout  # a disclosure now: consentkit records it, the caseworker need not
    assert "recorded:  disclosure " in now and "Record the disclosure" not in now
    after = run.json(*ask, (last + timedelta(days=1)).isoformat(), code=3)
    assert after["denied"] == {"identity": "expired"}
    events = run.json("audit", "log", "--since", today.isoformat(), "--until", today.isoformat())
    assert {e["action"] for e in events} >= {"consent.granted", "disclosure.checked"}



def test_a_recipient_id_is_an_identifier_never_a_name(run: Run) -> None:
    """The ID is stored in clear (audit details, accounting of disclosures): free text is refused."""
    subject = _client(run)
    typed = run("check", "--subject", subject, "--recipient", "treatment-provider:Karin Berg 1990-01-01",
                "--purpose", "treatment", "--category", "identity")
    assert typed.exit_code == 1 and "no spaces (never a person's name)" in typed.stderr
    assert "Karin" not in typed.stderr and len(typed.stderr.strip().splitlines()) == 1
    local = run.json("consent", "grant", "--subject", subject, "--recipient", "treatment-provider:οκανα-αθηνα",
                     "--purpose", "treatment", "--category", "identity")
    assert local["status"] == "active"


def test_consent_show_has_the_whole_history(run: Run) -> None:
    """DESIGN.md: a consent is an append-only history of events, the grant first."""
    subject = _client(run)
    granted = run.json("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose",
                       "treatment", "--category", "identity")
    run.json("consent", "withdraw", granted["consent_id"], "--reason", "the client asked")
    shown = run.json("consent", "show", granted["consent_id"])
    assert [h["kind"] for h in shown["history"]] == ["granted", "withdrawn"]
    assert shown["history"] == run.json("consent", "history", granted["consent_id"])
    text = run("consent", "show", granted["consent_id"]).stdout
    assert "recipients" in text and "healthcare" in text and "['" not in text and "{'" not in text


@pytest.mark.parametrize("witness", ["", "   ", "Eva\nform: written"])
def test_a_blank_or_multi_line_witness_is_refused(run: Run, witness: str) -> None:
    subject = _client(run)
    result = run("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity", "--form", "verbal", "--witness", witness)
    assert result.exit_code == 1 and result.stderr.startswith("consentkit: error: --witness: ")
    assert run.json("consent", "list", "--subject", subject) == []


def test_override_text_cannot_pass_for_another_field(run: Run) -> None:
    subject = _client(run)
    run("actor", "add", "--id", "sam", "--role", "supervisor")
    base = ("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "emergency-care",
            "--category", "identity", "--override", "vital-interests")
    forged = run(*base, "--justification", "collapsed in the waiting room", "--reference", "R-1\nreview_status  done",
                 actor="sam")
    assert forged.exit_code == 1 and forged.stderr.startswith("consentkit: error: --reference: ")
    assert run.json("disclosure", "list", "--subject", subject) == []
    # A justification may run over lines; shown to the DPO, its later lines are indented under it.
    used = run.json(*base, "--justification", "collapsed in the waiting room\nreview_status  done", actor="sam")
    shown = run("override", "show", used["disclosure_id"]).stdout.splitlines()
    assert not any(line.startswith("review_status  done") for line in shown)
    assert any(line.strip() == "review_status  done" for line in shown)


def test_an_empty_name_says_to_give_one(run: Run) -> None:
    result = run("subject", "add", "--jurisdiction", "eu-gdpr", "--name", " ", "--birth-date", "1995-04-01")
    assert result.exit_code == 1 and result.stderr.strip() == "consentkit: error: --name: give the client's name"


def test_a_consent_is_superseded_once(run: Run) -> None:
    subject = _client(run)
    grant = ("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
             "--category", "identity", "--notice-version", "v1")
    old = run.json(*grant)["consent_id"]
    new = run.json(*grant, "--supersedes", old)
    assert new["status"] == "active"
    again = run(*grant, "--supersedes", old)
    assert again.exit_code == 1 and f"--supersedes: consent {old} already ended (superseded on" in again.stderr
    assert len(run.json("consent", "list", "--subject", subject)) == 2
    history = run.json("consent", "history", old)
    assert [h["kind"] for h in history] == ["granted", "superseded"] and history[1]["by"] == new["consent_id"]


@pytest.mark.parametrize(("option", "value"), [("--notice-language", "xx"), ("--attest", "signatur")])
def test_a_mistyped_notice_language_or_attestation_is_refused(run: Run, option: str, value: str) -> None:
    subject = _client(run)
    result = run("consent", "grant", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity", "--notice-version", "v1", option, value)
    assert result.exit_code == 1 and result.stderr.startswith(f"consentkit: error: {option}")
    assert run.json("consent", "list", "--subject", subject) == []


def test_listing_an_unknown_jurisdiction_is_an_error(run: Run) -> None:
    result = run("subject", "list", "--jurisdiction", "xx")
    assert result.exit_code == 1 and "known packs are" in result.stderr

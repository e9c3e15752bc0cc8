"""``consentkit report`` and ``consentkit sar`` through the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from consentkit.reports.deadline import add_period
from tests.cli_runner import Run
from tests.reports.conftest import World


def test_sar_open_list_extend_close(world: World, db_url: str, keys_dir: Path) -> None:
    run = Run(db_url, keys_dir)  # the CLI runs on the real clock
    today = date.today()
    opened = run.json("sar", "open", world.eve, "--channel", "electronic", actor="sam")
    due = add_period(today, 1, "months", roll_to_working_day=True)
    assert (opened["received_on"], opened["due_on"], opened["status"]) == (today.isoformat(), due.isoformat(), "open")
    listed = run.json("sar", "list", "--status", "open", actor="sam")
    assert [r["subject_id"] for r in listed] == [world.olga, world.anna, world.eve]  # earliest deadline first
    extended = run.json("sar", "extend", opened["request_id"], actor="sam")
    assert extended["deadline"] == add_period(due, 2, "months", roll_to_working_day=True).isoformat()
    closed = run.json("sar", "close", opened["request_id"], "--outcome", "answered", actor="sam")
    assert (closed["status"], closed["closed_on"], closed["outcome"]) == ("closed", today.isoformat(), "answered")
    late = run("sar", "extend", world.request_id, actor="sam")  # anna's first deadline (2 April 2026) has passed
    assert late.exit_code == 1 and "first deadline has passed" in late.stderr
    again = run("sar", "close", opened["request_id"], actor="sam")
    assert again.exit_code == 1 and "already closed" in again.stderr
    denied = run("sar", "list", actor="cas")
    assert denied.exit_code == 1 and "report.subject" in denied.stderr
    bad = run("sar", "open", world.eve, "--received", "2099-01-01", actor="sam")
    assert bad.exit_code == 1 and "future" in bad.stderr


def test_report_subject_to_stdout_and_file(world: World, db_url: str, keys_dir: Path, tmp_path: Path) -> None:
    run = Run(db_url, keys_dir)
    shown = run("report", "subject", world.olga, "--format", "md", actor="sam")
    assert shown.exit_code == 0, shown.stderr
    assert "# Ваши персональные данные" in shown.stdout and "Ольга Пример" in shown.stdout
    out = tmp_path / "olga.html"
    summary = run.json("report", "subject", world.olga, "--lang", "en", "-o", str(out), actor="sam")
    assert summary["path"] == str(out) and summary["lang"] == "en" and summary["due"] == "2026-01-26"
    assert "Your personal data" in out.read_text("utf-8")
    human = run("report", "subject", world.anna, "--format", "json", "-o", str(tmp_path / "a.json"), actor="sam")
    assert human.exit_code == 0 and "written to" in human.stdout
    # Anna's copy holds her withdrawal reason: whoever sends it is told to read it for other names.
    assert "holds 1 free-text passage(s)" in human.stderr and "names of other people" in human.stderr
    assert summary["free_texts_to_read"] >= 1 and f"holds {summary['free_texts_to_read']} free-text" in shown.stderr
    assert json.loads((tmp_path / "a.json").read_text("utf-8"))["report"] == "subject-access"
    pdf = run("report", "subject", world.anna, "--format", "pdf", actor="sam")
    assert pdf.exit_code == 1 and ("give -o FILE" in pdf.stderr or "consentkit[pdf]" in pdf.stderr)


def test_report_dpo_and_ropa(world: World, db_url: str, keys_dir: Path, tmp_path: Path, org_file: Path) -> None:
    run = Run(db_url, keys_dir)
    out = tmp_path / "overrides.csv"
    summary = run.json("report", "dpo", "--from", "2026-03-01", "--to", "2026-03-06", "--format", "csv",
                       "-o", str(out), "--org", str(org_file), actor="dora")
    assert summary["overdue_requests"] == 2 and summary["from"] == "2026-03-01"  # the CLI runs on the real clock
    assert out.read_text("utf-8").startswith("used_at,disclosure_id,subject_id")
    bad = run("report", "dpo", "--from", "2026-13-01", "--to", "2026-03-06", actor="dora")
    assert bad.exit_code == 1 and "--from" in bad.stderr
    ropa = run("report", "ropa", "--format", "md", "--lang", "sv", "--org", str(org_file), actor="dora")
    assert ropa.exit_code == 0 and "# Register över behandlingar" in ropa.stdout
    assert "Addiction care case files" in ropa.stdout


def test_global_json_prints_the_report_itself(world: World, db_url: str, keys_dir: Path, org_file: Path) -> None:
    """Without -o, ``--json`` still gives the report: a json report as it is, another format as
    ``content`` inside the summary. Nothing is built and then thrown away."""
    run = Run(db_url, keys_dir)
    document = run.json("report", "subject", world.olga, "--format", "json", actor="sam")
    assert document["report"] == "subject-access" and document["subject"]["subject_id"] == world.olga
    html = run.json("report", "subject", world.olga, "--lang", "en", actor="sam")
    assert html["path"] is None and html["format"] == "html" and "Your personal data" in html["content"]
    ropa = run.json("report", "ropa", "--format", "md", "--org", str(org_file), actor="dora")
    assert ropa["report"] == "ropa" and "Addiction care case files" in ropa["content"]
    dpo = run.json("report", "dpo", "--from", "2026-03-01", "--to", "2026-03-06", "--format", "json",
                   "--org", str(org_file), actor="dora")
    assert dpo["report"] == "dpo" and dpo["period"]["from"] == "2026-03-01"

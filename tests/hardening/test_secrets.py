"""Secrets: a realistic flow through the CLI with logging at DEBUG (SQLAlchemy's statement and
parameter logging included), then no planted name, national ID, contact, free-text fragment
or key material may appear in the logs, the error messages, the outputs that should not show
them, the audit exports, or the database (rows, and for SQLite the raw file and WAL bytes).

The demo (``consentkit demo``) can be added with :func:`tests.hardening.leaks.find_leaks`:
run it with the same logging, then pass its planted strings and its output folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.cli_runner import Run
from tests.hardening.leaks import find_leaks

PLANTED = {
    "name": "Quintessa Vorhaugen",
    "other name": "Zlatoslava Quirke",
    "contact": "quokka.leak@example.org",
    "national id": "19121212-1212",
    "national id (12 digits)": "191212121212",
    "national id (10 digits)": "1212121212",
    "witness": "Perpetua Okonkwo-Lindqvist",
    "justification": "Zebrafinch harbour warehouse incident",
    "withdrawal reason": "Marmalade quarrel with landlord",
    "hold reason": "Tribunal Ostrakon docket",
}


class Flow:
    """Runs commands, keeping what each printed, split into outputs that may and may not show personal data."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.quiet: dict[str, str] = {}  # outputs that must not show any planted value

    def __call__(self, label: str, *args: str, code: int | None = 0) -> str:
        result = self.run(*args, "--json")
        if code is not None:
            assert result.exit_code == code, (label, result.exit_code, result.stderr)
        self.quiet[f"{label} (stdout)"] = result.stdout
        self.quiet[f"{label} (stderr)"] = result.stderr
        return result.stdout


def _flow(run: Run, out: Path) -> Flow:
    import json

    flow = Flow(run)
    assert run("init", "--role", "caseworker", "--role", "supervisor", "--role", "dpo").exit_code == 0
    p = PLANTED
    subject = json.loads(flow("subject add", "subject", "add", "--jurisdiction", "se", "--name", p["name"],
                              "--other-name", p["other name"], "--contact", p["contact"], "--birth-date", "1991-07-14",
                              "--national-id", p["national id"]))["subject_id"]
    flow("subject find", "subject", "find", "--national-id", p["national id"])
    consent = json.loads(flow("consent grant", "consent", "grant", "--subject", subject, "--recipient",
                              "treatment-provider", "--purpose", "treatment", "--category", "identity,substance-use",
                              "--form", "verbal", "--witness", p["witness"], "--notice-version", "v1"))["consent_id"]
    flow("check", "check", "--subject", subject, "--recipient", "treatment-provider", "--purpose", "treatment",
         "--category", "identity")
    flow("check with override", "check", "--subject", subject, "--recipient", "healthcare", "--purpose",
         "emergency-care", "--category", "identity,health", "--override", "vital-interests", "--justification",
         p["justification"])
    flow("consent withdraw", "consent", "withdraw", consent, "--reason", p["withdrawal reason"])
    flow("consent receipt", "consent", "receipt", consent, "--out", str(out))
    flow("consent export", "consent", "export", consent, "--out", str(out / "consent.fhir.json"))
    flow("subject hold", "subject", "hold", subject, "--reason", p["hold reason"])
    # Refusals that carry planted values in their input must not echo them.
    flow("erase under hold", "subject", "erase", subject, "--yes", code=1)
    flow("bad birth date", "subject", "add", "--jurisdiction", "se", "--name", p["name"], "--birth-date",
         "1991-02-30", code=1)
    flow("bad national id", "subject", "add", "--jurisdiction", "se", "--name", p["name"], "--birth-date",
         "1991-07-14", "--national-id", "19121212-1213", code=1)
    flow("override without justification", "check", "--subject", subject, "--recipient", "healthcare",
         "--purpose", "emergency-care", "--category", "identity", "--override", "vital-interests", code=None)
    flow("bad time", "check", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
         "--category", "identity", "--at", p["justification"], code=1)
    flow("subject release", "subject", "release", subject)
    flow("audit export", "audit", "export", "--out", str(out / "audit.jsonl"))
    flow("audit export fhir", "audit", "export", "--format", "fhir", "--out", str(out / "audit.fhir.json"))
    flow("subject erase", "subject", "erase", subject, "--yes")
    flow("audit export after erasure", "audit", "export", "--out", str(out / "audit-after.jsonl"))
    flow("audit verify", "audit", "verify")
    return flow


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything at DEBUG, SQLAlchemy's SQL and bound parameters included."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "alembic"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_planted_secret_escapes(db_url: str, keys_dir: Path, tmp_path: Path,
                                   debug_logs: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()
    flow = _flow(Run(db_url, keys_dir), out)
    logs = debug_logs.text
    assert "INSERT INTO ck_subjects" in logs  # the SQL log really was on
    texts = {"DEBUG log": logs, **flow.quiet}
    directory = tmp_path if db_url.startswith("sqlite") else out  # SQLite: the file and its WAL too
    assert find_leaks(PLANTED, texts=texts, directory=directory, db_url=db_url, keys_dir=keys_dir) == []


def test_the_scanner_finds_what_it_should(tmp_path: Path) -> None:
    # The test above can only pass for the right reason if the scanner sees each form of a leak.
    (tmp_path / "escaped.json").write_text('{"n": "Zlatoslava Quirke \\u00e9"}', "utf-8")
    (tmp_path / "plain.txt").write_bytes("Ω Perpetua".encode())
    planted = {"a": "Zlatoslava Quirke é", "b": "Ω Perpetua", "c": "absent"}
    leaks = find_leaks(planted, texts={"log": "params ('Zlatoslava Quirke \\xe9',)"}, directory=tmp_path)
    assert sorted(leaks) == ["a found in escaped.json", "a found in log", "b found in plain.txt"]


@pytest.mark.slow
def test_the_demo_at_debug_level_leaks_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               debug_logs: pytest.LogCaptureFixture) -> None:
    # The whole demo in this process, every logger at DEBUG (SQLAlchemy's statements and
    # bound parameters included): no client's name, relative, national ID or free text in
    # the logs, what it printed, the database rows, the file and its WAL or the audit export;
    # no key material anywhere but the key files. (Receipts and reports name the client by design.)
    from click.testing import CliRunner

    from consentkit.cli import cli
    from consentkit.demo.cast import CLIENTS, FREE_TEXT

    for name in ("CONSENTKIT_MASTER_KEY", "CONSENTKIT_SIGNING_KEY", "CONSENTKIT_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "INSERT INTO ck_subjects" in debug_logs.text  # the SQL log really was on
    planted = {f"free text {key}": text for key, text in FREE_TEXT.items()}
    for key, client in CLIENTS.items():
        planted |= {f"{key} name": client.name, **{f"{key} relative {n}": r for n, r in enumerate(client.relatives)},
                    **{f"{key} alias {n}": a for n, a in enumerate(client.aliases)}}
        if client.national_id:
            planted[f"{key} national id"] = client.national_id
    texts = {"DEBUG log": debug_logs.text, "demo output": result.output}
    for produced in ("consentkit.db", "audit/audit-export.jsonl", "demo.json"):
        texts[produced] = (out / produced).read_bytes().decode("utf-8", "replace")
    assert find_leaks(planted, texts=texts, db_url=f"sqlite:///{out / 'consentkit.db'}",
                      keys_dir=out / "keys") == []

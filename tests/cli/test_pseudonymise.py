"""``consentkit pseudonymise`` and ``consentkit reidentify`` through click's runner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli_runner import Run

SCHEMA = """
version: 1
domain: research-2026
k: 2
quasi_identifiers: [sex, birth_date]
columns:
  pnr: {pseudonym: {kind: SE_PERSONNUMMER}}
  phone: {token: {kind: PHONE}}
  name: drop
  sex: keep
  birth_date: {generalise: {date: year}}
"""
ROWS = [
    ("850709-2388", "+46 70 123 45 67", "Anna Svensson", "F", "1985-07-09"),
    ("8507092388", "+46 70 123 45 67", "Anna Svensson", "F", "1985-07-09"),
    ("19850709-2388", "", "Anna Svensson", "F", "1985-07-09"),
    ("811218-9876", "+46 8 123 456", "Nils Karlsson", "M", "1981-12-18"),
]


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init").exit_code == 0
    assert runner("actor", "add", "--id", "cas", "--role", "caseworker").exit_code == 0
    return runner


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "export.yaml").write_text(SCHEMA, encoding="utf-8")
    with (tmp_path / "in.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("pnr", "phone", "name", "sex", "birth_date"))
        writer.writerows(ROWS)
    return {"in": str(tmp_path / "in.csv"), "schema": str(tmp_path / "export.yaml"),
            "out": str(tmp_path / "out.csv")}


def export(run: Run, paths: dict[str, str], *extra: str, code: int = 0) -> dict[str, object]:
    data: dict[str, object] = run.json("pseudonymise", paths["in"], "--schema", paths["schema"], "--out",
                                       paths["out"], *extra, code=code)
    return data


def test_json_output_with_suppression(run: Run, paths: dict[str, str]) -> None:
    data = export(run, paths, "--suppress")
    assert data["written"] is True and data["out"] == paths["out"]
    assert (data["rows"], data["rows_read"], data["suppressed"]) == (3, 4, 1)
    assert (data["k"], data["k_reached"], data["groups_under_k"]) == (2, 3, 1)
    assert data["small_groups"] == [{"values": {"sex": "M", "birth_date": "1981"}, "rows": 1}]
    assert data["domains"] == ["research-2026"] and isinstance(data["audit_id"], int)
    with Path(paths["out"]).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["pnr"] for r in rows}) == 1 and rows[2]["phone"] == ""


def test_groups_under_k_refuse_with_exit_1_and_no_file(run: Run, paths: dict[str, str]) -> None:
    data = export(run, paths, code=1)
    assert data["written"] is False and data["out"] is None and data["groups_under_k"] == 1
    assert not Path(paths["out"]).exists()
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"])
    assert result.exit_code == 1
    assert "NOT WRITTEN" in result.stdout and "1 rows: sex=M, birth_date=1981" in result.stdout
    assert "k-anonymity not reached: 1 groups (1 rows) have fewer than 2 rows" in result.stderr


def test_human_output(run: Run, paths: dict[str, str]) -> None:
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"], "--suppress")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote 3 rows to {paths['out']} (csv; audit entry ")
    assert "k reached 3 (required 2) over sex, birth_date" in result.stdout
    assert "suppressed 1 rows in 1 groups under k" in result.stdout
    assert "\r" not in result.stderr  # stderr is not a terminal here: no progress bar


def test_malformed_row_exit_1_with_line_number(run: Run, paths: dict[str, str]) -> None:
    Path(paths["in"]).write_text(Path(paths["in"]).read_text("utf-8") + "850709-2389,,X,F,1985-01-01\n", "utf-8")
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"], "--k", "1")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("consentkit: error: line 6, column 'pnr': SE_PERSONNUMMER is not valid: "
                                     "check digit does not match")
    assert "2389" not in result.output + result.stderr and not Path(paths["out"]).exists()


def test_unknown_column_is_refused(run: Run, paths: dict[str, str]) -> None:
    Path(paths["schema"]).write_text(SCHEMA.replace("  name: drop\n", ""), encoding="utf-8")
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"], "--quiet")
    assert result.exit_code == 1 and "header column 3 not in the schema (names not shown; the schema has 'pnr', " \
        "'phone', 'sex', 'birth_date')" in result.stderr


def test_bad_schema_names_the_field(run: Run, paths: dict[str, str]) -> None:
    Path(paths["schema"]).write_text(SCHEMA.replace("date: year", "date: week"), encoding="utf-8")
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"])
    assert result.exit_code == 1 and "columns.birth_date.generalise.date: 'week' is not one of" in result.stderr


def test_caseworker_may_not_export(run: Run, paths: dict[str, str]) -> None:
    result = run("pseudonymise", paths["in"], "--schema", paths["schema"], "--out", paths["out"], actor="cas")
    assert result.exit_code == 1 and "may not pseudonym.export" in result.stderr


def test_reidentify_round_trip_and_refusals(run: Run, paths: dict[str, str]) -> None:
    export(run, paths, "--k", "1")
    with Path(paths["out"]).open(encoding="utf-8", newline="") as handle:
        token = next(csv.DictReader(handle))["phone"]
    no_reason = run("reidentify", token)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    blank = run("reidentify", token, "--reason", "  ")
    assert blank.exit_code == 2 and "say why the value must be re-identified" in blank.stderr
    refused = run("reidentify", token, "--reason", "safeguarding", actor="cas")
    assert refused.exit_code == 1 and "may not pseudonym.reidentify" in refused.stderr
    data = run.json("reidentify", token, "--reason", "safeguarding")
    assert data["kind"] == "PHONE" and data["value"] == "+46 70 123 45 67" and data["domain"] == "research-2026"
    human = run("reidentify", token, "--reason", "safeguarding", "--domain", "research-2026")
    assert human.exit_code == 0 and human.stdout == "+46 70 123 45 67\n"
    log = json.dumps(run.json("audit", "log", "--action", "pseudonym.reidentified"))
    assert log.count('"outcome": "ok"') == 2 and log.count('"outcome": "refused"') == 1
    assert "safeguarding" not in log and "123 45 67" not in log


def test_a_domain_that_is_not_one_is_refused_before_it_reaches_the_log(run: Run, paths: dict[str, str]) -> None:
    export(run, paths, "--k", "1")
    with Path(paths["out"]).open(encoding="utf-8", newline="") as handle:
        token = next(csv.DictReader(handle))["phone"]
    typed = run("reidentify", token, "--reason", "safeguarding", "--domain", "Karin Berg 990416-8656")
    assert typed.exit_code != 0 and "--domain: a pseudonymisation domain is 1-64 characters" in typed.stderr
    assert "Karin" not in typed.stderr and len(typed.stderr.strip().splitlines()) == 1
    assert "Karin" not in json.dumps(run.json("audit", "log"))


def test_reidentify_as_design_spells_it(run: Run, paths: dict[str, str]) -> None:
    """DESIGN.md: ``consentkit pseudonymise IN --schema FILE --out OUT | reidentify TOKEN --reason R``."""
    export(run, paths, "--k", "1")
    with Path(paths["out"]).open(encoding="utf-8", newline="") as handle:
        token = next(csv.DictReader(handle))["phone"]
    data = run.json("pseudonymise", "reidentify", token, "--reason", "safeguarding")
    assert data["kind"] == "PHONE" and data["value"] == "+46 70 123 45 67"
    assert run("pseudonymise", "reidentify", token).exit_code == 2  # --reason is still required
    log = run.json("audit", "log", "--action", "pseudonym.reidentified")
    assert len(log) == 1 and "safeguarding" not in json.dumps(log)


def test_help_lists_both_commands(run: Run) -> None:
    result = run("--help")
    assert "pseudonymise" in result.stdout and "reidentify" in result.stdout


def test_format_option_for_unusual_extensions(run: Run, paths: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text(Path(paths["in"]).read_text("utf-8"), encoding="utf-8")
    no_format = run("pseudonymise", str(source), "--schema", paths["schema"], "--out", paths["out"])
    assert no_format.exit_code == 1 and "give --format csv or jsonl" in no_format.stderr
    data = run.json("pseudonymise", str(source), "--format", "csv", "--schema", paths["schema"],
                    "--out", paths["out"], "--suppress")
    assert data["rows"] == 3


def test_json_error_shape(run: Run, paths: dict[str, str]) -> None:
    result = run("pseudonymise", paths["in"] + ".missing", "--schema", paths["schema"], "--out", paths["out"],
                 "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["kind"] == "InvalidInputError"


def test_progress_bar_draws_on_one_line_and_ends_it() -> None:
    import io

    from consentkit.cli.pseudonymise import _ProgressBar

    stream = io.StringIO()
    bar = _ProgressBar(stream)
    bar("counting", 16_384, None)
    bar("writing", 50, 100)  # throttled: less than 0.1 s since the last draw
    bar("writing", 100, 100)  # the last update is always drawn
    bar.close()
    assert stream.getvalue() == ("\rcounting 16,384 rows\x1b[K"
                                 "\rwriting [" + "#" * 30 + "] 100/100 rows\x1b[K\n")


def test_from_db_subjects(run: Run, tmp_path: Path) -> None:
    for name, born in (("Anna Svensson", "1985-07-09"), ("Eva Lind", "1985-02-01")):
        assert run("subject", "add", "--jurisdiction", "se", "--name", name, "--birth-date", born).exit_code == 0
    schema = tmp_path / "subjects.yaml"
    schema.write_text("version: 1\ndomain: eval-2026\nk: 2\nquasi_identifiers: [birth_date]\ncolumns:\n"
                      "  subject_id: pseudonym\n  birth_date: {generalise: {date: year}}\n"
                      + "".join(f"  {c}: drop\n" for c in ("jurisdiction", "language", "created_at", "name",
                                                           "other_names", "national_id", "national_id_type",
                                                           "contact")), encoding="utf-8")
    out = tmp_path / "subjects.csv"
    data = run.json("pseudonymise", "--from-db", "subjects", "--jurisdiction", "se", "--schema", str(schema),
                    "--out", str(out))
    assert data["rows"] == 2 and data["k_reached"] == 2
    assert "Anna" not in out.read_text(encoding="utf-8") and out.read_text("utf-8").count("TEXT_") == 2


@pytest.mark.parametrize("args", [
    ("--schema", "s.yaml", "--out", "o.csv"),
    ("in.csv", "--from-db", "subjects", "--jurisdiction", "se", "--schema", "s.yaml", "--out", "o.csv"),
    ("--from-db", "subjects", "--schema", "s.yaml", "--out", "o.csv"),
    ("in.csv", "--jurisdiction", "se", "--schema", "s.yaml", "--out", "o.csv"),
])
def test_source_usage_errors(run: Run, args: tuple[str, ...]) -> None:
    result = run("pseudonymise", *args)
    assert result.exit_code == 2 and ("give either IN or --from-db" in result.stderr
                                      or "--jurisdiction goes with --from-db subjects" in result.stderr)


@pytest.mark.slow
def test_killed_midway_leaves_no_output(tmp_path: Path) -> None:
    """SIGKILL during the writing pass: OUT never exists half-written (only the temp file may stay)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db, keys = f"sqlite:///{tmp_path / 'ck.db'}", tmp_path / "keys"
    assert Run(db, keys)("init").exit_code == 0
    source, schema, out = tmp_path / "in.csv", tmp_path / "s.yaml", tmp_path / "out.csv"
    schema.write_text("version: 1\ndomain: d\ncolumns: {pnr: {pseudonym: {kind: SE_PERSONNUMMER}}, n: keep}\n",
                      encoding="utf-8")
    source.write_text("pnr,n\n" + "".join(f"850709-2388,{i}\n" for i in range(400_000)), encoding="utf-8")
    env = {**os.environ, "CONSENTKIT_DB": db, "CONSENTKIT_KEYS": str(keys), "CONSENTKIT_ACTOR": "ada"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from consentkit.cli import main; main()", "pseudonymise", str(source),
         "--schema", str(schema), "--out", str(out), "--quiet"], env=env)
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp_path.glob(".out.csv.*.part")):
            assert process.poll() is None, "the export finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()


def test_the_schema_example_in_the_help_is_a_valid_schema() -> None:
    """`pseudonymise --help` is where a new user learns the schema format: its example must load."""
    import textwrap

    from consentkit.cli.pseudonymise import pseudonymise
    from consentkit.pseudonym.schema import Redact, load_schema

    help_text = pseudonymise.help or ""
    block = help_text.split("\b\n", 1)[1].split("\n\n", 1)[0]
    schema = load_schema("help", textwrap.dedent(block))
    assert schema.k == 5 and schema.quasi_identifiers == ("birth_date", "postcode")
    note = schema.column("note")
    assert note is not None and isinstance(note.action, Redact)
    assert note.action.known_names == ("national_id", "phone", "name")


def test_a_lone_surrogate_in_a_jsonl_row_is_a_one_line_error(run: Run, paths: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"pnr": "850709-2388", "phone": "", "name": "Anna\\udc00", "sex": "F", '
                      '"birth_date": "1985-07-09"}\n', encoding="utf-8")
    result = run("pseudonymise", str(source), "--schema", paths["schema"], "--out", str(tmp_path / "out.jsonl"),
                 "--k", "1")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("consentkit: error: in.jsonl line 1: not valid Unicode (a \\uD800-\\uDFFF "
                                     "escape without its pair); fix the text")
    assert not (tmp_path / "out.jsonl").exists()

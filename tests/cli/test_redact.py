"""``consentkit redact`` through click's runner: text, --json, --jsonl, --subject, --pseudonymise."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from consentkit.cli import cli
from consentkit.pseudonym import detect
from consentkit.storage.audit_log import AuditFilter
from tests.cli_runner import Run

NOTE = "Karin Bergs personnummer är 850709-2388; ring 070-123 45 67 eller mejla karin.berg@example.se.\n"


def redact(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["redact", *args], input=stdin, catch_exceptions=False)


def test_plain_text_needs_no_database(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    database = tmp_path / "never.db"
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{database}", "redact", "--known-name", "Karin Berg",
                                      str(note)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "<PERSON> personnummer är <SE_PERSONNUMMER>; ring <PHONE_NUMBER> eller mejla " \
                            "<EMAIL_ADDRESS>.\n"
    assert not database.exists()


def test_json_lists_entities_with_offsets_into_the_input() -> None:
    result = redact("--json", "--lang", "sv", "--known-name", "Karin Berg", "-", stdin=NOTE)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["text"].startswith("<PERSON> personnummer är <SE_PERSONNUMMER>")
    assert [(e["type"], NOTE[e["start"]:e["end"]]) for e in data["entities"]] == [
        ("PERSON", "Karin Bergs"), ("SE_PERSONNUMMER", "850709-2388"), ("PHONE_NUMBER", "070-123 45 67"),
        ("EMAIL_ADDRESS", "karin.berg@example.se")]
    assert all(set(e) == {"type", "start", "end", "score"} for e in data["entities"])


def test_the_language_is_guessed_from_the_script_when_not_given() -> None:
    assert redact("-", stdin="Τηλ. 691 234 5678").stdout == "Τηλ. <PHONE_NUMBER>"
    assert redact("-", stdin="Тел. 8 (916) 123-45-67").stdout == "Тел. <PHONE_NUMBER>"


def test_jsonl_keeps_ids_builds_the_detector_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    original = detect.Detector.__init__

    def counting(self: detect.Detector, **kwargs: object) -> None:
        built.append(self)
        original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(detect, "_DETECTOR", None)
    monkeypatch.setattr(detect.Detector, "__init__", counting)
    lines = [
        {"id": "a1", "lang": "ru", "text": "Ивану Петрову, СНИЛС 112-233-445 95", "known_names": ["Иван Петров"]},
        {"id": 7, "lang": "el", "text": "ΑΜΚΑ 15038512347", "known_names": []},
        {"id": None, "text": "Call (212) 998-3483"},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n"
    result = redact("--jsonl", "-", stdin=stdin)
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", 7, None]
    assert [o["text"] for o in out] == ["<PERSON>, СНИЛС <RU_SNILS>", "ΑΜΚΑ <GR_AMKA>", "Call <PHONE_NUMBER>"]
    assert out[0]["entities"][0] == {"type": "PERSON", "start": 0, "end": 13, "score": 0.9}
    assert len(built) == 1


@pytest.mark.parametrize(("bad", "message"), [
    ("not json", "line 2: not valid JSON"),
    ('{"id": 2}', 'line 2: expected an object with a string "text"'),
    ('["text"]', 'line 2: expected an object with a string "text"'),
    ('{"id": 2, "text": "x", "lang": "de"}', 'line 2: "lang": language: expected one of'),
    ('{"id": 2, "text": "x", "known_names": "Anna"}', 'line 2: "known_names" must be a list of strings'),
])
def test_a_malformed_jsonl_line_is_named_and_nothing_is_written(tmp_path: Path, bad: str, message: str) -> None:
    out = tmp_path / "out.jsonl"
    stdin = '{"id": 1, "text": "ΑΜΚΑ 15038512347", "lang": "el"}\n' + bad + "\n"
    result = redact("--jsonl", "--out", str(out), "-", stdin=stdin)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"consentkit: error: {message}") and result.stderr.count("\n") == 1
    assert "15038512347" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_jsonl_to_a_file_is_written_whole(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = redact("--jsonl", "--out", str(out), "-", stdin='{"id": 1, "text": "ΑΜΚΑ 15038512347"}\n')
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == "ΑΜΚΑ <GR_AMKA>"


def test_input_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    note = tmp_path / "latin1.txt"
    note.write_bytes("Björn 850709-2388".encode("latin-1"))
    result = redact(str(note))
    assert result.exit_code == 1
    assert result.stderr == f"consentkit: error: {note}: not UTF-8 text\n"


def test_both_engines_print_the_same(tmp_path: Path) -> None:
    fast = redact("--json", "--known-name", "Karin Berg", "-", stdin=NOTE)
    slow = redact("--json", "--engine", "presidio", "--known-name", "Karin Berg", "-", stdin=NOTE)
    assert fast.exit_code == slow.exit_code == 0
    assert json.loads(fast.stdout) == json.loads(slow.stdout)


# --- with an installation ------------------------------------------------------------------


def call(run: Run, *args: str, stdin: str, actor: str = "ada") -> Result:
    return run.runner.invoke(cli, [*run.base, "--actor", actor, *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init").exit_code == 0
    return runner


def test_subject_names_come_from_the_record_and_the_read_is_audited(run: Run, db_url: str,
                                                                    keys_dir: Path) -> None:
    subject = run.json("subject", "add", "--jurisdiction", "ru", "--name", "Иван Петров", "--birth-date",
                       "1980-01-01", "--other-name", "Анна Петрова")["subject_id"]
    result = call(run, "redact", "--subject", subject, "--lang", "ru", "-",
                  stdin="Иван Петров и его жена Анна Петрова; Ивану Петрову звонили.")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "<PERSON> и его жена <PERSON>; <PERSON> звонили."
    from consentkit.kit import ConsentKit

    with ConsentKit.open(db_url, keys_dir, actor="ada") as kit:
        events = kit.audit_log(AuditFilter(subject_id=subject, action="subject.viewed"))
    assert [dict(e.details) for e in events] == [{"purpose": "redaction", "names": 2}]
    assert events[0].sealed is None  # nothing personal, not even sealed


def test_an_unknown_subject_is_an_error(run: Run) -> None:
    result = call(run, "redact", "--subject", "00000000-0000-4000-8000-000000000000", "-", stdin="x")
    assert result.exit_code == 1
    assert "no subject" in result.stderr


def test_pseudonymise_gives_one_pseudonym_per_person_number_and_phone(run: Run) -> None:
    text = ("Иван Петров, тел. 8 (916) 123-45-67, СНИЛС 112-233-445 95. Ивану Петрову звонили на "
            "+7 916 123 45 67; СНИЛС 11223344595.")
    result = call(run, "redact", "--lang", "ru", "--known-name", "Иван Петров", "--pseudonymise", "study-1",
                  "--json", "-", stdin=text)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    replaced = data["text"].replace(",", " ").replace(";", " ").replace(".", " ").split()
    persons = [w for w in replaced if w.startswith("PERSON_")]
    phones = [w for w in replaced if w.startswith("PHONE_NUMBER_")]
    snils = [w for w in replaced if w.startswith("RU_SNILS_")]
    assert len(persons) == len(phones) == len(snils) == 2
    assert len(set(persons)) == len(set(phones)) == len(set(snils)) == 1
    assert "Петров" not in data["text"] and "<" not in data["text"]
    other = call(run, "redact", "--lang", "ru", "--known-name", "Иван Петров", "--pseudonymise", "study-2", "-",
                 stdin="Иван Петров")
    assert other.stdout.strip() != persons[0]  # another domain, another pseudonym


def test_pseudonymise_takes_the_export_role_and_is_audited(run: Run) -> None:
    # An export domain's pseudonyms link its rows back to people for whoever can compute
    # them from values they know: only roles that may export, and every use is logged.
    assert run("actor", "add", "--id", "cas", "--role", "caseworker").exit_code == 0
    refused = call(run, "redact", "--lang", "sv", "--pseudonymise", "proj-a", "-", stdin="19990416-8656",
                   actor="cas")
    assert refused.exit_code == 1 and "may not pseudonym.export" in refused.stderr
    assert "SE_PERSONNUMMER" not in refused.stdout
    unknown = call(run, "redact", "--lang", "sv", "--pseudonymise", "proj-a", "-", stdin="19990416-8656",
                   actor="nobody")
    assert unknown.exit_code != 0 and "SE_PERSONNUMMER" not in unknown.stdout
    done = call(run, "redact", "--lang", "sv", "--pseudonymise", "proj-a", "-", stdin="19990416-8656")
    assert done.exit_code == 0 and done.stdout.startswith("SE_PERSONNUMMER_")
    log = run.json("audit", "log", "--action", "pseudonym.text-redacted")
    assert [e["details"] for e in log] == [{"domain": "proj-a"}]
    assert "8656" not in json.dumps(log)


def test_a_lone_surrogate_in_jsonl_is_a_one_line_error_not_an_internal_one(tmp_path: Path) -> None:
    source = tmp_path / "notes.jsonl"
    source.write_text('{"id": "a", "lang": "sv", "text": "ok"}\n{"id": "b", "lang": "sv", "text": "x\\ud800"}\n',
                      encoding="utf-8")
    result = redact("--jsonl", str(source), "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("consentkit: error: line 2: not valid Unicode (a \\uD800-\\uDFFF escape "
                                     "without its pair); fix the text")
    assert not (tmp_path / "out.jsonl").exists()
    paired = tmp_path / "emoji.jsonl"
    paired.write_text('{"id": "c", "lang": "sv", "text": "glad \\ud83d\\ude00"}\n', encoding="utf-8")
    assert redact("--jsonl", str(paired)).exit_code == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_out_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = redact("--lang", "sv", "--out", str(pipe), "-", stdin="Ring 070-123 45 67")
    assert result.exit_code == 1 and "is not a regular file" in result.stderr
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # still the pipe

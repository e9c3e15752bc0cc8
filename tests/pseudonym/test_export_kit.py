"""``kit.pseudonymise`` end to end on SQLite and PostgreSQL: files written all or nothing,
the k-anonymity gate before writing, suppression, permissions and the audit event."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consentkit.errors import InvalidInputError, OperationRefusedError, PermissionDeniedError
from consentkit.kit import ConsentKit
from consentkit.pseudonym.keyed import Pseudonymiser
from consentkit.storage.audit_log import AuditFilter
from consentkit.types import Role

PNR_FORMS = ("850709-2388", "8507092388", "19850709-2388")
OTHER_PNR = "811218-9876"
NAMES = ("Anna Svensson", "Nils Karlsson", "Eva Lind", "Olof Berg")

SCHEMA = """
version: 1
domain: research-2026
k: 2
quasi_identifiers: [sex, birth_date]
columns:
  pnr: {pseudonym: {kind: SE_PERSONNUMMER}}
  name: drop
  sex: keep
  birth_date: {generalise: {date: year}}
  postcode: {generalise: {postcode: 3}}
"""


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("pnr", "name", "sex", "birth_date", "postcode"))
        writer.writerows(rows)
    return path


def sample_rows() -> list[tuple[str, ...]]:
    # Three spellings of one person (F 1985), one other woman born 1985, one lone man born 1981.
    return [
        (PNR_FORMS[0], NAMES[0], "F", "1985-07-09", "831 30"),
        (PNR_FORMS[1], NAMES[0], "F", "1985-07-09", "831 30"),
        (PNR_FORMS[2], NAMES[0], "F", "1985-07-09", "831 31"),
        ("", NAMES[2], "F", "1985-02-01", "113 55"),
        (OTHER_PNR, NAMES[1], "M", "1981-12-18", "171 64"),
    ]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    schema = tmp_path / "export.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    return {"in": write_csv(tmp_path / "clients.csv", sample_rows()), "schema": schema,
            "out": tmp_path / "export.csv", "dir": tmp_path}


def exported(kit: ConsentKit) -> list[Any]:
    return kit.audit_log(AuditFilter(action="pseudonym.exported"))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_refuses_groups_under_k_and_writes_nothing(kit: ConsentKit, files: dict[str, Path]) -> None:
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"])
    assert not result.written and not files["out"].exists() and leftovers(files["dir"]) == []
    assert result.kanon is not None and result.k_reached == 1
    assert result.to_json()["small_groups"] == [{"values": {"sex": "M", "birth_date": "1981"}, "rows": 1}]
    [event] = exported(kit)
    assert event.outcome == "refused" and event.details["rows_written"] == 0
    assert event.details["groups_under_k"] == 1 and event.details["k"] == 2


def test_suppress_drops_small_groups_and_says_how_many(kit: ConsentKit, files: dict[str, Path]) -> None:
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], suppress=True)
    assert result.written and (result.rows_read, result.rows_written, result.suppressed) == (5, 4, 1)
    assert result.k_reached == 4
    with files["out"].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["sex"] for r in rows] == ["F"] * 4 and {r["birth_date"] for r in rows} == {"1985"}
    assert list(rows[0]) == ["pnr", "sex", "birth_date", "postcode"]
    pseudonym = Pseudonymiser(kit.keys.pseudonyms, "research-2026").pseudonym("SE_PERSONNUMMER", PNR_FORMS[2])
    assert [r["pnr"] for r in rows] == [pseudonym] * 3 + [""]
    assert oct(files["out"].stat().st_mode)[-3:] == "600"


def test_k_from_the_caller_overrides_the_schema(kit: ConsentKit, files: dict[str, Path]) -> None:
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1)
    assert result.written and result.rows_written == 5 and result.k == 1 and result.k_reached == 1


def test_audit_event_has_counts_and_no_personal_data(kit: ConsentKit, files: dict[str, Path]) -> None:
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], suppress=True)
    [event] = exported(kit)
    assert event.seq == result.audit_id and event.outcome == "ok" and event.subject_id is None
    details = dict(event.details)
    assert details == {
        "domains": ["research-2026"], "schema_sha256": result.schema_sha256, "input_format": "csv",
        "format": "csv", "rows_read": 5, "rows_written": 4, "suppressed": 1,
        "columns": {"pnr": "pseudonym", "name": "drop", "sex": "keep", "birth_date": "generalise",
                    "postcode": "generalise"},
        "quasi_identifiers": ["sex", "birth_date"], "k": 2, "k_reached": 4, "groups_under_k": 1, "rows_under_k": 1,
    }
    everything = json.dumps([vars(r) for r in kit.audit_log(AuditFilter())], default=str)
    for value in (*NAMES, *PNR_FORMS, OTHER_PNR, "8507092388"[:6], "1985-07-09", "831 30", "clients.csv"):
        assert value not in everything


def test_malformed_row_exits_with_its_line_and_leaves_no_file(kit: ConsentKit, files: dict[str, Path]) -> None:
    rows = sample_rows()
    rows[3] = ("850709-2389", NAMES[2], "F", "1985-02-01", "113 55")  # check digit wrong
    write_csv(files["in"], rows)
    files["out"].write_text("an older export\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1)
    assert str(caught.value) == "line 5, column 'pnr': SE_PERSONNUMMER is not valid: check digit does not match"
    assert files["out"].read_text(encoding="utf-8") == "an older export\n"  # untouched
    assert leftovers(files["dir"]) == [] and exported(kit) == []


def test_malformed_quasi_identifier_is_caught_by_the_first_pass(kit: ConsentKit, files: dict[str, Path]) -> None:
    rows = sample_rows()
    rows[1] = (PNR_FORMS[1], NAMES[0], "F", "09.07.1985", "831 30")
    write_csv(files["in"], rows)
    with pytest.raises(InvalidInputError, match=r"^line 3, column 'birth_date': expected a date YYYY-MM-DD$"):
        kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"])
    assert not files["out"].exists() and exported(kit) == []


def test_failure_midway_leaves_nothing(kit: ConsentKit, files: dict[str, Path], tmp_path: Path) -> None:
    big = [(PNR_FORMS[i % 3], NAMES[0], "F", "1985-07-09", "831 30") for i in range(40_000)]
    write_csv(files["in"], big)
    seen: list[tuple[str, int]] = []

    def crash(phase: str, done: int, _total: int | None) -> None:
        seen.append((phase, done))
        if phase == "writing" and done >= 20_000:
            raise KeyboardInterrupt  # the process is stopped half way through the writing pass

    with pytest.raises(KeyboardInterrupt):
        kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], progress=crash)
    assert ("counting", 40_000) in seen and any(p == "writing" for p, _ in seen)
    assert not files["out"].exists() and leftovers(tmp_path) == [] and exported(kit) == []


def test_input_changed_between_passes_is_refused(kit: ConsentKit, files: dict[str, Path]) -> None:
    rows = [r for r in sample_rows() if r[2] == "F"]  # k=2 holds: four women born 1985

    def tamper(phase: str, done: int, _total: int | None) -> None:
        if phase == "counting" and done == len(rows):  # the end of the first pass
            write_csv(files["in"], [*rows, (OTHER_PNR, NAMES[1], "M", "1981-12-18", "171 64")])

    write_csv(files["in"], rows)
    with pytest.raises(OperationRefusedError, match=r"clients\.csv changed while it was exported"):
        kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], progress=tamper)
    assert not files["out"].exists() and leftovers(files["dir"]) == []


def test_jsonl_in_jsonl_out(kit: ConsentKit, files: dict[str, Path]) -> None:
    source = files["dir"] / "clients.jsonl"
    keys = ("pnr", "name", "sex", "birth_date", "postcode")
    source.write_text("".join(json.dumps(dict(zip(keys, r, strict=True))) + "\n" for r in sample_rows()), "utf-8")
    out = files["dir"] / "export.jsonl"
    result = kit.pseudonymise(source, schema=files["schema"], out=out, suppress=True)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result.format == "jsonl" and len(lines) == 4 and set(lines[0]) == {"pnr", "sex", "birth_date", "postcode"}


def test_output_format_follows_the_extension(kit: ConsentKit, files: dict[str, Path]) -> None:
    out = files["dir"] / "export.ndjson"
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=out, suppress=True)
    assert result.format == "jsonl" and json.loads(out.read_text(encoding="utf-8").splitlines()[0])["sex"] == "F"


def test_without_quasi_identifiers_one_pass_and_no_k(kit: ConsentKit, files: dict[str, Path]) -> None:
    files["schema"].write_text("version: 1\ndomain: d1\ncolumns: {pnr: {pseudonym: {kind: SE_PERSONNUMMER}}, "
                               "name: drop, sex: keep, birth_date: drop, postcode: drop}\n", encoding="utf-8")
    seen: list[str] = []
    result = kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"],
                              progress=lambda phase, _done, total: seen.append(f"{phase}:{total}"))
    assert result.written and result.k is None and result.k_reached is None and result.rows_written == 5
    assert set(seen) == {"writing:None"}
    assert "k" not in exported(kit)[0].details


def test_non_utf8_input_is_refused_with_its_line(kit: ConsentKit, files: dict[str, Path]) -> None:
    files["in"].write_bytes(b"pnr,name,sex,birth_date,postcode\n" + b",\xe5sa,F,1985-01-01,831\n")
    with pytest.raises(InvalidInputError, match=r"clients.csv line 2: not UTF-8 text"):
        kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1)
    assert not files["out"].exists()


def test_spreadsheet_bom_is_accepted(kit: ConsentKit, files: dict[str, Path]) -> None:
    files["in"].write_bytes(b"\xef\xbb\xbf" + files["in"].read_bytes())
    assert kit.pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1).rows_written == 5


@pytest.mark.parametrize(("change", "message"), [
    ({"out": "in"}, "--out: choose a file other than the input"),
    ({"in": "missing.csv"}, "cannot read"),
    ({"schema": "missing.yaml"}, "--schema: cannot read"),
    ({"k": 0}, "--k: give a whole number of at least 1"),
])
def test_bad_arguments(kit: ConsentKit, files: dict[str, Path], change: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"source": files["in"], "schema": files["schema"], "out": files["out"]}
    if "out" in change:
        args["out"] = files["in"]
    if "in" in change:
        args["source"] = files["dir"] / change["in"]
    if "schema" in change:
        args["schema"] = files["dir"] / change["schema"]
    if "k" in change:
        args["k"] = change["k"]
    with pytest.raises(InvalidInputError, match=message):
        kit.pseudonymise(args.pop("source"), **args)
    assert not files["out"].exists()


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DPO])
def test_supervisor_and_dpo_may_export(kit: ConsentKit, open_as: Callable[[str], ConsentKit],
                                       files: dict[str, Path], role: Role) -> None:
    kit.add_actor("who", [role])
    assert open_as("who").pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1).written


def test_caseworker_may_not_export(kit: ConsentKit, open_as: Callable[[str], ConsentKit],
                                   files: dict[str, Path]) -> None:
    kit.add_actor("cas", [Role.CASEWORKER])
    with pytest.raises(PermissionDeniedError, match=r"may not pseudonym\.export"):
        open_as("cas").pseudonymise(files["in"], schema=files["schema"], out=files["out"], k=1)
    assert not files["out"].exists()

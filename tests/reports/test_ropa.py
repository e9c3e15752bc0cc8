"""Records of processing (GDPR Art. 30(1)) and the organisation configuration file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consentkit.errors import ValidationError
from consentkit.storage.audit_log import AuditFilter
from tests.reports.conftest import World


def _model(world: World, org: Path | None = None, lang: str = "en") -> dict[str, Any]:
    return json.loads(world.dora.report_ropa(fmt="json", organisation=org, lang=lang).content)


def test_from_the_configuration(world: World, org_file: Path) -> None:
    r = _model(world, org_file)
    assert r["configured"] and r["controller"]["name"] == "Municipality of Example, social services"
    assert r["dpo"] == {"name": "Dana Protector", "email": "dpo@example.invalid"}
    (activity,) = r["activities"]
    assert activity["purpose_ids"] == ["treatment", "care-coordination"]
    assert activity["data_subjects"] == ["clients", "relatives"]
    assert activity["recipient_ids"] == ["treatment-provider", "healthcare"]
    assert activity["transfers"] == [{"country": "Norway", "safeguard": "adequacy decision (EEA)"}]
    assert activity["retention"][0]["text"] == "Five years after the last entry."
    assert any(r["citation"].startswith("SoL (2001:453) 12 kap.") for r in activity["retention"])
    assert "Staff trained yearly" in activity["security_measures"]
    assert any("Merkle" in m for m in activity["security_measures"])
    assert activity["authority"]["name"] == "Integritetsskyddsmyndigheten (IMY)"


def test_without_configuration_activities_come_from_the_data(world: World) -> None:
    r = _model(world, lang="ru")
    assert not r["configured"] and r["controller"] is None and r["lang"] == "ru"
    by_pack = {a["jurisdiction"]: a for a in r["activities"]}
    assert sorted(by_pack) == ["eu-gdpr", "gr", "ru", "se"]
    assert by_pack["eu-gdpr"]["purpose_ids"] == ["care-coordination", "emergency-care", "referral", "treatment"]
    assert by_pack["gr"]["recipient_ids"] == ["prosecutor"]
    assert by_pack["eu-gdpr"]["data_subjects"] == ["клиенты службы"]
    html = str(world.dora.report_ropa(fmt="html", lang="ru").content)
    assert "Конфигурация организации не задана" in html


def test_generation_is_audited(world: World) -> None:
    report = world.dora.report_ropa(fmt="md")
    event = world.dora.audit_log(AuditFilter(action="report.ropa"))[-1]
    assert event.seq == report.audit_id and event.details["format"] == "md"


@pytest.mark.parametrize(("change", "message"), [
    ("purposes: [treatment, cooking]", "line 14, activities[0].purposes[1]: cooking is not in pack se's purposes"),
    ("jurisdiction: xx", "line 13, activities[0].jurisdiction: choose one of"),
    ("retention: 5", "activities[0].retention: 5 is not of type 'string'"),
])
def test_configuration_errors_name_line_and_field(world: World, org_file: Path, change: str,
                                                  message: str) -> None:
    text = org_file.read_text("utf-8")
    key = change.split(":", maxsplit=1)[0]
    lines = [f"    {change}" if line.startswith(f"    {key}:") else line for line in text.splitlines()]
    org_file.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ValidationError) as raised:
        world.dora.report_ropa(organisation=org_file)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_csv_cells_read_as_text_not_json(world: World, org_file: Path) -> None:
    import csv
    import io

    content = world.dora.report_ropa(fmt="csv", organisation=org_file).content
    [header, row] = list(csv.reader(io.StringIO(str(content))))
    cells = dict(zip(header, row, strict=True))
    assert cells["transfers"] == "country: Norway, safeguard: adequacy decision (EEA)"
    assert "Five years after the last entry." in cells["retention"] and "{" not in cells["retention"]

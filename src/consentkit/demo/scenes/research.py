"""Friday noon: the Novgorod service's evaluation study receives a pseudonymised export.

The service must monitor its own effectiveness; the researchers get contacts and outcomes,
never names or case numbers: the case number becomes a keyed pseudonym of the study's own
domain (linkable inside the study, unlinkable elsewhere), names are dropped, and the
quasi-identifiers must leave every group at least k strong. With exact birth years the
check refuses the export; with ten-year age bands, dropping the few groups still under k,
it goes out (ENISA 2019; the extract itself is synthetic and never leaves a temp folder).
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from consentkit.demo.scenes.steps import supervisor
from consentkit.demo.stage import Group, SceneResult, Stage

__all__ = ["research_export"]

DOMAIN = "novgorod-evaluation-2026"
_COMMON = f"""version: 1
domain: {DOMAIN}
k: 5
columns:
  case_number: {{pseudonym: {{domain: {DOMAIN}}}}}
  name: drop
  sex: keep
  district: keep
  substance: keep
  contacts: keep
  outcome: keep
"""
#: First attempt: birth year as a quasi-identifier (too fine for a small regional service).
BY_BIRTH_YEAR = _COMMON + """  age: drop
  birth_date: {generalise: {date: year}}
quasi_identifiers: [birth_date, sex, district]
"""
#: Second attempt: ten-year age bands, the birth date dropped.
BY_AGE_BAND = _COMMON + """  age: {generalise: {age: 10, top: 50}}
  birth_date: drop
quasi_identifiers: [age, sex, district]
"""

_DISTRICTS = (("Великий Новгород", 6), ("Боровичи", 2), ("Старая Русса", 2), ("Валдай", 1), ("Пестово", 1))
_FIRST = ("Алексей", "Сергей", "Андрей", "Ольга", "Наталья", "Иван", "Мария", "Павел", "Елена", "Никита")
_LAST = ("Иванов", "Петров", "Соколов", "Кузнецов", "Попов", "Лебедев", "Козлов", "Новиков", "Морозов", "Фёдоров")


def _extract(path: Path, monday: date, rows: int = 400) -> None:
    """The service's synthetic extract: one row per client contacted this year."""
    pick = random.Random(152)  # noqa: S311 - reproducible synthetic data, not a secret
    districts = [name for name, weight in _DISTRICTS for _ in range(weight)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_number", "name", "birth_date", "age", "sex", "district", "substance", "contacts",
                         "outcome"])
        for number in range(1, rows + 1):
            age = pick.randint(18, 64)
            born = monday - timedelta(days=365 * age + pick.randint(0, 364))
            sex = "M" if pick.random() < 0.72 else "F"
            last = pick.choice(_LAST) + ("а" if sex == "F" else "")
            writer.writerow([f"NOV-{number:05}", f"{pick.choice(_FIRST)} {last}", born.isoformat(), age, sex,
                             pick.choice(districts), pick.choice(("opioids", "stimulants", "alcohol", "cannabis")),
                             pick.randint(1, 12), pick.choice(("referred", "in-contact", "dropped-out"))])


def research_export(stage: Stage) -> SceneResult:
    """Refused with birth years (groups under k), written with age bands and small groups suppressed."""
    stage.at(4, "12:00")
    kit = stage.as_(supervisor("novgorod"))
    folder = stage.folder("export")
    schemas = {}
    for name, text in (("schema-birth-year.yaml", BY_BIRTH_YEAR), ("schema-age-bands.yaml", BY_AGE_BAND)):
        schemas[name] = folder / name
        schemas[name].write_text(text, encoding="utf-8")
        stage.wrote(schemas[name], "export schema: what happens to each column", Group.EXPORT)
    out = folder / "novgorod-evaluation.csv"
    with tempfile.TemporaryDirectory(prefix="consentkit-demo-") as scratch:
        source = Path(scratch) / "novgorod-contacts.csv"
        _extract(source, stage.monday.date())
        first = kit.pseudonymise(source, schema=schemas["schema-birth-year.yaml"], out=out)
        second = kit.pseudonymise(source, schema=schemas["schema-age-bands.yaml"], out=out, suppress=True)
    if second.written:
        stage.wrote(out, f"pseudonymised export ({second.rows_written} rows, k reached {second.k_reached})",
                    Group.EXPORT)
    refused = first.kanon.groups_under_k if first.kanon else 0
    outcome = (f"written: {second.rows_written} rows, {second.suppressed} suppressed, k reached {second.k_reached}"
               if second.written else "refused again")
    return SceneResult(
        f"Research export · Novgorod evaluation study: with birth years {'written' if first.written else 'refused'} "
        f"({refused} groups under k=5); with 10-year age bands {outcome}; case numbers pseudonymised, names dropped",
        details=[f"first attempt (birth year, sex, district): written={first.written}, {refused} groups under k, "
                 f"audit entry {first.audit_id}",
                 f"second attempt (age band, sex, district, suppress): {outcome}, audit entry {second.audit_id}",
                 f"pseudonym domain {DOMAIN}: the same case number gives the same pseudonym inside the study only"],
        data={"first": first.to_json(), "second": second.to_json()})

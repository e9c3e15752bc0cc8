"""The organisation configuration: controller, DPO, public holidays, office hours, anomaly
thresholds and processing activities (GDPR Art. 30(1)), as a small validated YAML file.

The file format is documented in ``docs/reports.md`` and checked against
``organisation.schema.json``; every problem names its line and field, and every
vocabulary id is checked against the activity's policy pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentkit.errors import InvalidInputError, ValidationError
from consentkit.policy import PackLibrary
from consentkit.policy.source import parse_source

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["Activity", "OfficeHours", "Organisation", "load_organisation"]

#: What consentkit itself does to protect the data (Art. 30(1)(g), Art. 32(1)); the
#: organisation adds its own measures in the configuration.
BUILT_IN_MEASURES = (
    "security:per-subject-keys", "security:blind-index", "security:audit-chain", "security:roles",
    "security:pseudonyms", "security:key-files",
)


@dataclass(frozen=True)
class OfficeHours:
    """Working hours in local time; access outside them is flagged in the DPO report."""

    start: int = 7
    end: int = 19
    utc_offset_minutes: int = 0
    weekdays_only: bool = True


@dataclass(frozen=True)
class Activity:
    """One processing activity of the record of processing."""

    id: str
    name: str
    jurisdiction: str
    purposes: tuple[str, ...]
    data_subjects: tuple[str, ...]
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    transfers: tuple[Mapping[str, str], ...] = ()
    retention: str | None = None
    security_measures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Organisation:
    """The controller and its settings; :meth:`unset` when no file is given."""

    controller: Mapping[str, str]
    dpo: Mapping[str, str] | None = None
    representative: Mapping[str, str] | None = None
    joint_controllers: tuple[Mapping[str, str], ...] = ()
    holidays: frozenset[date] = frozenset()
    office_hours: OfficeHours = field(default_factory=OfficeHours)
    overrides_per_actor: int = 5
    reidentifications_per_actor: int = 10
    out_of_hours_per_actor: int = 0
    security_measures: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    configured: bool = True

    @classmethod
    def unset(cls) -> Organisation:
        """Defaults for an installation without a configuration file."""
        return cls(controller={}, configured=False)


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - deferred, as in policy.loader

    schema = json.loads(resources.files("consentkit.reports").joinpath("organisation.schema.json")
                        .read_text("utf-8"))
    return Draft202012Validator(schema)


def _plain(value: Any) -> Any:
    """YAML reads ``2026-01-01`` as a date; the schema checks text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_organisation(path: Path, packs: PackLibrary) -> Organisation:
    """Read, validate and check ``path`` against the packs; errors name line and field."""
    try:
        text = path.read_text("utf-8")
    except OSError as error:
        raise InvalidInputError(f"--org: cannot read {path.name} ({error.strerror or 'I/O error'})") from None
    source = parse_source(path.name, text)
    data = _plain(source.data)
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ValidationError(f"{path.name} does not match the organisation schema (docs/reports.md)",
                              tuple(f"{source.where(tuple(e.absolute_path))}: {e.message[:160]}"
                                    for e in errors[:20]))
    problems = list(_vocabulary_problems(data, packs, source.where))
    if problems:
        raise ValidationError(f"{path.name}: unknown ids", tuple(problems[:20]))
    hours = data.get("office_hours", {})
    anomalies = data.get("anomalies", {})
    return Organisation(
        controller=data["controller"], dpo=data.get("dpo"), representative=data.get("representative"),
        joint_controllers=tuple(data.get("joint_controllers", ())),
        holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays", ())),
        office_hours=OfficeHours(**hours),
        overrides_per_actor=anomalies.get("overrides_per_actor", 5),
        reidentifications_per_actor=anomalies.get("reidentifications_per_actor", 10),
        out_of_hours_per_actor=anomalies.get("out_of_hours_per_actor", 0),
        security_measures=tuple(data.get("security_measures", ())),
        activities=tuple(Activity(
            id=a["id"], name=a["name"], jurisdiction=a["jurisdiction"], purposes=tuple(a["purposes"]),
            data_subjects=tuple(a["data_subjects"]), categories=tuple(a["categories"]),
            recipients=tuple(a["recipients"]), transfers=tuple(a.get("transfers", ())),
            retention=a.get("retention"), security_measures=tuple(a.get("security_measures", ())))
            for a in data.get("activities", ())),
    )


def _vocabulary_problems(data: Mapping[str, Any], packs: PackLibrary, where: Any) -> list[str]:
    problems: list[str] = []
    known = packs.ids()
    for index, activity in enumerate(data.get("activities", ())):
        base: tuple[str | int, ...] = ("activities", index)
        if activity["jurisdiction"] not in known:
            problems.append(f"{where((*base, 'jurisdiction'))}: choose one of {', '.join(known)}")
            continue
        pack = packs.get(activity["jurisdiction"])
        for key, vocabulary in (("purposes", pack.purposes), ("categories", pack.categories),
                                ("recipients", pack.recipients)):
            for position, value in enumerate(activity[key]):
                if value not in vocabulary:
                    problems.append(f"{where((*base, key, position))}: {value} is not in pack "
                                    f"{pack.id}'s {key}")
    return problems

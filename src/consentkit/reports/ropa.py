"""Records of processing activities (GDPR Art. 30(1)(a)-(g)) as a view-model.

(a) comes from the organisation configuration; (b)-(e) from its activities (or, without a
configuration, from the purposes and recipients actually in use per jurisdiction); (f)
from each activity's retention text and the pack's retention rules with their citations;
(g) from consentkit's own measures plus the organisation's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consentkit.policy.model import Pack
from consentkit.reports.formats import format_datetime
from consentkit.reports.labels import names, page_language, report_labels, vocabulary
from consentkit.reports.organisation import BUILT_IN_MEASURES, Activity, Organisation

__all__ = ["SCHEMA_VERSION", "UsedScope", "ropa_report"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class UsedScope:
    """What the database shows in use for one jurisdiction (for a RoPA without configuration)."""

    jurisdiction: str
    subjects: int
    purposes: Sequence[str]
    recipients: Sequence[str]


def _text(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or ""


def _derived(used: Sequence[UsedScope], packs: Mapping[str, Pack], subjects_label: str) -> list[Activity]:
    return [Activity(id=f"{u.jurisdiction}-clients", name=packs[u.jurisdiction].name, jurisdiction=u.jurisdiction,
                     purposes=tuple(u.purposes), data_subjects=(subjects_label,),
                     categories=tuple(sorted(packs[u.jurisdiction].categories)), recipients=tuple(u.recipients))
            for u in used]


def ropa_report(org: Organisation, packs: Mapping[str, Pack], used: Sequence[UsedScope], *, lang: str,
                generated_at: datetime, generated_by: str) -> dict[str, Any]:
    """The record of processing's view-model (and JSON document)."""
    lang = page_language(lang)
    labels = report_labels(lang)
    name = vocabulary(lang)
    activities = list(org.activities) or _derived(used, packs, labels["default-subjects"])
    measures = [labels[m] for m in BUILT_IN_MEASURES]
    rows = []
    for activity in activities:
        pack = packs[activity.jurisdiction]
        retention = [{"text": _text(r.text, lang), "citation": r.cited.citation} for r in pack.retention]
        if activity.retention:
            retention.insert(0, {"text": activity.retention, "citation": ""})
        rows.append({
            "id": activity.id, "name": activity.name, "jurisdiction": activity.jurisdiction, "pack": pack.ref,
            "purposes": names(activity.purposes, name), "purpose_ids": list(activity.purposes),
            "data_subjects": list(activity.data_subjects),
            "categories": names(activity.categories, name), "category_ids": list(activity.categories),
            "recipients": names(activity.recipients, name), "recipient_ids": list(activity.recipients),
            "transfers": [dict(t) for t in activity.transfers],
            "retention": retention,
            "security_measures": [*measures, *org.security_measures, *activity.security_measures],
            "authority": {k: str(pack.supervisory_authority.get(k) or "") for k in ("name", "url")},
        })
    return {
        "report": "ropa", "schema_version": SCHEMA_VERSION, "lang": lang,
        "generated_at": generated_at.isoformat(), "generated_text": format_datetime(generated_at, lang),
        "generated_by": generated_by, "configured": org.configured,
        "controller": dict(org.controller) if org.controller else None,
        "representative": dict(org.representative) if org.representative else None,
        "joint_controllers": [dict(c) for c in org.joint_controllers],
        "dpo": dict(org.dpo) if org.dpo else None,
        "activities": rows,
    }

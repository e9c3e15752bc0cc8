"""The DPO's periodic review as a view-model, built from aggregations the database computed.

Sections: consents by purpose and jurisdiction; disclosures by basis; every override with
its justification and follow-up; denials; the subject-access register (due, overdue);
erasures and legal holds; audit integrity; anomalies (override and re-identification
counts per staff member above a threshold, record access out of office hours); retention
due; weekly (or monthly) trends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from consentkit.i18n import translator
from consentkit.reports.formats import format_date, format_datetime, format_number
from consentkit.reports.labels import fill, page_language, report_labels, vocabulary
from consentkit.reports.organisation import Organisation

__all__ = ["LIFECYCLE_ACTIONS", "SCHEMA_VERSION", "DpoFacts", "dpo_report"]

SCHEMA_VERSION = 1
Grouped = Sequence[tuple[tuple[str, ...], int]]

LIFECYCLE_ACTIONS = ("subject.erased", "subject.hold-placed", "subject.hold-released", "subject.erase-refused")
_DUE_SOON_DAYS = 7
_MONTHLY_AFTER_DAYS = 190


@dataclass(frozen=True)
class DpoFacts:
    """What the kit read for the period ``start``..``end`` (inclusive days)."""

    start: date
    end: date
    as_of: date
    consents_recorded: Grouped = ()
    consent_events: Grouped = ()
    consents_lapsed: Grouped = ()
    disclosures: Grouped = ()
    overrides: Sequence[Mapping[str, Any]] = ()
    denials: Grouped = ()
    requests: Sequence[Mapping[str, Any]] = ()
    lifecycle: Mapping[str, int] = field(default_factory=dict)
    erasures: Sequence[tuple[str, str, str]] = ()
    active_holds: int = 0
    integrity: Mapping[str, Any] = field(default_factory=dict)
    overrides_per_actor: Grouped = ()
    reidentifications_per_actor: Grouped = ()
    access_by_hour: Grouped = ()
    retention: Sequence[Mapping[str, Any]] = ()
    daily: Grouped = ()


class _Builder:
    def __init__(self, facts: DpoFacts, org: Organisation, lang: str) -> None:
        self.f, self.org = facts, org
        self.lang = page_language(lang)
        self.L = report_labels(self.lang)
        self.name = vocabulary(self.lang)
        self._ = translator(self.lang)

    def day(self, value: date | str | None) -> str:
        return format_date(value, self.lang)

    def num(self, value: int) -> str:
        return format_number(value, self.lang)

    def consents(self) -> list[dict[str, Any]]:
        table: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: {"granted": 0, "refused": 0, "withdrawn": 0, "revoked": 0, "expired": 0})
        for (jurisdiction, purpose, effect), n in self.f.consents_recorded:
            table[jurisdiction, purpose]["granted" if effect == "permit" else "refused"] += n
        for (jurisdiction, purpose, kind), n in self.f.consent_events:
            if kind in ("withdrawn", "revoked", "expired"):
                table[jurisdiction, purpose][kind] += n
        for (jurisdiction, purpose), n in self.f.consents_lapsed:
            table[jurisdiction, purpose]["expired"] += n
        return [{"jurisdiction": j, "purpose": p, "purpose_name": self.name(p), **counts}
                for (j, p), counts in sorted(table.items())]

    def disclosures(self) -> list[dict[str, Any]]:
        return [{"basis": basis, "basis_text": self.L["basis-override" if basis == "override" else "basis-consent"],
                 "decision": decision, "decision_text": self.L.get(f"decision-{decision}", decision),
                 "recipient_type": recipient, "recipient_name": self.name(recipient), "count": n}
                for (basis, decision, recipient), n in sorted(self.f.disclosures)]

    def overrides(self) -> list[dict[str, Any]]:
        rows = []
        for use in self.f.overrides:
            inform_by = use.get("inform_by")
            informed = use.get("subject_informed_at")
            rows.append({
                "disclosure_id": use["disclosure_id"], "subject_id": use["subject_id"],
                "jurisdiction": use["jurisdiction"], "override_id": use["override_id"],
                "used_at": use["used_at"], "used_text": format_datetime(use["used_at"], self.lang),
                "mandatory": bool(use["mandatory"]), "actor": use["actor"], "approver": use.get("approver"),
                "justification": use.get("justification"), "reference": use.get("reference"),
                "review_status": use["review_status"],
                "review_text": self.L.get(f"review-{use['review_status']}", use["review_status"]),
                "review_outcome": use.get("review_outcome"), "reviewed_by": use.get("reviewed_by"),
                "subject_informed": informed is not None, "informed_on": informed[:10] if informed else None,
                "inform_by": inform_by[:10] if inform_by else None, "inform_by_text": self.day(inform_by),
                "inform_overdue": bool(inform_by and informed is None and inform_by[:10] < self.f.as_of.isoformat()),
            })
        return rows

    def denials(self) -> list[dict[str, Any]]:
        totals: dict[tuple[str, str, str], int] = defaultdict(int)
        for (_day, outcome, purpose, recipient), n in self.f.denials:
            totals[outcome, purpose, recipient] += n
        return [{"outcome": outcome, "outcome_text": self.L.get(f"outcome-{outcome}", outcome),
                 "purpose": purpose, "purpose_name": self.name(purpose), "recipient_type": recipient,
                 "recipient_name": self.name(recipient), "count": n}
                for (outcome, purpose, recipient), n in sorted(totals.items())]

    def requests(self) -> dict[str, Any]:
        today = self.f.as_of.isoformat()
        soon = (self.f.as_of + timedelta(days=_DUE_SOON_DAYS)).isoformat()
        rows, counts = [], {"open": 0, "overdue": 0, "due_soon": 0, "closed": 0, "closed_late": 0}
        for r in self.f.requests:
            deadline = r.get("extended_to") or r["due_on"]
            is_open = r["status"] == "open"
            overdue = is_open and deadline < today
            late = not is_open and (r.get("closed_on") or "") > deadline
            counts["open"] += is_open
            counts["overdue"] += overdue
            counts["due_soon"] += is_open and not overdue and deadline <= soon
            counts["closed"] += not is_open
            counts["closed_late"] += late
            rows.append({**{k: r.get(k) for k in ("request_id", "subject_id", "jurisdiction", "received_on",
                                                   "due_on", "extended_to", "status", "closed_on", "outcome")},
                         "received_text": self.day(r["received_on"]), "deadline": deadline,
                         "deadline_text": self.day(deadline), "closed_text": self.day(r.get("closed_on")),
                         "overdue": overdue, "late": late})
        return {"counts": counts, "rows": rows}

    def lifecycle(self) -> dict[str, Any]:
        count = {a.removeprefix("subject."): self.f.lifecycle.get(a, 0) for a in LIFECYCLE_ACTIONS}
        return {"counts": count, "active_holds": self.f.active_holds,
                "erasures": [{"subject_id": s, "date": ts[:10], "date_text": self.day(ts), "ground": g}
                             for s, ts, g in self.f.erasures]}

    def anomalies(self) -> dict[str, Any]:
        hours = self.org.office_hours
        outside: dict[str, int] = defaultdict(int)
        offset = timedelta(minutes=hours.utc_offset_minutes)
        for (actor, hour), n in self.f.access_by_hour:
            local = datetime.fromisoformat(f"{hour}:00:00") + offset
            if not hours.start <= local.hour < hours.end or (hours.weekdays_only and local.weekday() >= 5):
                outside[actor] += n
        sign = "+" if hours.utc_offset_minutes >= 0 else "-"
        minutes = abs(hours.utc_offset_minutes)
        return {
            "overrides_threshold": self.org.overrides_per_actor,
            "overrides": [{"actor": a, "count": n} for (a,), n in sorted(self.f.overrides_per_actor, key=_by_count)
                          if n > self.org.overrides_per_actor],
            "reidentifications_threshold": self.org.reidentifications_per_actor,
            "reidentifications": [{"actor": a, "count": n}
                                  for (a,), n in sorted(self.f.reidentifications_per_actor, key=_by_count)
                                  if n > self.org.reidentifications_per_actor],
            "out_of_hours": [{"actor": a, "count": n} for a, n in sorted(outside.items(), key=lambda i: (-i[1], i[0]))
                             if n > self.org.out_of_hours_per_actor],
            "overrides_title": fill(self.L["anomalies-overrides"], {"n": self.org.overrides_per_actor}),
            "reidentifications_title": fill(self.L["anomalies-reid"], {"n": self.org.reidentifications_per_actor}),
            "out_of_hours_title": fill(self.L["anomalies-hours"], {
                "start": f"{hours.start:02d}", "end": f"{hours.end:02d}",
                "offset": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"}),
        }

    def trends(self) -> dict[str, Any]:
        start, end = self.f.start, self.f.end
        monthly = (end - start).days > _MONTHLY_AFTER_DAYS
        buckets: list[date] = []
        cursor = start.replace(day=1) if monthly else start - timedelta(days=start.weekday())
        while cursor <= end:
            buckets.append(cursor)
            cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1) if monthly else cursor + timedelta(7)
        series = {key: [0] * len(buckets) for key in ("granted", "withdrawn", "disclosed", "overrides", "denied")}
        for (day, key), n in self.f.daily:
            series[key][_bucket(buckets, date.fromisoformat(day))] += n
        for (day, outcome, _purpose, _recipient), n in self.f.denials:
            if outcome == "deny":
                series["denied"][_bucket(buckets, date.fromisoformat(day))] += n
        return {"unit": "month" if monthly else "week", "buckets": [b.isoformat() for b in buckets],
                "bucket_texts": [self.day(b) for b in buckets], "series": series,
                "series_names": {k: self.L[f"series-{k}"] for k in series}}


def _by_count(item: tuple[tuple[str, ...], int]) -> tuple[int, tuple[str, ...]]:
    return -item[1], item[0]


def _bucket(buckets: list[date], day: date) -> int:
    index = 0
    for position, start in enumerate(buckets):
        if start <= day:
            index = position
    return index


def dpo_report(facts: DpoFacts, org: Organisation, *, lang: str, generated_at: datetime,
               generated_by: str) -> dict[str, Any]:
    """The DPO report's view-model (and JSON document)."""
    b = _Builder(facts, org, lang)
    integrity = dict(facts.integrity)
    last = integrity.get("last_checkpoint")
    if last:
        integrity["last_checkpoint"] = {**last, "created_text": format_datetime(last["created_at"], b.lang)}
    integrity["size_text"] = b.num(int(integrity.get("size", 0)))
    return {
        "report": "dpo", "schema_version": SCHEMA_VERSION, "lang": b.lang,
        "generated_at": generated_at.isoformat(), "generated_text": format_datetime(generated_at, b.lang),
        "generated_by": generated_by,
        "period": {"from": facts.start.isoformat(), "to": facts.end.isoformat(),
                   "from_text": b.day(facts.start), "to_text": b.day(facts.end), "as_of": facts.as_of.isoformat()},
        "controller": dict(org.controller) if org.controller else None,
        "consents": b.consents(), "disclosures": b.disclosures(), "overrides": b.overrides(),
        "denials": b.denials(), "requests": b.requests(), "lifecycle": b.lifecycle(), "integrity": integrity,
        "anomalies": b.anomalies(),
        "retention_due": [{**r, "cutoff_text": b.day(r["cutoff"])} for r in facts.retention],
        "trends": b.trends(),
    }

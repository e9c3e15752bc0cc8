"""The subject access report as a view-model: plain data built from what the kit read.

It covers GDPR Art. 15(1)(a)-(h) (and, for Russian packs, 152-FZ art. 14(7)(1)-(11)):
confirmation and the data held by category, purposes, recipients with the accounting of
every disclosure (overrides the pack marks ``subject_access: restricted`` are left out,
GDPR Art. 23 / 152-FZ art. 14(8)), every consent with its history and receipt ids, the
storage period, the rights and the supervisory authority, the source, automated
decisions, and the deadline of the request by the pack's clock.

Free text (reasons recorded with a withdrawal) passes through ``redact`` so that other
people's names do not reach the subject (GDPR Art. 15(4)). The model is the JSON output
as it is, and what the templates read (with the labels beside it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from consentkit.clock import last_day
from consentkit.consent.model import ConsentEvent, ConsentGrant
from consentkit.i18n import translator
from consentkit.policy.model import Pack
from consentkit.reports.deadline import DeadlineRule
from consentkit.reports.formats import format_date, format_datetime
from consentkit.reports.labels import fill, names, page_language, report_labels, vocabulary
from consentkit.reports.organisation import Organisation
from consentkit.subjects import PersonalData

__all__ = ["ACCESS_ACTIONS", "SCHEMA_VERSION", "ConsentFacts", "DisclosureFacts", "RequestFacts",
           "SubjectFacts", "deadline_rule", "subject_report"]

SCHEMA_VERSION = 1

#: Audit actions shown to the subject as uses of their record. Decisions and overrides are
#: not here: permitted disclosures are listed one by one (restricted ones must not show
#: even as a count), and denied requests disclose nothing.
ACCESS_ACTIONS = ("subject.viewed", "consent.viewed", "consent.listed", "disclosure.listed",
                  "consent.receipt-issued", "report.subject")

_GDPR_ITEMS = (("a", "purposes"), ("b", "data-held"), ("c", "recipients"), ("d", "retention"), ("e", "rights"),
               ("f", "authority"), ("g", "source"), ("h", "automated"))
_FZ_ITEMS = (("1", "data-held"), ("2", "purposes"), ("3", "processing"), ("4", "recipients"), ("5", "source"),
             ("6", "retention"), ("7", "rights"), ("8", "transfers"), ("9", "processing"), ("10", "processing"),
             ("11", "access-log"))
_RIGHTS = ("rectification", "erasure", "restriction", "objection", "withdraw", "complaint")


@dataclass(frozen=True)
class ConsentFacts:
    """A consent as read: grant, status now, events with their (decrypted) reasons, receipts."""

    grant: ConsentGrant
    status: str
    events: Sequence[tuple[ConsentEvent, str | None]] = ()
    receipt_ids: Sequence[str] = ()


@dataclass(frozen=True)
class DisclosureFacts:
    """One entry of the accounting of disclosures."""

    decided_at: str
    recipient_type: str
    recipient_id: str | None
    purpose: str
    categories: Sequence[str]
    decision: str
    basis: str
    override_id: str | None


@dataclass(frozen=True)
class RequestFacts:
    """The subject-access request being answered."""

    received_on: date
    request_id: str | None = None
    extended_to: date | None = None


@dataclass(frozen=True)
class SubjectFacts:
    """Everything the kit read about one subject, decrypted."""

    subject_id: str
    jurisdiction: str
    created_at: str
    erased_at: str | None
    person: PersonalData | None
    consents: Sequence[ConsentFacts] = ()
    disclosures: Sequence[DisclosureFacts] = ()
    access: Sequence[tuple[str, int, str, str]] = ()
    audit_events: int = 0
    request: RequestFacts | None = None
    third_party_names: Sequence[str] = field(default=())


def deadline_rule(pack: Pack) -> DeadlineRule | None:
    """The pack's subject-access deadline; EU packs roll a period forward to a working day."""
    sar = pack.subject_access
    if sar is None:
        return None
    return DeadlineRule(sar.amount, sar.unit, sar.extension_amount, sar.extension_unit, sar.cited.citation,
                        roll_to_working_day="eu-gdpr" in pack.chain)


def _text(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


class _Builder:
    """Holds the language, labels and pack while the sections are built."""

    def __init__(self, facts: SubjectFacts, pack: Pack, org: Organisation, lang: str,
                 redact: Callable[[str], str]) -> None:
        self.facts, self.pack, self.org, self.redact = facts, pack, org, redact
        self.lang = page_language(lang)
        self.L = report_labels(self.lang)
        self.name = vocabulary(self.lang)
        self._ = translator(self.lang)

    def day(self, value: date | str | None) -> str:
        return format_date(value, self.lang)

    def request(self) -> dict[str, Any] | None:
        request, rule = self.facts.request, deadline_rule(self.pack)
        if request is None or rule is None:
            return None
        due = rule.due(request.received_on, self.org.holidays)
        extended = rule.extended(request.received_on, self.org.holidays)
        extension = fill(self.L["extension"], {"date": self.day(extended)}) if extended else None
        if request.extended_to is not None:  # already extended: that is the deadline now
            due = request.extended_to
            extension = fill(self.L["extension-used"], {"date": self.day(due)})
        unit = self.L[f"unit-{rule.unit}"]
        return {
            "request_id": request.request_id, "received_on": request.received_on.isoformat(),
            "received_text": self.day(request.received_on), "due_on": due.isoformat(), "due_text": self.day(due),
            "extended_to": request.extended_to.isoformat() if request.extended_to else None,
            "extended_text": self.day(request.extended_to),
            "rule_text": fill(self.L["due-rule"], {"amount": rule.amount, "unit": unit}), "citation": rule.citation,
            "extension_text": extension,
        }

    def data_held(self) -> list[dict[str, Any]]:
        person = self.facts.person
        if person is None:
            return []
        identity = [(self.L["field-name"], person.name)]
        if person.other_names:
            identity.append((self.L["field-other-names"], ", ".join(person.other_names)))
        identity.append((self.L["field-birth-date"], self.day(person.birth_date)))
        if person.national_id:
            identity.append((self.L["field-national-id"], f"{person.national_id} ({person.national_id_type})"))
        sections = [{"category": "identity", "name": self.name("identity"),
                     "items": [{"label": k, "value": v} for k, v in identity]}]
        if person.contact:
            sections.append({"category": "contact", "name": self.name("contact"),
                             "items": [{"label": self.L["field-contact"], "value": person.contact}]})
        visible = self.visible_disclosures()
        shared = sorted({c for d in visible for c in d.categories}
                        | {c for item in self.facts.consents for c in item.grant.scope.categories})
        records = (f"{len(self.facts.consents)} {self.L['field-consents']}, "
                   f"{len(visible)} {self.L['field-disclosures']}, "
                   f"{self.facts.audit_events} {self.L['field-audit']}")
        sections.append({"category": "records", "name": self.L["field-records"], "items": [
            {"label": self.L["field-registered"], "value": self.day(self.facts.created_at)},
            {"label": self.L["categories"], "value": ", ".join(names(shared, self.name)) or self.L["none"]},
            {"label": self.L["count"], "value": records}]})
        return sections

    def visible_disclosures(self) -> list[DisclosureFacts]:
        """The disclosures the subject's copy shows: restricted overrides leave no trace at all
        (not in the list, the count or the categories shared)."""
        return [item for item in self.facts.disclosures if not self._restricted(item)]

    def _restricted(self, item: DisclosureFacts) -> bool:
        override = self.pack.overrides.get(item.override_id) if item.override_id else None
        return override is not None and override.subject_access == "restricted"

    def disclosures(self) -> list[dict[str, Any]]:
        rows = []
        for item in self.visible_disclosures():
            override = self.pack.overrides.get(item.override_id) if item.override_id else None
            rows.append({
                "date": item.decided_at[:10], "date_text": self.day(item.decided_at),
                "recipient_type": item.recipient_type, "recipient_name": self.name(item.recipient_type),
                "recipient_id": item.recipient_id, "purpose": item.purpose, "purpose_name": self.name(item.purpose),
                "categories": list(item.categories), "category_names": names(item.categories, self.name),
                "basis": item.basis, "basis_text": self.L["basis-override" if item.basis == "override"
                                                         else "basis-consent"],
                "override": None if override is None else {
                    "id": override.id, "title": _text(override.title, self.lang), "citation": override.cited.citation},
                "decision": item.decision, "decision_text": self.L.get(f"decision-{item.decision}", item.decision),
            })
        return rows

    def consents(self) -> list[dict[str, Any]]:
        rows = []
        for item in self.facts.consents:
            g = item.grant
            history = [{"kind": "granted", "date": g.recorded_at.date().isoformat(),
                        "date_text": self.day(g.recorded_at), "text": self.L["event-granted"], "reason": None}]
            for event, reason in item.events:
                history.append({"kind": event.kind.value, "date": event.at.date().isoformat(),
                                "date_text": self.day(event.at), "text": self.L[f"event-{event.kind.value}"],
                                "reason": self.redact(reason) if reason else None})
            rows.append({
                "consent_id": g.consent_id, "effect": g.effect.value, "effect_text": self.L[f"effect-{g.effect.value}"],
                "status": item.status, "status_text": self._(f"receipt:status-{item.status}"),
                "recipients": [self.name(r.type) + (f" ({r.id})" if r.id else "") for r in g.scope.recipients],
                "purposes": names(sorted(g.scope.purposes), self.name),
                "categories": names(sorted(g.scope.categories), self.name),
                "valid_from": g.valid_from.date().isoformat(), "valid_from_text": self.day(g.valid_from),
                "valid_until": last_day(g.valid_until).isoformat() if g.valid_until else None,
                "valid_until_text": self.day(last_day(g.valid_until)) if g.valid_until else self.L["until-further"],
                "grantor": g.grantor.value, "grantor_text": self._(f"receipt:grantor-{g.grantor.value}"),
                "form": g.form.value, "form_text": self._(f"receipt:form-{g.form.value}"),
                "receipt_ids": list(item.receipt_ids), "history": history,
            })
        return rows

    def purposes(self, disclosures: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counted = Counter(d["purpose"] for d in disclosures)
        consented = {p for c in self.facts.consents if c.grant.effect.value == "permit" for p in c.grant.scope.purposes}
        return [{"purpose": p, "name": self.name(p), "consented": p in consented, "disclosures": counted[p]}
                for p in sorted(consented | set(counted))]

    def recipients(self, disclosures: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counted = Counter(d["recipient_type"] for d in disclosures)
        last = {d["recipient_type"]: d["date"] for d in disclosures}
        consented = {r.type for c in self.facts.consents if c.grant.effect.value == "permit"
                     for r in c.grant.scope.recipients}
        return [{"recipient_type": r, "name": self.name(r), "consented": r in consented, "disclosures": counted[r],
                 "last_on": last.get(r), "last_text": self.day(last.get(r))}
                for r in sorted(consented | set(counted))]

    def retention(self) -> list[dict[str, Any]]:
        rows = [{"id": r.id, "text": _text(r.text, self.lang), "citation": r.cited.citation}
                for r in self.pack.retention]
        rows += [{"id": a.id, "text": a.retention, "citation": a.name} for a in self.org.activities
                 if a.jurisdiction == self.pack.id and a.retention]
        return rows

    def transfers(self) -> list[dict[str, str]]:
        return [{"country": t["country"], "safeguard": t["safeguard"]} for a in self.org.activities
                if a.jurisdiction == self.pack.id for t in a.transfers]

    def access_log(self) -> list[dict[str, Any]]:
        return [{"action": action, "text": self.L.get(f"action-{action}", action), "count": count,
                 "first_text": self.day(first), "last_text": self.day(last)}
                for action, count, first, last in self.facts.access]


def _contact(data: Mapping[str, str] | None) -> dict[str, str] | None:
    return {k: str(v) for k, v in data.items()} if data else None


def subject_report(facts: SubjectFacts, pack: Pack, org: Organisation, *, lang: str, generated_at: datetime,
                   generated_by: str, redact: Callable[[str], str]) -> dict[str, Any]:
    """The subject access report's view-model (and JSON document)."""
    b = _Builder(facts, pack, org, lang, redact)
    erased = facts.erased_at is not None
    disclosures = [] if erased else b.disclosures()
    fz = "ru" in pack.chain
    authority = {k: str(pack.supervisory_authority.get(k) or "") for k in ("name", "url", "citation")}
    return {
        "report": "subject-access", "schema_version": SCHEMA_VERSION, "lang": b.lang,
        "generated_at": generated_at.isoformat(), "generated_text": format_datetime(generated_at, b.lang),
        "generated_by": generated_by,
        "subject": {"subject_id": facts.subject_id, "jurisdiction": facts.jurisdiction, "pack": pack.ref,
                    "status": "erased" if erased else "active",
                    "erased_on": facts.erased_at[:10] if facts.erased_at else None},
        "erased_text": fill(b.L["erased-text"], {"date": b.day(facts.erased_at)}) if erased else None,
        # The pack's DPO entry is a placeholder for the operator, not a contact to show a client.
        "controller": _contact(org.controller), "dpo": _contact(org.dpo),
        "request": b.request(),
        "data_held": [] if erased else b.data_held(),
        "purposes": [] if erased else b.purposes(disclosures),
        "recipients": [] if erased else b.recipients(disclosures),
        "disclosures": disclosures,
        "consents": [] if erased else b.consents(),
        "retention": b.retention(),
        "rights": [b.L[f"right-{r}"] for r in _RIGHTS],
        "authority": authority,
        "source_text": fill(b.L["source-text"], {"date": b.day(facts.created_at)}),
        "automated_text": fill(b.L["automated-text"], {"pack": pack.ref}),
        "transfers": b.transfers(),
        "access_log": [] if erased else b.access_log(),
        "gdpr_items": [{"code": code, "label": b.L[f"gdpr-{code}"], "section": section}
                       for code, section in _GDPR_ITEMS],
        "fz_items": [{"code": code, "label": b.L[f"fz-{code}"], "section": section}
                     for code, section in _FZ_ITEMS] if fz else [],
    }

"""Use cases that produce reports: subject access, the DPO review, records of processing.

Each one reads what it needs (the DPO report through SQL aggregations), builds a plain
view-model, renders it, and records who produced which report about whom or which period,
in which format and language, in the audit trail. The audit event and the output file go
together: the file is written (atomically) inside the transaction that appends the event,
so a failed write leaves neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent
from consentkit.clock import format_instant
from consentkit.consent.state import state_at
from consentkit.consent.validate import guardian_age
from consentkit.errors import InvalidInputError, NotFoundError
from consentkit.keys import open_sealed
from consentkit.kit._audit import AuditOps
from consentkit.kit._files import atomic_write
from consentkit.kit._sar import AccessRequestOps
from consentkit.reports import dpo as dpo_model
from consentkit.reports import ropa as ropa_model
from consentkit.reports import subject as subject_model
from consentkit.reports.labels import page_language
from consentkit.reports.output import render_report
from consentkit.reports.redaction import redactor
from consentkit.storage import Tx
from consentkit.storage.reporting import Count, Period, ReportQueries
from consentkit.storage.sar import AccessRequest, AccessRequestRepository
from consentkit.storage.subjects import StoredSubject
from consentkit.subjects import PersonalData, personal_aad

__all__ = ["Report", "ReportOps"]

_OVERRIDES_SHOWN = 5000
_ERASURES_SHOWN = 500
_RETENTION_SAMPLE = 20


@dataclass(frozen=True)
class Report:
    """A rendered report: the content (``bytes`` for PDF), where it was written, its audit id."""

    kind: str
    format: str
    lang: str
    content: str | bytes = field(repr=False)
    path: Path | None
    audit_id: int
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What ``--json`` prints (never the content: it holds personal data)."""
        return {"report": self.kind, "format": self.format, "lang": self.lang,
                "path": str(self.path) if self.path else None, "audit_id": self.audit_id, **self.summary}


def _years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _grouped(counts: list[Count]) -> list[tuple[tuple[str, ...], int]]:
    return [(c.key, c.count) for c in counts]


class ReportOps(AccessRequestOps, AuditOps):
    """Subject access, DPO and records-of-processing reports."""

    # -- subject access -------------------------------------------------------------------

    def report_subject(self, subject_id: str, *, lang: str | None = None, fmt: str = "html",
                       out: Path | None = None, request_id: str | None = None, received: date | None = None,
                       organisation: Path | None = None, section: str | None = None) -> Report:
        """The answer to a subject-access request, in the subject's language unless ``lang`` says."""
        org = self.organisation(organisation)
        now = self.clock.now()
        with self.store.write() as tx:
            self._require(tx, Permission.REPORT_SUBJECT)
            stored = self._subject(tx, subject_id)
            pack = self.packs.get(stored.jurisdiction)
            language = page_language(lang or stored.language)
            facts = self._subject_facts(tx, stored, now, self._request(tx, stored.subject_id, request_id, received))
            model = subject_model.subject_report(
                facts, pack, org, lang=language, generated_at=now, generated_by=self.actor,
                redact=redactor(stored.language, facts.third_party_names))
            content = render_report("subject", model, fmt, templates_dir=self._templates(), section=section)
            withheld = sum(1 for d in facts.disclosures if d.override_id) - sum(
                1 for d in model["disclosures"] if d["override"])
            request = model["request"]
            record = self._audit(tx, AuditEvent("report.subject", stored.subject_id, details={
                "format": fmt, "lang": language, "request": request["request_id"] if request else None,
                "disclosures": len(model["disclosures"]), "withheld": withheld}))
            self._write(out, content)
        # Names consentkit does not hold (a brother named in a withdrawal reason) are not
        # recognised: whoever sends the copy reads these passages first.
        free_texts = sum(1 for c in model["consents"] for h in c["history"] if h["reason"])
        return Report("subject", fmt, language, content, out, record.seq, {
            "subject_id": stored.subject_id, "status": model["subject"]["status"],
            "due": model["request"]["due_on"] if model["request"] else None, "free_texts_to_read": free_texts})

    def _request(self, tx: Tx, subject_id: str, request_id: str | None,
                 received: date | None) -> subject_model.RequestFacts | None:
        repo = AccessRequestRepository(tx.conn)
        request: AccessRequest | None = None
        if request_id is not None:
            request = repo.get(request_id)
            if request is None or request.subject_id != subject_id:
                raise NotFoundError(f"no subject-access request {request_id} for this subject (`consentkit sar list`)")
        elif received is None:
            open_ones = repo.find(status="open", subject_id=subject_id, limit=1)
            request = open_ones[0] if open_ones else None
        if request is not None:
            return subject_model.RequestFacts(
                date.fromisoformat(request.received_on), request.request_id,
                date.fromisoformat(request.extended_to) if request.extended_to else None)
        return subject_model.RequestFacts(received) if received is not None else None

    def _subject_facts(self, tx: Tx, stored: StoredSubject, now: datetime,
                       request: subject_model.RequestFacts | None) -> subject_model.SubjectFacts:
        sid = stored.subject_id
        if stored.erased_at or stored.wrapped is None:
            return subject_model.SubjectFacts(sid, stored.jurisdiction, stored.created_at, stored.erased_at, None,
                                              request=request)
        data_key = self._data_key(stored)
        aad = personal_aad(sid)
        person = PersonalData.from_bytes(open_sealed(data_key, stored.personal, aad)) if stored.personal else None
        pack = self.packs.get(stored.jurisdiction)
        grants = tx.consents.for_subjects([sid])[sid]
        events = tx.consents.events([c.grant.consent_id for c in grants])
        queries = ReportQueries(tx.conn)
        receipts = queries.receipts(sid)
        third_parties: list[str] = []
        consents = []
        for item in grants:
            if item.personal is not None:
                names = json.loads(open_sealed(data_key, item.personal, aad))
                third_parties += [n for n in (names.get("grantor_name"), names.get("witness")) if n]
            history = [(e, open_sealed(data_key, sealed, aad).decode() if sealed else None)
                       for e, sealed in events[item.grant.consent_id]]
            state = state_at(item.grant, [e for e, _ in history], now,
                             birth_date=person.birth_date if person else None,
                             self_consent_age=guardian_age(pack, item.grant),
                             at_self_consent_age=pack.consent.at_self_consent_age)
            consents.append(subject_model.ConsentFacts(item.grant, state.status.value, history,
                                                       receipts.get(item.grant.consent_id, [])))
        disclosures = [subject_model.DisclosureFacts(d.decided_at, d.recipient_type, d.recipient_id, d.purpose,
                                                     d.categories, d.decision, d.basis, d.override_id)
                       for d in tx.disclosures.for_subject(sid)]
        return subject_model.SubjectFacts(
            sid, stored.jurisdiction, stored.created_at, None, person, consents=consents, disclosures=disclosures,
            access=queries.subject_actions(sid, subject_model.ACCESS_ACTIONS),
            audit_events=queries.subject_event_count(sid), request=request, third_party_names=third_parties)

    # -- DPO review -------------------------------------------------------------------------

    def report_dpo(self, start: date, end: date, *, lang: str = "en", fmt: str = "html", out: Path | None = None,
                   organisation: Path | None = None, section: str | None = None) -> Report:
        """The DPO's review of ``start``..``end`` (both days included)."""
        if end < start:
            raise InvalidInputError("--to: must not be before --from")
        if end >= date.max:
            raise InvalidInputError("--to: must be before 9999-12-31 (the period ends at the start of the next day)")
        org = self.organisation(organisation)
        now = self.clock.now()
        with self.store.read() as tx:
            self._require(tx, Permission.REPORT_DPO)
        verification = self.verify_audit_for_report()
        period = Period(format_instant(datetime.combine(start, time(), UTC)),
                        format_instant(datetime.combine(end + timedelta(days=1), time(), UTC)))
        with self.store.read(snapshot=True) as tx:
            facts = self._dpo_facts(tx, period, start, end, now.date(), verification)
        language = page_language(lang)
        model = dpo_model.dpo_report(facts, org, lang=language, generated_at=now, generated_by=self.actor)
        content = render_report("dpo", model, fmt, templates_dir=self._templates(), section=section)
        with self.store.write() as tx:
            record = self._audit(tx, AuditEvent("report.dpo", details={
                "from": start.isoformat(), "to": end.isoformat(), "format": fmt, "lang": language,
                "overrides": len(model["overrides"]), "integrity": "ok" if verification["ok"] else "damaged"}))
            self._write(out, content)
        return Report("dpo", fmt, language, content, out, record.seq, {
            "from": start.isoformat(), "to": end.isoformat(), "integrity_ok": verification["ok"],
            "overdue_requests": model["requests"]["counts"]["overdue"]})

    def verify_audit_for_report(self) -> dict[str, Any]:
        """The verification result and the last signed checkpoint, as report data."""
        result = self.verify_audit()
        newest = result.newest_checkpoint
        damage = result.damage
        return {
            "ok": result.ok, "size": result.size, "root": result.root, "checkpoints": result.checkpoints,
            "damage_kind": damage.kind if damage else None, "damage_message": damage.message if damage else None,
            "last_checkpoint": None if newest is None else {
                "size": newest.size, "root": newest.root, "signer_kid": newest.signer_kid,
                "created_at": newest.created_at},
        }

    def _dpo_facts(self, tx: Tx, period: Period, start: date, end: date, today: date,
                   integrity: dict[str, Any]) -> dpo_model.DpoFacts:
        q = ReportQueries(tx.conn)
        requests = [r.__dict__ for r in AccessRequestRepository(tx.conn).find(
            received_before=(end + timedelta(days=1)).isoformat(), limit=100_000)
            if r.status == "open" or (r.closed_on or "") >= start.isoformat() or r.received_on >= start.isoformat()]
        return dpo_model.DpoFacts(
            start=start, end=end, as_of=today,
            consents_recorded=_grouped(q.consents_recorded(period)),
            consent_events=_grouped(q.consent_events(period)),
            consents_lapsed=_grouped(q.consents_lapsed(period)),
            disclosures=_grouped(q.disclosures(period)),
            overrides=[self._override_details(tx, use) for use in q.override_uses(period, limit=_OVERRIDES_SHOWN)],
            denials=_grouped(q.denials(period)), requests=requests,
            lifecycle={c.key[0]: c.count for c in q.lifecycle(period, dpo_model.LIFECYCLE_ACTIONS)},
            erasures=q.erasures(period, limit=_ERASURES_SHOWN), active_holds=q.active_holds(),
            integrity=integrity,
            overrides_per_actor=_grouped(q.overrides_per_actor(period)),
            reidentifications_per_actor=_grouped(q.actions_per_actor(period, "pseudonym.reidentified")),
            access_by_hour=_grouped(q.record_access_by_hour(period)),
            retention=self._retention_due(q, today),
            daily=_grouped(q.daily(period)),
        )

    def _override_details(self, tx: Tx, use: dict[str, Any]) -> dict[str, Any]:
        row = {k: v for k, v in use.items() if k != "details_sealed"}
        row.update(justification=None, reference=None)
        sealed = use.get("details_sealed")
        if sealed is None or use.get("erased"):
            return row
        stored = tx.subjects.get(use["subject_id"])
        if stored is None or stored.wrapped is None:
            return row
        data = json.loads(open_sealed(self._data_key(stored), bytes(sealed), personal_aad(stored.subject_id)))
        row.update(justification=data.get("justification"), reference=data.get("reference"))
        return row

    def _retention_due(self, q: ReportQueries, today: date) -> list[dict[str, Any]]:
        due = []
        for group in q.jurisdictions():
            jurisdiction = group.key[0]
            for rule in self.packs.get(jurisdiction).retention:
                if rule.start not in ("last-entry", "creation") or not (rule.years or rule.days):
                    continue  # periods from "purpose achieved" or "consent end" need facts outside the database
                cutoff = _years_before(today, rule.years or 0) - timedelta(days=rule.days or 0)
                count, sample = q.last_entries(jurisdiction, before=format_instant(
                    datetime.combine(cutoff, time(), UTC)), from_creation=rule.start == "creation",
                    limit=_RETENTION_SAMPLE)
                if count:
                    due.append({"jurisdiction": jurisdiction, "rule": rule.id, "citation": rule.cited.citation,
                                "cutoff": cutoff.isoformat(), "subjects": count, "sample": sample})
        return due

    # -- records of processing ------------------------------------------------------------

    def report_ropa(self, *, lang: str = "en", fmt: str = "html", out: Path | None = None,
                    organisation: Path | None = None, section: str | None = None) -> Report:
        """The record of processing activities (GDPR Art. 30(1)) from the packs and the configuration."""
        org = self.organisation(organisation)
        now = self.clock.now()
        with self.store.read() as tx:
            self._require(tx, Permission.REPORT_DPO)
            q = ReportQueries(tx.conn)
            used = [ropa_model.UsedScope(g.key[0], g.count, **q.distinct_scope(g.key[0])) for g in q.jurisdictions()]
        wanted = {a.jurisdiction for a in org.activities} | {u.jurisdiction for u in used}
        packs = {j: self.packs.get(j) for j in sorted(wanted)}
        language = page_language(lang)
        model = ropa_model.ropa_report(org, packs, used, lang=language, generated_at=now, generated_by=self.actor)
        content = render_report("ropa", model, fmt, templates_dir=self._templates(), section=section)
        with self.store.write() as tx:
            record = self._audit(tx, AuditEvent("report.ropa", details={
                "format": fmt, "lang": language, "activities": len(model["activities"]),
                "configured": org.configured}))
            self._write(out, content)
        return Report("ropa", fmt, language, content, out, record.seq, {"activities": len(model["activities"])})

    # -- shared ---------------------------------------------------------------------------

    def _templates(self) -> Path | None:
        return self.settings.templates_dir if self.settings is not None else None

    @staticmethod
    def _write(out: Path | None, content: str | bytes) -> None:
        if out is None:
            return
        atomic_write(out, [content])  # text, or the bytes of a PDF


"""Reports: the subject access report of a busy client, and the DPO report over a large log.

* Subject access: one client with 10,000 audit events about them and 1,000 disclosures
  (target under 1 s), beside the bare DB-API reads of the same rows (the floor any report
  needs) and beside rendering alone.
* DPO report over 1,000,000 audit events on SQLite and PostgreSQL (target under 20 s),
  beside ``verify_audit()`` on the same log (the report includes it) and a bare
  ``GROUP BY action`` over the period (one scan of the events, the floor of any aggregation).

Fixtures are written in bulk through ``kit._audit_many`` (the batched append path: real
hashes, head and checkpoints) and ``DisclosureRepository.add_many``, one transaction per
chunk, with the kit's clock moved so events spread over the period and the hours of a day.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from consentkit.audit.events import AuditEvent
from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit
from consentkit.reports.output import render_report
from consentkit.storage.disclosures import DisclosureRecord
from consentkit.types import Role
from pg import PG_URL, pg_schema

from table import Row, Section, median_time

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
CHUNK = 20_000
ACTORS = ("cas", "cas2", "sam", "dora", "night")
PURPOSES = ("treatment", "referral", "care-coordination", "family-support")
RECIPIENTS = ("treatment-provider", "healthcare", "social-services", "police")


@contextmanager
def _step(label: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    print(f"   {label}: {time.perf_counter() - start:.1f} s", file=sys.stderr)


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[str | None]:
    """A fresh SQLite file or PostgreSQL schema (dropped at the end); ``None`` if PG is down."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'reports-{uuid.uuid4().hex[:6]}.db'}"
        return
    with pg_schema() as pg:
        yield pg[0] if pg else None


def _kit(url: str, directory: Path, clock: FixedClock) -> ConsentKit:
    kit, _ = ConsentKit.init(url, directory / f"keys-{uuid.uuid4().hex[:6]}", actor="bench",
                             roles=(Role.SUPERVISOR, Role.DPO, Role.CASEWORKER), clock=clock)
    return kit


def _subjects(kit: ConsentKit, n: int) -> list[str]:
    return [kit.add_subject(jurisdiction=("se", "gr", "ru", "eu-gdpr")[i % 4], name=f"Client {i}",
                            birth_date=date(1980 + i % 30, 1 + i % 12, 1 + i % 28)).subject_id for i in range(n)]


def _event(rng: random.Random, subject: str) -> AuditEvent:
    roll = rng.random()
    if roll < 0.55:
        return AuditEvent("subject.viewed", subject)
    purpose, recipient = rng.choice(PURPOSES), rng.choice(RECIPIENTS)
    details = {"purpose": purpose, "recipient": recipient, "requested": ["identity"]}
    if roll < 0.85:
        return AuditEvent("disclosure.checked", subject, details=details,
                          outcome=rng.choice(("permit", "permit", "partial", "deny")))
    if roll < 0.93:
        return AuditEvent("consent.granted", subject, details={"purposes": [purpose]})
    if roll < 0.97:
        return AuditEvent("consent.withdrawn", subject)
    if roll < 0.99:
        return AuditEvent("disclosure.override", subject, details=details, outcome="permit")
    return AuditEvent("pseudonym.reidentified", details={"kind": "bench"})


def _fill_log(kit: ConsentKit, clock: FixedClock, subjects: list[str], total: int, days: int) -> None:
    """``total`` events over ``days`` days, chunk by chunk; each chunk at its own hour."""
    rng = random.Random(11)
    chunks = max(1, total // CHUNK)
    for index in range(chunks):
        size = CHUNK if index < chunks - 1 else total - CHUNK * (chunks - 1)
        clock.current = START + timedelta(days=index * days / chunks, hours=(index * 7) % 24)
        kit.actor = ACTORS[index % len(ACTORS)]
        with kit.store.write() as tx:
            kit._audit_many(tx, [_event(rng, rng.choice(subjects)) for _ in range(size)], {})
    kit.actor = "bench"


def _disclosures(kit: ConsentKit, subject: str, n: int, days: int) -> None:
    rng = random.Random(3)
    rows = [DisclosureRecord(
        str(uuid.uuid4()), subject, (START + timedelta(minutes=i * days * 1440 // max(n, 1))).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"), "cas", rng.choice(RECIPIENTS[:3]), None, rng.choice(PURPOSES),
        ("identity", "health"), "permit", "consent", None, "se@2026.11", i) for i in range(n)]
    with kit.store.write() as tx:
        tx.disclosures.add_many(rows)


# -- subject access ----------------------------------------------------------------------------


def _bare_subject_reads(path: Path, subject: str) -> float:
    """The same rows read with sqlite3 alone: disclosures, consents, grouped audit actions."""
    def read() -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("SELECT * FROM ck_disclosures WHERE subject_id = ? ORDER BY decided_at", (subject,)).fetchall()
            conn.execute("SELECT * FROM ck_consents WHERE subject_id = ?", (subject,)).fetchall()
            conn.execute("SELECT action, count(*), min(ts), max(ts) FROM ck_audit_events WHERE subject_id = ? "
                         "GROUP BY action", (subject,)).fetchall()
            conn.execute("SELECT count(*) FROM ck_audit_events WHERE subject_id = ?", (subject,)).fetchall()
    return median_time(read, 5)


def _subject_section(directory: Path, quick: bool) -> Section:
    events, disclosures = (2_000, 200) if quick else (10_000, 1_000)
    clock = FixedClock(START)
    url = f"sqlite:///{directory / 'subject.db'}"
    kit = _kit(url, directory, clock)
    with _step(f"subject fixture ({events:,} events, {disclosures:,} disclosures)"):
        others = _subjects(kit, 20)
        busy = kit.add_subject(jurisdiction="se", name="Busy Client", birth_date=date(1990, 1, 1)).subject_id
        for i in range(10):
            consent = kit.grant_consent(busy, recipients=[RECIPIENTS[i % 3]], purposes=[PURPOSES[i % 4]],
                                        categories=["identity", "health"], notice_version="v1").grant.consent_id
            if i % 3 == 0:
                kit.withdraw_consent(consent, reason="The client asked to stop sharing")
        rng = random.Random(5)
        with kit.store.write() as tx:
            kit._audit_many(tx, [AuditEvent(rng.choice(("subject.viewed", "consent.listed", "disclosure.listed")),
                                            busy) for _ in range(events)], {})
        _fill_log(kit, clock, others, 5 * events, 30)
        _disclosures(kit, busy, disclosures, 60)
    clock.current = START + timedelta(days=90)
    kit.open_access_request(busy, received=clock.current.date())
    kit.report_subject(busy, fmt="html")  # warm: templates compiled, detector built
    html = median_time(lambda: kit.report_subject(busy, fmt="html"), 5)
    as_json = median_time(lambda: kit.report_subject(busy, fmt="json"), 5)
    model = json.loads(kit.report_subject(busy, fmt="json").content)
    render_only = median_time(lambda: render_report("subject", model, "html"), 5)
    bare = _bare_subject_reads(directory / "subject.db", busy)
    kit.close()
    label = f"{events:,} audit events and {disclosures:,} disclosures of one subject, 10 consents"
    return Section("Subject access report (SQLite)", [
        Row(f"`report_subject(fmt='html')`: {label} (median of 5)", html * 1000, "ms",
            "bare sqlite3 reads of the same rows", bare * 1000, "< 1 s", html < 1.0),
        Row("`report_subject(fmt='json')`, same subject (median of 5)", as_json * 1000, "ms",
            "bare sqlite3 reads of the same rows", bare * 1000),
        Row("rendering the HTML alone from the view-model (median of 5)", render_only * 1000, "ms",
            "the whole report", html * 1000),
    ], [
        "The report decrypts the subject's fields and every withdrawal reason, runs each reason through the "
        "redaction detector, groups the subject's audit events in SQL (`GROUP BY action`), lists every "
        "disclosure, renders, and appends its own audit event in the same transaction.",
    ])


# -- DPO report -----------------------------------------------------------------------------


def _bare_group_by(url: str, start: str, end: str) -> float:
    query = ("SELECT action, count(*) FROM ck_audit_events WHERE ts >= ? AND ts < ? GROUP BY action")
    if url.startswith("sqlite"):
        path = url[len("sqlite:///"):]

        def run() -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(query, (start, end)).fetchall()
        return median_time(run, 3)
    import psycopg

    plain, _, options = PG_URL.replace("postgresql+psycopg://", "postgresql://").partition("?")
    schema = url.rsplit("%3D", 1)[1]

    def run_pg() -> None:
        with psycopg.connect(plain, options=f"-csearch_path={schema}") as conn:
            conn.execute(query.replace("?", "%s"), (start, end)).fetchall()
    del options
    return median_time(run_pg, 3)


def _dpo_rows(backend: str, directory: Path, total: int, days: int) -> list[Row]:
    with _database(backend, directory) as url:
        if url is None:
            return [Row(f"{backend}: DPO report", 0, "s", "PostgreSQL unavailable: not measured")]
        clock = FixedClock(START)
        kit = _kit(url, directory, clock)
        with _step(f"{backend}: DPO fixture ({total:,} events)"):
            subjects = _subjects(kit, 200)
            for subject in subjects[:40]:
                _disclosures(kit, subject, 250, days)
            _fill_log(kit, clock, subjects, total, days)
        clock.current = START + timedelta(days=days + 1)
        kit.open_access_request(subjects[0], received=(START + timedelta(days=3)).date())
        end = (START + timedelta(days=days)).date()
        start_ts, end_ts = START.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), (START + timedelta(days=days + 1)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        with _step(f"{backend}: DPO report"):
            begin = time.perf_counter()
            report = kit.report_dpo(START.date(), end, fmt="html")
            seconds = time.perf_counter() - begin
        assert report.summary["integrity_ok"]
        verify = median_time(kit.verify_audit, 1)
        bare = _bare_group_by(url, start_ts, end_ts)
        kit.close()
    name = "SQLite" if backend == "sqlite" else "PostgreSQL"
    return [
        Row(f"{name}: `report_dpo()` over {total:,} audit events, {days} days (HTML, one run)", seconds, "s",
            "`verify_audit()` on the same log", verify, "< 20 s", seconds < 20),
        Row(f"{name}: `report_dpo()`, same log", seconds, "s", "bare `GROUP BY action` over the period", bare),
    ]


def run(quick: bool = False) -> list[Section]:
    """Both report benchmarks; ``quick`` uses 2,000 / 100,000 events instead of 10,000 / 1,000,000."""
    total, days = (100_000, 30) if quick else (1_000_000, 120)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        subject = _subject_section(directory, quick)
        dpo_rows = _dpo_rows("sqlite", directory, total, days) + _dpo_rows("postgres", directory, total, days)
    return [subject, Section("DPO report", dpo_rows, [
        "Every section is a SQL aggregation (GROUP BY in the database): consents by purpose and jurisdiction, "
        "disclosures by basis, denials by purpose (JSON key of the details), override uses, the access-request "
        "register, erasures, per-actor counts, record access per actor, day and hour (out-of-hours check), "
        "retention candidates, and daily trend counts from the consent and disclosure tables. The report also "
        "verifies the whole audit trail "
        "(`verify_audit()`), which is most of its time.",
        f"Fixture: {total:,} events written through `kit._audit_many` in chunks of {CHUNK:,} (real hashes, "
        "Merkle head, a signed checkpoint every 1,000 events), 200 subjects, 10,000 disclosures.",
    ])]

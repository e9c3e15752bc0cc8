"""Consents: grant + audit event per second (SQLite, PostgreSQL); state at a time for a
consent with 1,000 events."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from consentkit.consent.model import ConsentEvent, ConsentGrant, Effect, EventKind, Form, Grantor, RecipientRef, Scope
from consentkit.consent.state import state_at
from consentkit.kit import ConsentKit
from consentkit.types import Role

from bench_foundation import _bare_pg, _bare_sqlite, _fresh_pg
from table import Row, Section


def _grants(url: str, keys: Path, n: int) -> float:
    kit, _ = ConsentKit.init(url, keys, actor="bench", roles=(Role.CASEWORKER,))
    with kit:
        subjects = [kit.add_subject(jurisdiction="eu-gdpr", name=f"P {i}", birth_date=date(1990, 1, 1)).subject_id
                    for i in range(20)]
        start = time.perf_counter()
        for i in range(n):
            kit.grant_consent(subjects[i % 20], recipients=["treatment-provider"], purposes=["treatment"],
                              categories=["identity", "substance-use"], notice_version="v1")
        return n / (time.perf_counter() - start)


def _state_at_1000_events() -> tuple[float, float]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    grant = ConsentGrant(
        consent_id="c", subject_id="s", jurisdiction="eu-gdpr", effect=Effect.PERMIT,
        scope=Scope((RecipientRef("treatment-provider"),), frozenset({"treatment"}), frozenset({"identity"})),
        valid_from=start, valid_until=None, grantor=Grantor.GUARDIAN, form=Form.WRITTEN, recorded_at=start,
        recorded_by="b", pack_ref="eu-gdpr@bench")
    events = [ConsentEvent("c", EventKind.REAFFIRMED, start + timedelta(hours=i), "b") for i in range(1000)]
    probe = start + timedelta(hours=1500)
    samples = []
    for _ in range(300):
        t0 = time.perf_counter()
        state_at(grant, events, probe, birth_date=date(2008, 1, 1), self_consent_age=16,
                 at_self_consent_age="reaffirm")
        samples.append(time.perf_counter() - t0)
    floor = []
    for _ in range(300):
        t0 = time.perf_counter()
        sorted((e for e in events if e.at <= probe), key=lambda e: e.at)
        floor.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e3, statistics.median(floor) * 1e3


def run(quick: bool = False) -> list[Section]:
    """Measure and return the consent section."""
    n = 200 if quick else 2000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bare, _ = _bare_sqlite(directory, n)
        rows.append(Row(f"SQLite: consent grant + audit event, one commit each ({n:,})",
                        _grants(f"sqlite:///{directory / 'c.db'}", directory / "keys", n), "grants/s",
                        "bare SQLite insert+commit (WAL, FULL)", bare))
    pg = _fresh_pg()
    if pg is not None:
        rows.append(Row(f"PostgreSQL: consent grant + audit event, one commit each ({n:,})", _grants(*pg, n),
                        "grants/s", "bare psycopg insert+commit", _bare_pg(n)))
    median_ms, floor_ms = _state_at_1000_events()
    rows.append(Row("state at a time, consent with 1,000 events (median of 300)", median_ms, "ms",
                    "sorting the 1,000 events alone", floor_ms, "< 1 ms", median_ms < 1.0))
    notes = ["Each grant is validated against the pack and its audit event appended in the same transaction."]
    return [Section("Consents", rows, notes)]

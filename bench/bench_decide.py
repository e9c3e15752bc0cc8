"""Disclosure decisions: pure ``decide()`` beside a bare-Python floor and Cedar (cedarpy);
``kit.check`` and ``kit.check_many`` end to end on a 100,000-subject store (SQLite,
PostgreSQL) beside the durable-commit floor and the same statements sent through the bare
driver; and cProfiles of ``kit.check`` and ``kit.check_many`` on SQLite.
"""

from __future__ import annotations

import cProfile
import gc
import hashlib
import json
import pstats
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from consentkit.clock import format_instant
from consentkit.config import shipped_dir
from consentkit.consent.model import ConsentEvent, ConsentGrant, Effect, EventKind, Form, Grantor, RecipientRef, Scope
from consentkit.consent.validate import check_grant
from consentkit.disclosure.decide import decide
from consentkit.disclosure.model import ConsentHistory, DecisionKind, DisclosureRequest, Reason, SubjectFacts
from consentkit.keys import KeyRing, seal
from consentkit.kit import ConsentKit
from consentkit.kit._disclosure import CheckRequest, _new_ids
from consentkit.policy import Pack, PackLibrary
from consentkit.storage._raw import IN_CHUNK
from consentkit.storage.tables import ConsentEventRow, ConsentPurposeRow, ConsentRow, SubjectKeyRow, SubjectRow
from consentkit.subjects import PersonalData, personal_aad
from consentkit.types import Role
from pg import pg_schema

from bench_foundation import _bare_pg, _bare_sqlite
from table import Row, Section

JURISDICTION = "eu-gdpr"
SEED_CHUNK = 10_000  # subjects per seeding transaction
BATCH = 1_000  # requests per check_many call
# The request every figure decides: two categories covered by an active consent, one refused.
RECIPIENT, PURPOSE = "treatment-provider", "treatment"
CATEGORIES = ("identity", "substance-use", "mental-health")
EXPECTED_PERMITTED = ("identity", "substance-use")


@contextmanager
def _step(label: str) -> Iterator[None]:
    """Progress on stderr (the full run seeds 800,000 rows per backend)."""
    start = time.perf_counter()
    yield
    print(f"   {label}: {time.perf_counter() - start:.1f} s", file=sys.stderr)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the realistic subject ----------------------------------------------------------------


def _grants(subject_id: str, now: datetime, pack: Pack) -> tuple[list[ConsentGrant], datetime]:
    """Three consents: an active permit, a permit withdrawn 30 days ago, a refusal; and the withdrawal time."""
    common = {"subject_id": subject_id, "jurisdiction": JURISDICTION, "grantor": Grantor.SELF, "form": Form.WRITTEN,
              "recorded_by": "bench", "pack_ref": pack.ref, "notice_version": "v1"}
    starts = (now - timedelta(days=200), now - timedelta(days=150), now - timedelta(days=100))
    grants = [
        ConsentGrant(consent_id=str(uuid.uuid4()), effect=Effect.PERMIT,
                     scope=Scope((RecipientRef("treatment-provider"),), frozenset({"treatment", "care-coordination"}),
                                 frozenset({"identity", "substance-use", "health"})),
                     valid_from=starts[0], valid_until=now + timedelta(days=365), recorded_at=starts[0], **common),
        ConsentGrant(consent_id=str(uuid.uuid4()), effect=Effect.PERMIT,
                     scope=Scope((RecipientRef("social-services"),), frozenset({"care-coordination"}),
                                 frozenset({"identity", "housing-employment"})),
                     valid_from=starts[1], valid_until=None, recorded_at=starts[1], **common),
        ConsentGrant(consent_id=str(uuid.uuid4()), effect=Effect.REFUSE,
                     scope=Scope((RecipientRef("treatment-provider"),), frozenset({"treatment"}),
                                 frozenset({"mental-health"})),
                     valid_from=starts[2], valid_until=None, recorded_at=starts[2], **common),
    ]
    return grants, now - timedelta(days=30)


def _birth(i: int) -> date:
    return date(1950, 1, 1) + timedelta(days=i % 18_000)  # 1950-1999: every subject consents for themselves


def _check_decision(decision: Any) -> None:
    """Every timed decision must be the expected partial one (a wrong answer fast is no figure)."""
    assert decision.decision is DecisionKind.PARTIAL, decision.decision
    assert tuple(decision.permitted) == EXPECTED_PERMITTED, decision.permitted
    assert decision.denied["mental-health"].reason is Reason.REFUSED, decision.denied


# -- 1. pure decide() ---------------------------------------------------------------------


def _timed(fn: Any, n: int) -> list[float]:
    clock = time.perf_counter
    samples = []
    for _ in range(n):
        start = clock()
        fn()
        samples.append(clock() - start)
    return samples


def _bare_floor(consents: list[tuple[str, frozenset[str], frozenset[str], bool, datetime, datetime]],
                recipient: str, purpose: str, categories: tuple[str, ...],
                at: datetime) -> tuple[list[str], dict[str, str]]:
    """The same question as plain set/dict lookups over precomputed tuples: the floor."""
    permitted: list[str] = []
    denied: dict[str, str] = {}
    for category in categories:
        refused = allowed = False
        for rtype, purposes, cats, permit, start, end in consents:
            if rtype == recipient and purpose in purposes and category in cats and start <= at < end:
                if permit:
                    allowed = True
                else:
                    refused = True
        if refused:
            denied[category] = "refused"
        elif allowed:
            permitted.append(category)
        else:
            denied[category] = "no-consent"
    return permitted, denied


def _cedar_policies(grants: list[ConsentGrant], withdrawn_at: datetime) -> str:
    """The subject's consents as a Cedar policy set (as C2S generates XACML from consents).

    A permit consent is a ``permit``, a refusal a ``forbid`` (forbid overrides permit, like
    a refusal here); times are epoch seconds in the context; the withdrawal ends the permit.
    """
    policies = []
    for n, grant in enumerate(grants):
        end = grant.valid_until or (withdrawn_at if n == 1 else None)
        purposes = ", ".join(json.dumps(p) for p in sorted(grant.scope.purposes))
        categories = ", ".join(json.dumps(c) for c in sorted(grant.scope.categories))
        conditions = [f"[{purposes}].contains(context.purpose)", f"[{categories}].contains(context.category)",
                      f"context.now >= {int(grant.valid_from.timestamp())}"]
        if end is not None:
            conditions.append(f"context.now < {int(end.timestamp())}")
        effect = "permit" if grant.effect is Effect.PERMIT else "forbid"
        recipient = grant.scope.recipients[0].type
        policies.append(
            f'@id("{grant.consent_id}")\n{effect}(principal == Recipient::"{recipient}", '
            f'action == Action::"disclose", resource == Subject::"{grant.subject_id}")\n'
            f"when {{ {' && '.join(conditions)} }};")
    return "\n".join(policies)


def _pure(quick: bool) -> tuple[list[Row], list[str], float]:
    n = 5_000 if quick else 50_000
    pack = PackLibrary([shipped_dir("policies")]).get(JURISDICTION)
    now = datetime.now(UTC)
    subject_id = str(uuid.uuid4())
    birth = _birth(12_345)
    grants, withdrawn_at = _grants(subject_id, now, pack)
    for grant in grants:
        check_grant(pack, grant, birth)  # the consents are ones the library would accept
    histories = [ConsentHistory(grants[0]), ConsentHistory(grants[1], (
        ConsentEvent(grants[1].consent_id, EventKind.WITHDRAWN, withdrawn_at, "bench", by="subject"),)),
        ConsentHistory(grants[2])]
    facts = SubjectFacts(subject_id, JURISDICTION, birth)
    request = DisclosureRequest(subject_id=subject_id, recipient_type=RECIPIENT, purpose=PURPOSE,
                                categories=CATEGORIES, at=now, actor="bench", actor_roles=frozenset({"caseworker"}))
    _check_decision(decide(request, facts, histories, pack))
    samples = _timed(lambda: decide(request, facts, histories, pack), n)
    median_us, p99_us = statistics.median(samples) * 1e6, _percentile(samples, 0.99) * 1e6

    far = datetime.max.replace(tzinfo=UTC)
    flat = [(g.scope.recipients[0].type, g.scope.purposes, g.scope.categories, g.effect is Effect.PERMIT,
             g.valid_from, g.valid_until or (withdrawn_at if i == 1 else far)) for i, g in enumerate(grants)]
    assert _bare_floor(flat, RECIPIENT, PURPOSE, CATEGORIES, now)[0] == list(EXPECTED_PERMITTED)
    floor_us = statistics.median(_timed(lambda: _bare_floor(flat, RECIPIENT, PURPOSE, CATEGORIES, now), n)) * 1e6

    rows = [
        Row(f"pure `decide()`, 3 consents (1 withdrawn, 1 refusal), 3 categories: median of {n:,}",
            median_us, "µs", "bare Python set/dict loop", floor_us, "< 20 µs", median_us < 20),
        Row("pure `decide()`: p99", p99_us, "µs", "bare Python set/dict loop (median)", floor_us),
    ]
    notes = []
    try:
        import cedarpy
    except ImportError:
        notes.append("cedarpy is not installed in this environment: no Cedar row "
                     "(`.venv/bin/pip install cedarpy`).")
        return rows, notes, median_us
    policy_set = cedarpy.PolicySet.from_str(_cedar_policies(grants, withdrawn_at))
    entities = cedarpy.Entities.from_json_str("[]")
    stamp = int(now.timestamp())
    cedar_requests = [{"principal": {"type": "Recipient", "id": RECIPIENT},
                       "action": {"type": "Action", "id": "disclose"},
                       "resource": {"type": "Subject", "id": subject_id},
                       "context": {"purpose": PURPOSE, "category": c, "now": stamp}} for c in CATEGORIES]
    answers = cedarpy.is_authorized_batch(cedar_requests, policy_set, entities)
    assert [a.allowed for a in answers] == [c in EXPECTED_PERMITTED for c in CATEGORIES], answers
    engine: list[int] = []

    def cedar_call() -> None:
        results = cedarpy.is_authorized_batch(cedar_requests, policy_set, entities)
        engine.append(sum(r.metrics["authz_duration_micros"] for r in results))

    cedar_us = statistics.median(_timed(cedar_call, n)) * 1e6
    engine_us = float(statistics.median(engine))
    rows += [
        Row("cedarpy 4.12.2 `is_authorized_batch`: the same 3 consents as Cedar policies, 3 requests (median)",
            cedar_us, "µs"),
        Row("Cedar engine time alone (cedarpy `authz_duration_micros`, 3 requests, median)", engine_us, "µs"),
        Row("pure `decide()` against cedarpy, same question (median)", median_us, "µs", "cedarpy", cedar_us),
        Row("pure `decide()` against the Cedar engine alone (median)", median_us, "µs", "Cedar engine", engine_us),
    ]
    notes += [
        f"`decide()` answers {len(CATEGORIES)} categories in one call with reasons per category; Cedar answers "
        "one (principal, action, resource) per request, so one decision is a batch of 3 requests. Policies and "
        "entities are pre-parsed handles; requests use the structured dict form (the faster one).",
        "Most of cedarpy's time is marshalling the requests from Python into Rust; the engine alone reports "
        f"~{engine_us / len(CATEGORIES):.0f} µs per request, in line with the paper's 4-11 µs median "
        "(consent-anchors §A8).",
    ]
    return rows, notes, median_us


# -- 2. the seeded store ------------------------------------------------------------------


def _consent_row(grant: ConsentGrant) -> dict[str, Any]:
    """``ck_consents`` row exactly as ``ConsentRepository.add`` writes it (checked by a round trip)."""
    scope = {"recipients": [{"type": r.type, "id": r.id} for r in grant.scope.recipients],
             "purposes": sorted(grant.scope.purposes), "categories": sorted(grant.scope.categories)}
    context = {"in_custody": grant.context.in_custody, "interpreter_language": grant.context.interpreter_language,
               "capacity_assessed": grant.context.capacity_assessed}
    return {
        "consent_id": grant.consent_id, "subject_id": grant.subject_id, "jurisdiction": grant.jurisdiction,
        "pack_ref": grant.pack_ref, "effect": grant.effect.value, "scope": json.dumps(scope, sort_keys=True),
        "valid_from": format_instant(grant.valid_from),
        "valid_until": format_instant(grant.valid_until) if grant.valid_until else None,
        "grantor": grant.grantor.value, "form": grant.form.value, "evidence_sha256": grant.evidence_sha256,
        "notice_version": grant.notice_version, "notice_language": grant.notice_language,
        "context": json.dumps(context, sort_keys=True),
        "irrevocable_until": format_instant(grant.irrevocable_until) if grant.irrevocable_until else None,
        "attested": json.dumps(sorted(grant.attested)), "supersedes": grant.supersedes, "personal": None,
        "recorded_at": format_instant(grant.recorded_at), "recorded_by": grant.recorded_by,
    }


def _seed_chunks(keys: KeyRing, pack: Pack, n_subjects: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Rows for ``SEED_CHUNK`` subjects at a time, sealed as ``add_subject`` and ``withdraw_consent`` seal.

    Each subject: personal data sealed under its own random data key, the key wrapped under
    the master key, three consents (purposes in ``ck_consent_purposes``), and a withdrawal
    event on the second with its reason sealed.
    """
    created = format_instant(now - timedelta(days=300))
    for first in range(0, n_subjects, SEED_CHUNK):
        chunk: dict[str, Any] = {"ids": [], "subjects": [], "keys": [], "consents": [], "purposes": [],
                                 "events": [], "grants": []}
        for i in range(first, min(n_subjects, first + SEED_CHUNK)):
            sid = str(uuid.uuid4())
            data_key = secrets.token_bytes(32)
            person = PersonalData(name=f"Person {i}", birth_date=_birth(i))
            wrapped = keys.wrap(sid, data_key)
            chunk["ids"].append(sid)
            chunk["subjects"].append({
                "subject_id": sid, "jurisdiction": JURISDICTION, "language": "en", "created_at": created,
                "created_by": "bench", "personal": seal(data_key, person.to_bytes(), personal_aad(sid)),
                "nid_index": None, "erased_at": None})
            chunk["keys"].append({"subject_id": sid, "master_kid": wrapped.master_kid, "wrapped": wrapped.blob,
                                  "created_at": created, "destroyed_at": None})
            grants, withdrawn_at = _grants(sid, now, pack)
            if i == first:
                chunk["grants"].append(grants)  # one subject per chunk checked by a round trip
            for grant in grants:
                chunk["consents"].append(_consent_row(grant))
                chunk["purposes"] += [{"consent_id": grant.consent_id, "purpose": p}
                                      for p in sorted(grant.scope.purposes)]
            chunk["events"].append({
                "consent_id": grants[1].consent_id, "kind": EventKind.WITHDRAWN.value,
                "at": format_instant(withdrawn_at), "actor": "bench", "by": "subject",
                "reason_sealed": seal(data_key, b"the client withdrew at the review meeting", personal_aad(sid))})
        yield chunk


_SEEDED = (SubjectRow, SubjectKeyRow, ConsentRow, ConsentPurposeRow, ConsentEventRow)  # foreign keys in order


def _insert(kit: ConsentKit, chunk: dict[str, Any]) -> None:
    """One write transaction per chunk, one executemany per table (foreign keys in order)."""
    with kit.store.write() as tx:
        for table, key in zip(_SEEDED, ("subjects", "keys", "consents", "purposes", "events"), strict=True):
            tx.conn.execute(insert(table), chunk[key])
        for grants in chunk["grants"]:
            stored = tx.consents.for_subjects([grants[0].subject_id])[grants[0].subject_id]
            assert [s.grant for s in stored] == grants, "seeded consent rows do not read back as the grants"


def _settle(kit: ConsentKit) -> None:
    """Statistics for the planner; on PostgreSQL also VACUUM the freshly loaded tables, so that
    autovacuum and first-read hint-bit writes do not land inside the timed loops."""
    with kit.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if kit.store.dialect == "postgresql":
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(t.__tablename__ for t in _SEEDED)}"))
        else:
            conn.execute(text("ANALYZE"))





def _checks(kit: ConsentKit, ids: list[str], n: int, rng: random.Random) -> tuple[float, float, float]:
    """kit.check, one transaction (one commit) each: checks/s, median and p99 latency in ms."""
    chosen = [rng.choice(ids) for _ in range(n)]
    _check_decision(kit.check(chosen[0], recipient=RECIPIENT, purpose=PURPOSE, categories=CATEGORIES))
    samples = []
    clock = time.perf_counter
    start = clock()
    for sid in chosen:
        t0 = clock()
        kit.check(sid, recipient=RECIPIENT, purpose=PURPOSE, categories=CATEGORIES)
        samples.append(clock() - t0)
    rate = n / (clock() - start)
    return rate, statistics.median(samples) * 1e3, _percentile(samples, 0.99) * 1e3


def _check_many(kit: ConsentKit, ids: list[str], batches: int, rng: random.Random) -> float:
    """kit.check_many in batches of ``BATCH`` (one transaction each): decisions/s."""
    work = [[CheckRequest(rng.choice(ids), RECIPIENT, PURPOSE, CATEGORIES) for _ in range(BATCH)]
            for _ in range(batches)]
    start = time.perf_counter()
    for batch in work:
        decisions = kit.check_many(batch)
    elapsed = time.perf_counter() - start
    _check_decision(decisions[-1])
    return batches * BATCH / elapsed


_RAW_SQL = (  # kit.check's statements, as storage sends them, minus everything Python does around them
    "SELECT s.subject_id, s.jurisdiction, s.language, s.created_at, s.personal, s.erased_at, k.master_kid, "
    "k.wrapped, EXISTS (SELECT 1 FROM ck_legal_holds h WHERE h.subject_id = s.subject_id AND h.released_at IS NULL) "
    "FROM ck_subjects s JOIN ck_subject_keys k ON k.subject_id = s.subject_id WHERE s.subject_id IN ({p})",
    "SELECT c.consent_id, c.subject_id, c.jurisdiction, c.effect, c.scope, c.valid_from, c.valid_until, "
    "c.grantor, c.form, c.recorded_at, c.recorded_by, c.pack_ref, c.evidence_sha256, c.notice_version, "
    "c.notice_language, c.context, c.irrevocable_until, c.attested, c.supersedes, e.kind, e.at, e.actor, e.by "
    "FROM ck_consents c LEFT JOIN ck_consent_events e ON e.consent_id = c.consent_id "
    "WHERE c.subject_id IN ({p}) ORDER BY c.recorded_at, c.consent_id, e.at, e.event_id",
    "SELECT size, last_hash, compact, tag FROM ck_audit_head WHERE id = 1{lock}",
    "INSERT INTO ck_audit_events (seq, ts, actor, action, subject_id, object_ref, outcome, details, sealed, "
    "prev_hash, entry_hash) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
    "UPDATE ck_audit_head SET size = {p}, last_hash = {p}, compact = {p}, tag = {p} WHERE id = 1",
    "INSERT INTO ck_disclosures (disclosure_id, subject_id, decided_at, actor, recipient_type, recipient_id, purpose, "
    "categories, decision, basis, override_id, pack_ref, audit_seq, consent_ids) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
)


def _raw_floor(conn: Any, postgres: bool, ids: list[str], n: int, rng: random.Random) -> float:
    """The same statements per transaction through the bare DB-API driver: transactions/s.

    Run last on a store that is thrown away: the audit rows it appends carry placeholder
    hashes (the chain no longer verifies afterwards).
    """
    sql = [q.format(p="%s" if postgres else "?", lock=" FOR UPDATE" if postgres else "") for q in _RAW_SQL]
    details = json.dumps({"at": format_instant(datetime.now(UTC)), "basis": "consent", "consents": [str(uuid.uuid4())],
                          "denied": {"mental-health": "refused"}, "override": None, "pack": "eu-gdpr@2026.11",
                          "pack_hash": "0" * 64, "permitted": list(EXPECTED_PERMITTED), "purpose": PURPOSE,
                          "recipient": RECIPIENT, "recipient_id": None, "requested": list(CATEGORIES)},
                         sort_keys=True, separators=(",", ":"))
    chosen = [rng.choice(ids) for _ in range(n)]
    cursor = conn.cursor()
    start = time.perf_counter()
    for sid in chosen:
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(sql[0], (sid,))
        cursor.fetchall()
        cursor.execute(sql[1], (sid,))
        consent_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(sql[2])
        size, last_hash, compact, tag = cursor.fetchone()
        digest = hashlib.sha256(bytes(last_hash)).digest()
        now = format_instant(datetime.now(UTC))
        cursor.execute(sql[3], (size, now, "bench", "disclosure.checked", sid, None, "partial", details, None,
                                bytes(last_hash), digest))
        cursor.execute(sql[4], (size + 1, digest, bytes(compact), tag))
        cursor.execute(sql[5], (next(_new_ids(1)), sid, now, "bench", RECIPIENT, None, PURPOSE,
                                json.dumps(list(EXPECTED_PERMITTED)), "partial", "consent", None, "eu-gdpr@2026.11",
                                size, json.dumps(consent_ids[:1])))
        if postgres:
            conn.commit()
        else:
            cursor.execute("COMMIT")
    return n / (time.perf_counter() - start)


def _raw_many_floor(conn: Any, postgres: bool, ids: list[str], batches: int, rng: random.Random) -> float:
    """``check_many``'s statements per batch of ``BATCH`` through the bare driver: decisions/s.

    Per batch: the subjects and the consent histories read ``IN_CHUNK`` ids per SELECT (as
    storage reads them), the head read and updated once, the audit and disclosure rows
    inserted with one executemany each, one COMMIT. Same placeholder hashes as ``_raw_floor``.
    """
    p = "%s" if postgres else "?"
    sql = [q.format(p=p, lock=" FOR UPDATE" if postgres else "") for q in _RAW_SQL]
    details = json.dumps({"basis": "consent", "permitted": list(EXPECTED_PERMITTED), "purpose": PURPOSE,
                          "recipient": RECIPIENT, "requested": list(CATEGORIES), "pack_hash": "0" * 64},
                         sort_keys=True, separators=(",", ":"))
    work = [[rng.choice(ids) for _ in range(BATCH)] for _ in range(batches)]
    cursor = conn.cursor()
    start = time.perf_counter()
    for sids in work:
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        for first in range(0, BATCH, IN_CHUNK):
            chunk = sids[first:first + IN_CHUNK]
            marks = ", ".join([p] * len(chunk))
            cursor.execute(_RAW_SQL[0].format(p=marks), chunk)
            cursor.fetchall()
            cursor.execute(_RAW_SQL[1].format(p=marks), chunk)
            cursor.fetchall()
        cursor.execute(sql[2])
        size, last_hash, compact, tag = cursor.fetchone()
        digest = hashlib.sha256(bytes(last_hash)).digest()
        now = format_instant(datetime.now(UTC))
        cursor.executemany(sql[3], [(size + i, now, "bench", "disclosure.checked", sid, None, "partial", details, None,
                                     digest, digest) for i, sid in enumerate(sids)])
        cursor.execute(sql[4], (size + BATCH, digest, bytes(compact), tag))
        cursor.executemany(sql[5], [(disclosure_id, sid, now, "bench", RECIPIENT, None, PURPOSE,
                                     json.dumps(list(EXPECTED_PERMITTED)), "partial", "consent", None,
                                     "eu-gdpr@2026.11", size + i, "[]")
                                    for i, (sid, disclosure_id) in enumerate(zip(sids, _new_ids(BATCH), strict=True))])
        if postgres:
            conn.commit()
        else:
            cursor.execute("COMMIT")
    return batches * BATCH / (time.perf_counter() - start)


def _raw_many_row(label: str, batches: int, rate: float, library: Row) -> Row:
    """The batched floor beside the library's ``check_many`` row of the same run."""
    return Row(f"{label}, `check_many`'s statements, batches of {BATCH:,} ({batches * BATCH:,} decisions)", rate,
               "decisions/s", "`kit.check_many`", library.value)


def _raw_floor_sqlite(path: Path, ids: list[str], n: int, batches: int, rng: random.Random) -> tuple[float, float]:
    """(transactions/s one check each, decisions/s in batches), on the store's own file."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    try:
        return _raw_floor(conn, False, ids, n, rng), _raw_many_floor(conn, False, ids, batches, rng)
    finally:
        conn.close()


def _raw_floor_pg(url: str, ids: list[str], n: int, batches: int, rng: random.Random) -> tuple[float, float]:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return _raw_floor(conn, True, ids, n, rng), _raw_many_floor(conn, True, ids, batches, rng)


# -- 3. the profile -----------------------------------------------------------------------

_PHASES = (  # (label, function name in consentkit) -- cumulative time per check
    ("load subject (`_load_subjects`: 1 SELECT)", "_load_subjects"),
    ("unwrap data key (`_data_key`: AES-GCM)", "_data_key"),
    ("decrypt birth date (`_birth_date`: AES-GCM + JSON)", "_birth_date"),
    ("consent histories (`_histories`: 1 SELECT, consents joined with events, + row parsing)", "_histories"),
    ("`decide()`", "decide"),
    ("audit append (`_audit_many`: lock head, hash, INSERT, UPDATE head, MAC)", "_audit_many"),
    ("record disclosure (`_record_decisions`: 1 INSERT)", "_record_decisions"),
)


def _area(filename: str, name: str) -> str:
    if "sqlite3" in name or "psycopg" in filename:
        return "DB driver (execute, fetch, COMMIT incl. fsync)"
    if "/sqlalchemy/" in filename:
        return "SQLAlchemy (Python self time)"
    if "/cryptography/" in filename or "AESGCM" in name or "_hashlib" in name or "hmac" in filename:
        return "crypto (AES-GCM, HMAC, SHA-256)"
    if "/consentkit/" in filename:
        return "consentkit (Python self time)"
    return "stdlib and other (json, datetime, uuid, dataclasses, ...)"


def _profile(kit: ConsentKit, work: Callable[[], object], decisions: int, what: str,
             unprofiled_us: float) -> tuple[list[Row], list[str]]:
    """cProfile ``work`` (``decisions`` decisions); rows in µs per decision, by phase and by area."""
    statements: Counter[str] = Counter()

    def count(statement: str) -> None:
        statements[statement.split(None, 1)[0].upper()] += 1

    def trace(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # sqlite3's trace callback sees every statement, the raw hot-path ones and COMMIT included.
        dbapi_connection.set_trace_callback(count)

    collecting: list[float] = []
    gc_seconds = [0.0]

    def gc_timer(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collecting.append(time.perf_counter())
        elif collecting:
            gc_seconds[0] += time.perf_counter() - collecting.pop()

    kit.store.close()  # the writer connection SQLite keeps is reopened (and so traced) by the next write
    event.listen(kit.store.engine, "checkout", trace)
    gc.callbacks.append(gc_timer)
    profiler = cProfile.Profile()
    profiler.enable()
    start = time.perf_counter()
    work()
    total = time.perf_counter() - start
    profiler.disable()
    gc.callbacks.remove(gc_timer)
    event.remove(kit.store.engine, "checkout", trace)
    kit.store.close()  # drops the traced connections
    stats = pstats.Stats(profiler, stream=sys.stderr)
    print(f"   top of the {what} profile (cumulative):", file=sys.stderr)
    stats.sort_stats("cumulative").print_stats(30)

    per = 1e6 / decisions
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    cumulative: dict[str, float] = {}
    areas: Counter[str] = Counter()
    commit = 0.0
    for (filename, _line, name), (_cc, _nc, tottime, cumtime, _callers) in raw.items():
        if "/consentkit/" in filename:
            cumulative[name] = cumulative.get(name, 0.0) + cumtime
        if name == "<method 'commit' of 'sqlite3.Connection' objects>":
            commit += tottime
        areas[_area(filename, name)] += tottime
    profiled_us = total * per
    unit = "µs/decision (profiled)"
    rows = [Row(f"{what}: profiled total ({decisions:,} decisions)", profiled_us, unit,
                "same without the profiler", unprofiled_us)]
    phases = [(label, cumulative.get(name, 0.0) * per) for label, name in _PHASES]
    phases.append(("COMMIT (`sqlite3.Connection.commit`, WAL fsync)", commit * per))
    phases.append(("the rest (BEGIN IMMEDIATE, pool checkout, `_require`, building requests)",
                   profiled_us - sum(us for _, us in phases)))
    rows += [Row(f"{what} phase: {label}", us, unit, "profiled total", profiled_us) for label, us in phases]
    rows += [Row(f"{what} self time: {area}", seconds * per, unit, "profiled total", profiled_us)
             for area, seconds in areas.most_common()]
    rows.append(Row(f"{what}: of all that, garbage collection pauses (`gc.callbacks`)", gc_seconds[0] * per, unit,
                    "profiled total", profiled_us))
    notes = [f"{what}: statements per decision (sqlite3 trace): "
             + ", ".join(f"{verb} {n / decisions:.3g}" for verb, n in sorted(statements.items()))
             + " (BEGIN and COMMIT included)."]
    return rows, notes


# -- run ----------------------------------------------------------------------------------


def _store_rows(name: str, kit: ConsentKit, ids: list[str], quick: bool, bare: float | None,
                bare_label: str, decide_rate: float, rng: random.Random) -> tuple[list[Row], float, float]:
    n_checks = 300 if quick else 4_000
    batches = 3 if quick else 20
    with _step(f"{name}: {n_checks:,} checks"):
        rate, median_ms, p99_ms = _checks(kit, ids, n_checks, rng)
    with _step(f"{name}: {batches} x check_many({BATCH:,})"):
        many = _check_many(kit, ids, batches, rng)
    target = name == "SQLite"
    rows = [
        Row(f"{name}: `kit.check` with audit, one commit each ({n_checks:,})", rate, "checks/s", bare_label, bare,
            "≥ 2,000/s" if target else "", (rate >= 2000) if target else None),
        Row(f"{name}: `kit.check` latency, median (p99 {p99_ms:.2f} ms)", median_ms, "ms"),
        Row(f"{name}: `kit.check_many`, batches of {BATCH:,} ({batches * BATCH:,} decisions)", many,
            "decisions/s", "pure `decide()` calls/s", decide_rate, "≥ 20,000/s", many >= 20_000),
    ]
    return rows, median_ms * 1e3, many


def _profiles(kit: ConsentKit, ids: list[str], quick: bool, check_us: float, many_rate: float,
              rng: random.Random) -> tuple[list[Row], list[str]]:
    n = 300 if quick else 3_000
    chosen = [rng.choice(ids) for _ in range(n)]
    batches = [[CheckRequest(rng.choice(ids), RECIPIENT, PURPOSE, CATEGORIES) for _ in range(BATCH)]
               for _ in range(1 if quick else 3)]
    rows, notes = _profile(kit, lambda: [kit.check(sid, recipient=RECIPIENT, purpose=PURPOSE, categories=CATEGORIES)
                                         for sid in chosen], n, "`kit.check`", check_us)
    more = _profile(kit, lambda: [kit.check_many(batch) for batch in batches], len(batches) * BATCH,
                    "`kit.check_many`", 1e6 / many_rate)
    return rows + more[0], [*notes, *more[1], (
        "Phases are cumulative times of the named consentkit functions (none calls another); the self-time "
        "areas partition the whole profile. cProfile inflates Python-heavy parts (compare the profiled total "
        "with the unprofiled figure): read the shares, not the absolute values.")]


def _seed(kits: dict[str, ConsentKit], n_subjects: int) -> list[str]:
    kit = kits["SQLite"]
    ids: list[str] = []
    with _step(f"seeding {n_subjects:,} subjects / {3 * n_subjects:,} consents into {', '.join(kits)}"):
        for chunk in _seed_chunks(kit.keys, kit.packs.get(JURISDICTION), n_subjects, datetime.now(UTC)):
            ids += chunk["ids"]
            for each in kits.values():
                _insert(each, chunk)
        for each in kits.values():
            _settle(each)
    assert kit.subject(ids[-1]).personal.birth_date == _birth(n_subjects - 1)  # type: ignore[union-attr]
    return ids


def _end_to_end(quick: bool, decide_rate: float) -> tuple[list[Row], list[str], list[Row], list[str]]:
    n_subjects = 2_000 if quick else 100_000
    n_bare = 300 if quick else 2_000
    n_raw = 300 if quick else 4_000
    n_batches = 3 if quick else 20
    rng = random.Random(11)
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, pg_schema() as pg:
        pg_url = pg[0] if pg else None
        directory = Path(tmp)
        bare_sqlite, _ = _bare_sqlite(directory, n_bare)
        keys_dir = directory / "keys"
        kits = {"SQLite": ConsentKit.init(f"sqlite:///{directory / 'decide.db'}", keys_dir, actor="bench",
                                          roles=(Role.CASEWORKER,))[0]}
        if pg_url:  # the same key directory, so the same sealed rows open in both stores
            kits["PostgreSQL"] = ConsentKit.init(pg_url, keys_dir, actor="bench", roles=(Role.CASEWORKER,))[0]
        try:
            ids = _seed(kits, n_subjects)
            sqlite_rows, check_us, many_rate = _store_rows("SQLite", kits["SQLite"], ids, quick, bare_sqlite,
                                                           "bare SQLite insert+commit (WAL, FULL)", decide_rate, rng)
            if pg_url:
                bare_pg = _bare_pg(n_bare)
                pg_rows = _store_rows("PostgreSQL", kits["PostgreSQL"], ids, quick, bare_pg,
                                      "bare psycopg insert+commit", decide_rate, rng)[0]
                with _step(f"PostgreSQL: raw DB-API floors ({n_raw:,}; {n_batches} x {BATCH:,})"):
                    raw_pg, raw_many_pg = _raw_floor_pg(pg_url, ids, n_raw, n_batches, rng)
                pg_rows.insert(1, Row(f"PostgreSQL: raw psycopg, `kit.check`'s statements, one commit each "
                                      f"({n_raw:,})", raw_pg, "transactions/s", "bare psycopg insert+commit",
                                      bare_pg))
                pg_rows.append(_raw_many_row("PostgreSQL: raw psycopg", n_batches, raw_many_pg, pg_rows[-1]))
            else:
                pg_rows = []
                notes.append("PostgreSQL was not reachable in this run: no PostgreSQL figures.")
            with _step("profiles"):
                profile_rows, profile_notes = _profiles(kits["SQLite"], ids, quick, check_us, many_rate, rng)
            with _step(f"SQLite: raw DB-API floors ({n_raw:,}; {n_batches} x {BATCH:,})"):
                raw_sqlite, raw_many = _raw_floor_sqlite(directory / "decide.db", ids, n_raw, n_batches, rng)
            sqlite_rows.insert(1, Row(f"SQLite: raw sqlite3, `kit.check`'s statements, one commit each ({n_raw:,})",
                                      raw_sqlite, "transactions/s", "bare SQLite insert+commit (WAL, FULL)",
                                      bare_sqlite))
            sqlite_rows.append(_raw_many_row("SQLite: raw sqlite3", n_batches, raw_many, sqlite_rows[-1]))
            rows = sqlite_rows + pg_rows
        finally:
            for each in kits.values():
                each.close()
    notes += [
        f"Store: {n_subjects:,} subjects ({JURISDICTION}), {3 * n_subjects:,} consents, {n_subjects:,} withdrawal "
        f"events, seeded with one executemany per table per {SEED_CHUNK:,} subjects, then ANALYZE (PostgreSQL: "
        "VACUUM ANALYZE). Every row is sealed as the library seals it (per-subject random data key wrapped under "
        "the master key); one subject per chunk is read back and compared, and `kit.check` decrypts each "
        "subject's birth date.",
        "Every check is audited (hash-chained event, head MAC; a signed checkpoint every 1,000 events) and its "
        "permitted part recorded in the accounting of disclosures, in the same transaction.",
        f"Request: {RECIPIENT} / {PURPOSE} / {', '.join(CATEGORIES)} for a random subject: partial (two "
        "categories permitted, one refused).",
        "The raw rows send `kit.check`'s six statements (subject + key; consents joined with their events; "
        "audit head; audit INSERT; head UPDATE; disclosure INSERT) between BEGIN IMMEDIATE "
        "and COMMIT through the bare driver, with no decision, crypto or hashing: the ceiling for this write set "
        "with one durable commit per check. They run last, on the throw-away store (their audit rows carry "
        "placeholder hashes).",
        f"The batched raw rows send `check_many`'s statements for {BATCH:,} random subjects per transaction "
        f"(subjects and consent histories {IN_CHUNK} ids per SELECT, one executemany each for the audit and "
        "disclosure rows, the head read and updated once, one COMMIT): the ceiling for `check_many`'s reads and "
        "write set, with no decision, crypto or hashing.",
        "`kit.check` sends those statements straight to the DB-API cursor of its SQLAlchemy connection "
        "(`storage._raw`), and on SQLite each thread keeps its writer connection between transactions.",
    ]
    return rows, notes, profile_rows, profile_notes


def run(quick: bool = False) -> list[Section]:
    """Measure and return the decision sections."""
    with _step("pure decide / floor / cedarpy"):
        pure_rows, pure_notes, decide_us = _pure(quick)
    rows, notes, profile_rows, profile_notes = _end_to_end(quick, 1e6 / decide_us)
    return [
        Section("Decisions: pure `decide()`", pure_rows, pure_notes),
        Section("Decisions: `kit.check` end to end", rows, notes),
        Section("Where the time goes (SQLite, cProfile)", profile_rows, profile_notes),
    ]

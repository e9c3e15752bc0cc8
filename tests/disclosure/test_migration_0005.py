"""Migration 0005: the consents of each disclosure move from the link table into the row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from consentkit.kit import ConsentKit
from tests.migrations import alembic


@pytest.fixture
def engine(db_url: str, kit: ConsentKit) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def test_links_written_before_0005_survive_the_upgrade(kit: ConsentKit, engine: Engine, db_url: str) -> None:
    subject = kit.add_subject(jurisdiction="eu-gdpr", name="Anna Test", birth_date=date(1995, 4, 1)).subject_id
    consents = sorted(kit.grant_consent(subject, recipients=["treatment-provider"], purposes=["treatment"],
                                        categories=[category], notice_version="2026-01").grant.consent_id
                      for category in ("identity", "substance-use"))
    both = kit.check(subject, recipient="treatment-provider:okana", purpose="treatment",
                     categories=["identity", "substance-use"])
    assert sorted(both.basis.consent_ids) == consents
    kit.check(subject, recipient="police", purpose="law-enforcement", categories=["identity"])  # denied: no row
    kit.close()

    alembic(engine, "downgrade", "0004")
    assert "consent_ids" not in {c["name"] for c in inspect(engine).get_columns("ck_disclosures")}
    with engine.connect() as conn:
        links = conn.execute(text("SELECT disclosure_id, consent_id FROM ck_disclosure_consents "
                                  "ORDER BY consent_id")).all()
    assert [tuple(link) for link in links] == [(both.disclosure_id, c) for c in consents]
    with engine.begin() as conn:  # a disclosure that rested on no consent (an override) has no link
        conn.execute(text("INSERT INTO ck_disclosures SELECT 'd-without-links', subject_id, decided_at, actor, "
                          "recipient_type, recipient_id, purpose, categories, decision, 'override', 'x', pack_ref, "
                          "audit_seq FROM ck_disclosures"))

    alembic(engine, "upgrade", "head")
    assert not inspect(engine).has_table("ck_disclosure_consents")
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT disclosure_id, consent_ids FROM ck_disclosures")).all())
    assert {key: json.loads(value) for key, value in stored.items()} == {both.disclosure_id: consents,
                                                                         "d-without-links": []}
    reopened = ConsentKit.open(db_url, kit.keys_dir, actor="ada")
    try:
        accounting = {d.disclosure_id: d.consent_ids for d in reopened.disclosures(subject)}
        assert accounting == {both.disclosure_id: tuple(consents), "d-without-links": ()}
        told = reopened.withdraw_consent(consents[1], reason="changed their mind").recipients_to_tell
        assert [r["recipient_id"] for r in told] == ["okana"]
    finally:
        reopened.close()

"""The subject-access register: the migration's table, due dates by pack, extension, closing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect

from consentkit.errors import InvalidInputError, NotFoundError, OperationRefusedError
from consentkit.kit import ConsentKit
from consentkit.storage.tables import SubjectAccessRequestRow
from tests.reports.conftest import World


def test_migration_creates_the_register_as_the_tables_describe(kit: ConsentKit) -> None:
    columns = {c["name"]: c["nullable"] for c in inspect(kit.store.engine).get_columns("ck_access_requests")}
    expected = {c.name: c.nullable for c in SubjectAccessRequestRow.__table__.columns}
    assert columns == expected


def test_due_dates_follow_each_pack_and_the_holidays(world: World, org_file: Path) -> None:
    sam = world.sam
    gr = sam.open_access_request(world.nikos, received=date(2026, 3, 3))
    assert (gr.due_on, gr.status, gr.opened_by) == ("2026-04-03", "open", "sam")
    # 3 April 2026 is Good Friday in the organisation's holidays, 6 April Easter Monday: 7 April
    se = sam.open_access_request(world.eve, received=date(2026, 3, 3), organisation=org_file)
    assert se.due_on == "2026-04-07"
    ru = sam.open_access_request(world.olga, received=date(2026, 3, 5))
    assert ru.due_on == "2026-03-19"  # 10 working days


def test_extend_once_then_close(world: World) -> None:
    sam = world.sam
    request = sam.open_access_request(world.nikos, received=date(2026, 3, 3))
    extended = sam.extend_access_request(request.request_id)
    assert extended.extended_to == "2026-06-03" and extended.deadline == "2026-06-03"
    with pytest.raises(OperationRefusedError, match="already extended"):
        sam.extend_access_request(request.request_id)
    closed = sam.close_access_request(request.request_id, outcome="refused")
    assert (closed.status, closed.closed_on, closed.outcome, closed.closed_by) == ("closed", "2026-03-06", "refused",
                                                                                   "sam")
    with pytest.raises(OperationRefusedError, match="already closed"):
        sam.close_access_request(request.request_id)
    ru = sam.open_access_request(world.olga, received=date(2026, 3, 5))
    assert sam.extend_access_request(ru.request_id).extended_to == "2026-03-26"  # 5 more working days


def test_an_extended_request_is_listed_and_reported_by_its_new_deadline(world: World) -> None:
    sam = world.sam
    early = sam.open_access_request(world.nikos, received=date(2026, 3, 3))  # due 3 April
    later = sam.open_access_request(world.eve, received=date(2026, 3, 6))  # due 6 April
    sam.extend_access_request(early.request_id)  # to 3 June
    order = [r.request_id for r in sam.access_requests() if r.request_id in (early.request_id, later.request_id)]
    assert order == [later.request_id, early.request_id]
    report = json.loads(str(world.dora.report_subject(world.nikos, fmt="json", lang="en",
                                                      request_id=early.request_id).content))
    assert report["request"]["due_on"] == "2026-06-03"
    assert report["request"]["extension_text"] == "The deadline was extended once, to 3 June 2026; we told you why."


def test_bad_input(world: World) -> None:
    sam = world.sam
    with pytest.raises(InvalidInputError, match="--channel"):
        sam.open_access_request(world.anna, channel="pigeon")
    with pytest.raises(InvalidInputError, match="future"):
        sam.open_access_request(world.anna, received=date(2026, 3, 7))
    with pytest.raises(InvalidInputError, match="from 1990 on"):
        sam.open_access_request(world.anna, received=date(1800, 1, 1))
    with pytest.raises(InvalidInputError, match="UUID"):
        sam.close_access_request("nope")
    with pytest.raises(NotFoundError, match="no subject-access request"):
        sam.close_access_request("00000000-0000-4000-8000-000000000000")
    with pytest.raises(InvalidInputError, match="--status"):
        sam.access_requests(status="maybe")
    assert [r.subject_id for r in sam.access_requests(subject_id=world.anna)] == [world.anna]

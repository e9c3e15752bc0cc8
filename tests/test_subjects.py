"""Subjects through the library, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from consentkit.errors import (
    InvalidInputError,
    NotFoundError,
    OperationRefusedError,
    PermissionDeniedError,
    SchemaOutdatedError,
    WrongKeyError,
)
from consentkit.keys import KeyRing
from consentkit.kit import ConsentKit
from consentkit.types import Role

NAME = "Karin Bergström"
PNR = "850709-2388"


def _add(kit: ConsentKit, **overrides: object) -> str:
    fields: dict[str, object] = {
        "jurisdiction": "se", "name": NAME, "birth_date": date(1985, 7, 9), "national_id": PNR,
        "contact": "+46 70 123 45 67",
    }
    fields.update(overrides)
    return kit.add_subject(**fields).subject_id  # type: ignore[arg-type]


def _audit_actions(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action FROM ck_audit_events ORDER BY seq")).scalars().all()
    engine.dispose()
    return list(rows)


def test_add_and_show_round_trip(kit: ConsentKit) -> None:
    kit.add_actor("ada", [Role.CASEWORKER])
    subject_id = _add(kit)
    record = kit.subject(subject_id)
    assert record.personal is not None
    assert record.personal.name == NAME
    assert record.personal.birth_date == date(1985, 7, 9)
    assert record.personal.national_id_type == "SE_PERSONNUMMER"
    assert record.language == "sv"
    assert not record.erased


def test_every_change_and_read_is_audited(kit: ConsentKit, db_url: str) -> None:
    subject_id = _add(kit)
    kit.subject(subject_id)
    actions = _audit_actions(db_url)
    assert actions[0] == "system.initialised"
    assert actions[-2:] == ["subject.added", "subject.viewed"]


@pytest.mark.parametrize("written", ["850709-2388", "8507092388", "19850709-2388", "198507092388"])
def test_find_by_national_id_in_any_written_form(kit: ConsentKit, written: str) -> None:
    subject_id = _add(kit)
    assert kit.find_subjects(written, national_id_type="SE_PERSONNUMMER") == [subject_id]
    assert kit.find_subjects(written) == [subject_id]


def test_find_does_not_match_another_number(kit: ConsentKit) -> None:
    _add(kit)
    assert kit.find_subjects("880320-0016") == []


def test_invalid_national_id_is_refused(kit: ConsentKit) -> None:
    with pytest.raises(InvalidInputError, match="not a valid SE_PERSONNUMMER"):
        _add(kit, national_id="880320-0018")


def test_unknown_and_malformed_subject_ids(kit: ConsentKit) -> None:
    with pytest.raises(NotFoundError):
        kit.subject("3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b")
    with pytest.raises(InvalidInputError, match="UUID"):
        kit.subject("not-a-uuid")


def test_future_birth_date_is_refused(kit: ConsentKit) -> None:
    with pytest.raises(InvalidInputError, match="birth date"):
        _add(kit, birth_date=date(2030, 1, 1))


def test_unknown_jurisdiction_is_refused(kit: ConsentKit) -> None:
    with pytest.raises(InvalidInputError, match="--jurisdiction"):
        _add(kit, jurisdiction="xx")


def test_erase_then_show_reports_erased(kit: ConsentKit, db_url: str) -> None:
    subject_id = _add(kit)
    erased = kit.erase_subject(subject_id)
    assert erased.erased and erased.personal is None
    shown = kit.subject(subject_id)
    view = shown.public_view()
    assert view["status"] == "erased"
    assert view["name"] is None and view["national_id"] is None
    assert kit.find_subjects(PNR) == []
    assert "subject.erased" in _audit_actions(db_url)
    with pytest.raises(OperationRefusedError, match="already erased"):
        kit.erase_subject(subject_id)


def test_erase_under_legal_hold_is_refused_and_audited(kit: ConsentKit, db_url: str) -> None:
    subject_id = _add(kit)
    kit.hold_subject(subject_id, reason="court case pending")
    with pytest.raises(OperationRefusedError, match="legal hold"):
        kit.erase_subject(subject_id)
    assert _audit_actions(db_url)[-1] == "subject.erase-refused"
    assert kit.subject(subject_id).personal is not None
    assert kit.release_subject(subject_id) == 1
    assert kit.erase_subject(subject_id).erased


def test_caseworker_cannot_erase_or_manage_actors(
    kit: ConsentKit, open_as: Callable[[str], ConsentKit]
) -> None:
    kit.add_actor("cas", [Role.CASEWORKER])
    subject_id = _add(kit)
    caseworker = open_as("cas")
    assert caseworker.subject(subject_id).personal is not None
    with pytest.raises(PermissionDeniedError, match=r"may not subject\.erase"):
        caseworker.erase_subject(subject_id)
    with pytest.raises(PermissionDeniedError):
        caseworker.add_actor("mallory", [Role.ADMIN])
    assert not kit.subject(subject_id).erased


def test_unregistered_actor_is_refused(kit: ConsentKit, open_as: Callable[[str], ConsentKit]) -> None:
    stranger = open_as("stranger")
    with pytest.raises(PermissionDeniedError, match="actor add --id stranger"):
        _add(stranger)


def test_dpo_may_erase(kit: ConsentKit, open_as: Callable[[str], ConsentKit]) -> None:
    kit.add_actor("dora", [Role.DPO])
    subject_id = _add(kit)
    assert open_as("dora").erase_subject(subject_id, ground="retention-ended").erased


def test_wrong_keys_are_refused_before_anything_is_written(
    kit: ConsentKit, db_url: str, tmp_path: Path
) -> None:
    _add(kit)
    before = _audit_actions(db_url)
    foreign = tmp_path / "foreign-keys"
    KeyRing.generate().save_dir(foreign)
    with pytest.raises(WrongKeyError, match=r"another installation|do not belong"):
        ConsentKit.open(db_url, foreign, actor="ada")
    with pytest.raises(WrongKeyError):
        ConsentKit.init(db_url, foreign, actor="ada")
    assert _audit_actions(db_url) == before


def test_wrong_master_key_with_same_origin_is_refused(kit: ConsentKit, db_url: str, tmp_path: Path) -> None:
    _add(kit)
    impostor = KeyRing.generate(kit.keys.origin)
    impostor.save_dir(tmp_path / "impostor")
    with pytest.raises(WrongKeyError, match="do not belong"):
        ConsentKit.open(db_url, tmp_path / "impostor", actor="ada")


def test_outdated_schema_says_run_init(kit: ConsentKit, db_url: str, keys_dir: Path) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(SchemaOutdatedError, match="consentkit init"):
        ConsentKit.open(db_url, keys_dir, actor="ada")


def test_missing_database_says_run_init(tmp_path: Path, keys_dir: Path) -> None:
    with pytest.raises(SchemaOutdatedError, match="consentkit init"):
        ConsentKit.open(f"sqlite:///{tmp_path / 'absent.db'}", keys_dir, actor="ada")
    assert not (tmp_path / "absent.db").exists()


def test_master_key_rotation_keeps_subjects_readable(
    kit: ConsentKit, db_url: str, keys_dir: Path
) -> None:
    subject_id = _add(kit)
    old_master = kit.keys.master.kid
    result = kit.rotate_keys(["master", "signing"])
    assert result["master"] != old_master and result["rewrapped"] == 1
    reopened = ConsentKit.open(db_url, keys_dir, actor="ada")
    try:
        assert reopened.keys.master.kid == result["master"]
        assert reopened.subject(subject_id).personal is not None
        assert reopened.find_subjects(PNR) == [subject_id]
    finally:
        reopened.close()
    assert (keys_dir / f"master-{old_master}.key").exists()


def test_list_shows_no_personal_data(kit: ConsentKit) -> None:
    _add(kit)
    _add(kit, jurisdiction="gr", national_id="01013099997", name="Μαρία Κωνσταντίνου")
    listed = kit.subjects()
    assert len(listed) == 2 and all(r.personal is None for r in listed)
    assert [r.jurisdiction for r in kit.subjects(jurisdiction="gr")] == ["gr"]

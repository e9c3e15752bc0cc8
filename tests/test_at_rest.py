"""What an attacker with the database file sees: no name, birth date or national ID in clear."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit

PLANTED = {
    "name": "Zoltan Quetzalcoatl-Ekström",
    "other": "Ylva Quetzalcoatl",
    "national_id": "19850709-2388",
    "contact": "zq.planted@example.se",
}


def _raw_bytes(directory: Path) -> bytes:
    # The WAL and shared-memory files hold recent pages too: read everything SQLite wrote.
    return b"".join(p.read_bytes() for p in sorted(directory.glob("consentkit.db*")))


def test_sqlite_file_holds_no_personal_data_in_clear(tmp_path: Path, clock: FixedClock) -> None:
    url = f"sqlite:///{tmp_path / 'consentkit.db'}"
    kit, _ = ConsentKit.init(url, tmp_path / "keys", actor="ada", clock=clock)
    with kit:
        subject_id = kit.add_subject(
            jurisdiction="se", name=PLANTED["name"], birth_date=date(1985, 7, 9),
            national_id=PLANTED["national_id"], contact=PLANTED["contact"], other_names=(PLANTED["other"],),
        ).subject_id
        kit.hold_subject(subject_id, reason=f"case involving {PLANTED['other']}")
        kit.subject(subject_id)
    raw = _raw_bytes(tmp_path)
    assert subject_id.encode() in raw  # the scan does see the file's content
    needles = [
        *(value.encode() for value in PLANTED.values()),
        b"Quetzalcoatl", b"1985-07-09", b"850709", b"8507092388", b"198507092388",
        "Ekström".encode(), "Ekström".encode("utf-16-le"),
    ]
    for needle in needles:
        assert needle not in raw, f"found {needle!r} in the database file"

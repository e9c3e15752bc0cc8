"""What the scenes of the demo share: the installation, the clock of the week, the staff's
sessions, the ids created so far and the artefacts written.

The demo drives the public :class:`~consentkit.ConsentKit` API only, one session per staff
member, all on one :class:`~consentkit.clock.FixedClock` that the scenes move through the week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit

__all__ = ["ADMIN", "Artefact", "Group", "SceneResult", "Stage", "demo_week"]

#: The actor who installs consentkit for the demo (the first admin).
ADMIN = "demo.admin"


class Group(StrEnum):
    """The headings artefacts are listed under on the index page, in the order shown."""

    REPORTS = "Reports (HTML)"
    NOTES = "Redacted case notes"
    EXPORT = "Research export (Novgorod)"
    RECEIPTS = "Consent receipts (signed, in the client's language)"
    AUDIT = "Audit trail"
    TAMPERING = "Tampering attempt"


@dataclass(frozen=True)
class Artefact:
    """A file the demo wrote, relative to the demo folder, and what it is."""

    path: str
    label: str
    group: Group


@dataclass(frozen=True)
class SceneResult:
    """What a scene did: one narrative line, the details behind it, and machine-readable facts."""

    line: str
    details: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def demo_week(today: date) -> datetime:
    """Monday 08:00 UTC of the last full week before ``today``: the whole week is in the past,
    so the consents it records are in force when the reader tries commands afterwards."""
    monday = today - timedelta(days=today.weekday() + 7)
    return datetime.combine(monday, time(8, 0), tzinfo=UTC)


class Stage:
    """The installation in the demo folder and everything the scenes pass on to each other."""

    def __init__(self, root: Path, monday: datetime) -> None:
        self.root = root
        self.monday = monday
        self.clock = FixedClock(monday)
        self.db_url = f"sqlite:///{root / 'consentkit.db'}"
        self.keys_dir = root / "keys"
        self.subjects: dict[str, str] = {}
        self.consents: dict[str, str] = {}
        self.facts: dict[str, Any] = {}
        self.artefacts: list[Artefact] = []
        self._kits: dict[str, ConsentKit] = {}

    # -- time --------------------------------------------------------------------------

    def at(self, day: int, clock_time: str) -> datetime:
        """Move the clock to ``day`` (0 = Monday) at ``HH:MM`` UTC; time never runs backwards."""
        hours, minutes = (int(part) for part in clock_time.split(":"))
        when = self.monday + timedelta(days=day, hours=hours - self.monday.hour, minutes=minutes)
        if when < self.clock.now():
            raise ValueError(f"internal: scene at {when.isoformat()} is earlier than the previous one")
        self.clock.current = when
        return when

    def stamp(self) -> str:
        """The current demo time as ``Mon 09:40``."""
        return self.clock.now().strftime("%a %H:%M")

    # -- sessions ----------------------------------------------------------------------

    def install(self) -> ConsentKit:
        """Create the database and keys in the demo folder; the admin's session is kept."""
        kit, _ = ConsentKit.init(self.db_url, self.keys_dir, actor=ADMIN, clock=self.clock)
        self._kits[ADMIN] = kit
        return kit

    def as_(self, actor: str) -> ConsentKit:
        """The session of ``actor`` (opened on first use, on the shared clock)."""
        kit = self._kits.get(actor)
        if kit is None:
            kit = ConsentKit.open(self.db_url, self.keys_dir, actor=actor, clock=self.clock)
            self._kits[actor] = kit
        return kit

    def close(self) -> None:
        """Close every session (SQLite then folds its write-ahead log back into the file)."""
        for kit in self._kits.values():
            kit.close()
        self._kits.clear()

    # -- artefacts ---------------------------------------------------------------------

    def folder(self, *parts: str) -> Path:
        """A folder inside the demo folder, created if needed."""
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def wrote(self, path: Path, label: str, group: Group) -> None:
        """Record an artefact for the index page and the summary."""
        self.artefacts.append(Artefact(path.relative_to(self.root).as_posix(), label, group))

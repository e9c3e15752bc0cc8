"""Monday morning: a fresh installation (database, keys) and the staff of the four services."""

from __future__ import annotations

from consentkit.demo.cast import SERVICES, STAFF
from consentkit.demo.stage import SceneResult, Stage

__all__ = ["installation"]


def installation(stage: Stage) -> SceneResult:
    """``consentkit init`` in the demo folder, then one actor per staff member with their roles."""
    stage.at(0, "08:30")
    admin = stage.install()
    for member in STAFF:
        admin.add_actor(member.actor, member.roles)
    packs = sorted({s.jurisdiction for s in SERVICES.values()})
    return SceneResult(
        f"Setup · fresh database and keys; {len(STAFF)} staff in 4 services, packs {', '.join(packs)}",
        details=[f"{m.actor}: {m.title} ({', '.join(m.roles)})" for m in STAFF]
        + ["one installation serves all four services here, for the demo; each service would run its own"],
        data={"staff": {m.actor: list(m.roles) for m in STAFF}, "packs": packs})

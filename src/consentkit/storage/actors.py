"""Actors and their roles."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, insert, select

from consentkit.storage.tables import ActorRoleRow, ActorRow
from consentkit.types import Role

__all__ = ["ActorRepository"]


class ActorRepository:
    """Read and write ``ck_actors`` and ``ck_actor_roles``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def exists(self, actor_id: str) -> bool:
        """True if the actor is registered."""
        query = select(ActorRow.actor_id).where(ActorRow.actor_id == actor_id)
        return self.conn.execute(query).first() is not None

    def count(self) -> int:
        """Number of registered actors."""
        return int(self.conn.execute(select(func.count()).select_from(ActorRow)).scalar_one())

    def roles(self, actor_id: str) -> frozenset[Role]:
        """Roles the actor holds (empty if unknown)."""
        rows = self.conn.execute(select(ActorRoleRow.role).where(ActorRoleRow.actor_id == actor_id))
        return frozenset(Role(r) for (r,) in rows)

    def add(self, actor_id: str, roles: Iterable[Role], *, at: str, by: str) -> frozenset[Role]:
        """Register the actor if needed and grant ``roles``; returns every role now held."""
        if not self.exists(actor_id):
            self.conn.execute(insert(ActorRow).values(actor_id=actor_id, created_at=at, created_by=by))
        held = self.roles(actor_id)
        new = [role for role in dict.fromkeys(roles) if role not in held]
        if new:
            self.conn.execute(insert(ActorRoleRow), [{"actor_id": actor_id, "role": r.value} for r in new])
        return held | frozenset(new)

    def remove_role(self, actor_id: str, role: Role) -> None:
        """Withdraw one role."""
        self.conn.execute(
            delete(ActorRoleRow).where(ActorRoleRow.actor_id == actor_id, ActorRoleRow.role == role.value)
        )

    def list(self) -> list[tuple[str, frozenset[Role]]]:
        """Every actor with their roles, sorted by id."""
        ids = self.conn.execute(select(ActorRow.actor_id).order_by(ActorRow.actor_id)).scalars().all()
        return [(actor_id, self.roles(actor_id)) for actor_id in ids]

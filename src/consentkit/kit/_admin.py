"""Installation, actors and roles, key rotation."""

from __future__ import annotations

from collections.abc import Sequence

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent
from consentkit.errors import ConfigurationError, InvalidInputError, NotFoundError
from consentkit.keys import KeyRing, open_sealed
from consentkit.kit._base import KitBase
from consentkit.pseudonym import identifiers
from consentkit.storage import Tx
from consentkit.subjects import PersonalData, personal_aad
from consentkit.types import Role, check_actor_id

__all__ = ["AdminOps", "record_installation"]


def record_installation(tx: Tx, keys: KeyRing) -> None:
    """Store the log origin and the master key id on first use (no secrets)."""
    if tx.meta.get("origin") is None:
        tx.meta.put("origin", keys.origin)
    tx.meta.add_master_kid(keys.master.kid)


class AdminOps(KitBase):
    """Actors, roles and keys."""

    def add_actor(self, actor_id: str, roles: Sequence[Role | str]) -> frozenset[Role]:
        """Register an actor and grant roles (admin only); returns every role they now hold."""
        check_actor_id(actor_id)
        try:
            wanted = [Role(r) for r in roles]
        except ValueError:
            raise InvalidInputError(f"--role: choose from {', '.join(r.value for r in Role)}") from None
        if not wanted:
            raise InvalidInputError("--role: give at least one role")
        with self.store.write() as tx:
            self._require(tx, Permission.ACTOR_MANAGE)
            before = tx.actors.roles(actor_id)  # empty for an actor not registered yet
            held = tx.actors.add(actor_id, wanted, at=self._now(), by=self.actor)
            granted = sorted(r.value for r in held - before)
            if granted:  # a role they already held changes nothing, and is not logged as granted
                self._audit(tx, AuditEvent("actor.roles-granted", object_ref=f"actor:{actor_id}",
                                           details={"roles": granted}))
        if actor_id == self.actor:
            self._roles = None
        return held

    def remove_role(self, actor_id: str, role: Role | str) -> None:
        """Withdraw one role from an actor (admin only)."""
        try:
            target = Role(role)
        except ValueError:
            raise InvalidInputError(f"--role: choose from {', '.join(r.value for r in Role)}") from None
        with self.store.write() as tx:
            self._require(tx, Permission.ACTOR_MANAGE)
            if target is Role.ADMIN and actor_id == self.actor:
                raise InvalidInputError("you cannot remove your own admin role; ask another admin")
            if target not in tx.actors.roles(actor_id):
                raise NotFoundError(f"actor {actor_id} does not have the role {target.value} "
                                    "(see `consentkit actor list`)")
            tx.actors.remove_role(actor_id, target)
            self._audit(tx, AuditEvent("actor.role-removed", object_ref=f"actor:{actor_id}",
                                       details={"role": target.value}))
        self._roles = None

    def actors(self) -> list[tuple[str, frozenset[Role]]]:
        """Every actor and their roles."""
        with self.store.read() as tx:
            self._require(tx, Permission.ACTOR_MANAGE)
            return tx.actors.list()

    def roles(self) -> frozenset[Role]:
        """Roles of the acting person."""
        with self.store.read() as tx:
            return self._roles_of_actor(tx)

    def rotate_keys(self, kinds: Sequence[str]) -> dict[str, object]:
        """Make new active keys of ``kinds``; old keys stay to open and verify what they made.

        A new master key also re-wraps every live subject's data key and recomputes the
        national-ID blind index, so the old master key is no longer needed for them.
        """
        if not kinds:
            raise InvalidInputError("--kind: give master, signing or pseudonym")
        if self.keys_dir is None:
            raise ConfigurationError(
                "keys come from environment variables: generate new ones and prepend them there"
            )
        rotated = self.keys.rotated(kinds)
        with self.store.read() as tx:
            self._require(tx, Permission.KEY_ROTATE)
        rotated.save_dir(self.keys_dir)
        self.keys = rotated
        rewrapped = 0
        with self.store.write() as tx:
            if "master" in kinds:
                rewrapped = self._rewrap_all(tx)
            self._audit(tx, AuditEvent("keys.rotated", details={
                "kinds": sorted(kinds), "master": rotated.master.kid, "signing": rotated.signer.kid,
                "pseudonym": rotated.pseudonym.kid, "rewrapped": rewrapped,
            }))
        return {"master": rotated.master.kid, "signing": rotated.signer.kid,
                "pseudonym": rotated.pseudonym.kid, "rewrapped": rewrapped}

    def _rewrap_all(self, tx: Tx) -> int:
        tx.meta.add_master_kid(self.keys.master.kid)
        count, offset = 0, 0
        while batch := tx.subjects.page(limit=500, offset=offset):
            offset += len(batch)
            for stored in batch:
                if stored.wrapped is None or stored.personal is None:
                    continue
                data_key = self.keys.unwrap(stored.subject_id, stored.wrapped)
                tx.subjects.rewrap(stored.subject_id, self.keys.wrap(stored.subject_id, data_key))
                person = PersonalData.from_bytes(
                    open_sealed(data_key, stored.personal, personal_aad(stored.subject_id)))
                if person.national_id and person.national_id_type:
                    normal = identifiers.normalise(person.national_id_type, person.national_id,
                                                   today=self.clock.now().date())
                    tx.subjects.set_index(stored.subject_id,
                                          self.keys.blind_index(f"{person.national_id_type}:{normal}"))
                count += 1
        return count

"""What every use case of the facade shares: the store, the keys, the clock, the actor."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import date
from importlib.resources.abc import Traversable
from pathlib import Path

from consentkit.access import Permission, require
from consentkit.audit import checkpoint as notes
from consentkit.audit.envelope import canonical_json
from consentkit.audit.events import AuditEvent, AuditRecord
from consentkit.clock import Clock, SystemClock, format_instant
from consentkit.config import Settings, shipped_dir
from consentkit.errors import NotFoundError, WrongKeyError
from consentkit.keys import KeyRing, open_sealed, seal
from consentkit.policy import PackLibrary
from consentkit.storage import Store, Tx
from consentkit.storage.subjects import StoredSubject
from consentkit.subjects import PersonalData, personal_aad
from consentkit.types import Role, check_subject_id

__all__ = ["CHECKPOINT_EVERY", "CheckpointInfo", "KitBase", "audit_aad", "load_keyring"]

#: A signed checkpoint is taken inside the append that completes every this many events,
#: so a log always has recent signed roots even if nobody asks for one.
CHECKPOINT_EVERY = 1000


@dataclass(frozen=True)
class CheckpointInfo:
    """A signed checkpoint: its size, root, signing key id, time and note text."""

    size: int
    root: str
    signer_kid: str
    created_at: str
    note: str



def load_keyring(keys_dir: Path) -> tuple[KeyRing, Path | None]:
    """Keys from the environment if set there, else from the key directory (returned too)."""
    from_env = KeyRing.from_env(os.environ)
    if from_env is not None:
        return from_env, None
    return KeyRing.load_dir(keys_dir), keys_dir


def audit_aad(origin: str, seq: int, subject_id: str) -> bytes:
    """Associated data of sealed audit details: bound to the log, the entry and the subject."""
    return f"consentkit/audit/v1|{origin}|{seq}|{subject_id}".encode()


class KitBase:
    """State shared by the use-case mixins of :class:`consentkit.ConsentKit`."""

    def __init__(self, store: Store, keys: KeyRing, *, actor: str, clock: Clock | None = None,
                 settings: Settings | None = None, keys_dir: Path | None = None) -> None:
        self.store = store
        self.keys = keys
        #: Where the keys were loaded from; ``None`` when they came from the environment.
        self.keys_dir = keys_dir
        self.actor = actor
        self.clock: Clock = clock or SystemClock()
        self.settings = settings
        self._roles: frozenset[Role] | None = None
        self._packs: PackLibrary | None = None

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release the database connections."""
        self.store.close()

    def __enter__(self) -> KitBase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- shared steps ------------------------------------------------------------------

    def _now(self) -> str:
        return format_instant(self.clock.now())

    def _roles_of_actor(self, tx: Tx) -> frozenset[Role]:
        if self._roles is None:
            self._roles = tx.actors.roles(self.actor)
        return self._roles

    def _require(self, tx: Tx, permission: Permission) -> None:
        roles = self._roles_of_actor(tx)
        if not roles and not tx.actors.exists(self.actor):
            self._roles = None
            require((), permission, actor=self.actor)
        require(roles, permission, actor=self.actor)

    def _subject(self, tx: Tx, subject_id: str) -> StoredSubject:
        stored = tx.subjects.get(check_subject_id(subject_id))
        if stored is None:
            raise NotFoundError(f"no subject {subject_id}: check the id (`consentkit subject list`)")
        return stored

    def _data_key(self, stored: StoredSubject) -> bytes:
        return self.keys.unwrap(stored.subject_id, stored.wrapped)

    def _birth_date(self, stored: StoredSubject, data_key: bytes) -> date | None:
        if stored.personal is None:
            return None
        return PersonalData.birth_date_from_bytes(open_sealed(data_key, stored.personal,
                                                              personal_aad(stored.subject_id)))

    @property
    def packs(self) -> PackLibrary:
        """The policy packs: shipped ones, plus a user folder (CONSENTKIT_POLICIES) that may add or replace."""
        if self._packs is None:
            folders: list[Traversable] = [shipped_dir("policies")]
            if self.settings is not None and self.settings.policies_dir is not None:
                folders.append(self.settings.policies_dir)
            self._packs = PackLibrary(folders)
        return self._packs

    def _audit(
        self,
        tx: Tx,
        event: AuditEvent,
        *,
        data_key: bytes | None = None,
        ts: str | None = None,
    ) -> AuditRecord:
        """Append ``event`` in ``tx``; its ``personal`` part is sealed under ``data_key``."""
        personal = event.personal
        origin = self.keys.origin

        def sealer(seq: int) -> str | None:
            if not personal:
                return None
            if data_key is None or event.subject_id is None:
                raise WrongKeyError("internal: personal audit details need the subject's data key")
            blob = seal(data_key, canonical_json(personal).encode(), audit_aad(origin, seq, event.subject_id))
            return base64.b64encode(blob).decode("ascii")

        record = tx.audit.append(event, origin=origin, ts=ts or self._now(), actor=self.actor, seal=sealer,
                                 tag=self.keys.head_tag, check=self.keys.check_head_tag)
        if (record.seq + 1) % CHECKPOINT_EVERY == 0:
            self._sign_checkpoint(tx)
        return record

    def _audit_many(self, tx: Tx, events: list[AuditEvent], keys: dict[str, bytes]) -> list[AuditRecord]:
        """Append many events at once; ``keys`` maps subject ids to data keys for sealing."""
        origin = self.keys.origin

        def sealer(seq: int, event: AuditEvent) -> str | None:
            if not event.personal or event.subject_id is None:
                return None
            blob = seal(keys[event.subject_id], canonical_json(event.personal).encode(),
                        audit_aad(origin, seq, event.subject_id))
            return base64.b64encode(blob).decode("ascii")

        records = tx.audit.append_many(events, origin=origin, ts=self._now(), actor=self.actor, seal=sealer,
                                       tag=self.keys.head_tag, check=self.keys.check_head_tag)
        if records and records[0].seq // CHECKPOINT_EVERY != (records[-1].seq + 1) // CHECKPOINT_EVERY:
            self._sign_checkpoint(tx)
        return records

    def _sign_checkpoint(self, tx: Tx) -> CheckpointInfo:
        head = tx.audit.trusted_head(self.keys.origin, self.keys.check_head_tag, lock=False)
        cp = notes.Checkpoint(self.keys.origin, head.size, head.compact.root())
        signer = self.keys.signer
        note = notes.sign_checkpoint(cp, signer.name, signer.private_key)
        now = self._now()
        tx.audit.add_checkpoint(size=cp.size, root=cp.root, note=note, signer_kid=signer.kid, at=now)
        return CheckpointInfo(cp.size, cp.root.hex(), signer.kid, now, note)


"""The :class:`ConsentKit` facade: opens storage, keys and packs; one method per use case."""

from __future__ import annotations

import os
from pathlib import Path

from consentkit.audit.events import AuditEvent
from consentkit.clock import Clock
from consentkit.config import Settings
from consentkit.errors import ConfigurationError, WrongKeyError
from consentkit.keys import KeyRing
from consentkit.kit._admin import AdminOps, record_installation
from consentkit.kit._audit import AuditOps
from consentkit.kit._base import load_keyring
from consentkit.kit._consents import ConsentOps
from consentkit.kit._disclosure import DisclosureOps
from consentkit.kit._interop import InteropOps
from consentkit.kit._pseudonym import PseudonymOps
from consentkit.kit._redact import RedactOps
from consentkit.kit._reports import ReportOps
from consentkit.kit._subjects import ERASURE_GROUNDS, SubjectOps
from consentkit.storage import Store
from consentkit.storage.engine import SCHEMA_REVISION, sqlite_file
from consentkit.types import Role

__all__ = ["ERASURE_GROUNDS", "ConsentKit", "InitResult"]


class InitResult(dict[str, object]):
    """What ``init`` did: keys created or reused, schema revision, roles of the actor."""


class ConsentKit(ReportOps, SubjectOps, InteropOps, ConsentOps, DisclosureOps, AdminOps, AuditOps, PseudonymOps,
                 RedactOps):
    """One installation of consentkit, used by one actor.

    Open it with :meth:`open` (or create it with :meth:`init`), then call one method per
    use case, e.g. ``kit.add_subject(jurisdiction="se", name=..., birth_date=...)``.
    """

    @classmethod
    def open(
        cls,
        db_url: str | None = None,
        keys_dir: str | Path | None = None,
        *,
        actor: str | None = None,
        clock: Clock | None = None,
        keyring: KeyRing | None = None,
    ) -> ConsentKit:
        """Open an initialised installation; refuses an outdated schema or foreign keys."""
        settings = Settings.resolve(db_url=db_url, keys_dir=keys_dir, actor=actor)
        store = Store.open(settings.db_url)
        try:
            keys, source = (keyring, None) if keyring else load_keyring(settings.keys_dir)
            with store.read() as tx:
                origin = tx.meta.get("origin")
                known = tx.meta.master_kids()
            _check_keys(keys, origin, known)
        except BaseException:
            store.close()
            raise
        return cls(store, keys, actor=settings.actor, clock=clock, settings=settings, keys_dir=source)

    @classmethod
    def init(
        cls,
        db_url: str | None = None,
        keys_dir: str | Path | None = None,
        *,
        actor: str | None = None,
        clock: Clock | None = None,
        roles: tuple[Role, ...] = (Role.ADMIN,),
    ) -> tuple[ConsentKit, InitResult]:
        """Create or upgrade the schema, create keys if there are none, register the first admin.

        Keys are checked against an existing database before anything is written.
        """
        settings = Settings.resolve(db_url=db_url, keys_dir=keys_dir, actor=actor)
        keys, created, source = _init_keyring(settings.keys_dir)
        store = Store.connect(settings.db_url)
        new_file = sqlite_file(settings.db_url)
        if new_file is not None and new_file.exists():
            new_file = None
        try:
            origin, known = store.peek_installation()
            _check_keys(keys, origin, known)
            if created:  # before the schema: a key folder that cannot be written leaves no database behind
                _save_new_keys(keys, settings.keys_dir)
            store.migrate()
            kit = cls(store, keys, actor=settings.actor, clock=clock, settings=settings, keys_dir=source)
            granted = kit._first_run(roles)
        except BaseException:
            store.close()
            if new_file is not None:  # a failed init leaves no database file it created
                for path in (new_file, Path(f"{new_file}-wal"), Path(f"{new_file}-shm")):
                    path.unlink(missing_ok=True)
            raise
        result = InitResult(
            schema=SCHEMA_REVISION, keys_created=created, keys=str(settings.keys_dir),
            origin=keys.origin, actor=settings.actor, roles=sorted(r.value for r in granted),
        )
        return kit, result

    def _first_run(self, roles: tuple[Role, ...]) -> frozenset[Role]:
        with self.store.write() as tx:
            record_installation(tx, self.keys)
            if tx.actors.count() == 0:
                granted = tx.actors.add(self.actor, (Role.ADMIN, *roles), at=self._now(), by=self.actor)
                self._audit(tx, AuditEvent("system.initialised", details={
                    "schema": SCHEMA_REVISION, "admin": self.actor,
                    "roles": sorted(r.value for r in granted)}))
                return granted
            return tx.actors.roles(self.actor)


def _init_keyring(keys_dir: Path) -> tuple[KeyRing, bool, Path | None]:
    from_env = KeyRing.from_env(os.environ)
    if from_env is not None:
        return from_env, False, None
    if (keys_dir / "keyring.json").exists():
        return KeyRing.load_dir(keys_dir), False, keys_dir
    return KeyRing.generate(), True, keys_dir


def _save_new_keys(keys: KeyRing, keys_dir: Path) -> None:
    if keys_dir.exists() and not keys_dir.is_dir():
        raise ConfigurationError(f"--keys {keys_dir}: this is a file; give a folder for the keys")
    try:
        keys.save_dir(keys_dir)
    except OSError as error:
        raise ConfigurationError(f"--keys {keys_dir}: cannot create the key folder there "
                                 f"({error.strerror or 'I/O error'}); give a folder you can write") from None


def _check_keys(keys: KeyRing, origin: str | None, known_master_kids: list[str]) -> None:
    if origin is not None and origin != keys.origin:
        raise WrongKeyError(
            "these keys belong to another installation (log origin differs); point --keys "
            "(or CONSENTKIT_KEYS) at the key directory made by `consentkit init` for this database"
        )
    keys.check_belongs(known_master_kids)

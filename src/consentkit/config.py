"""Where consentkit finds its database, keys, packs and templates, and who is acting.

Resolution order for each setting: explicit argument, environment variable, default.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.types import check_actor_id

__all__ = [
    "DEFAULT_DB_URL",
    "DEFAULT_KEYS_DIR",
    "Settings",
    "normalise_db_url",
    "resolve_actor",
    "shipped_dir",
]

DEFAULT_DB_URL = "sqlite:///consentkit.db"
DEFAULT_KEYS_DIR = "./consentkit-keys"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    db_url: str
    keys_dir: Path
    actor: str
    policies_dir: Path | None = None
    templates_dir: Path | None = None

    @classmethod
    def resolve(
        cls,
        *,
        db_url: str | None = None,
        keys_dir: str | os.PathLike[str] | None = None,
        actor: str | None = None,
    ) -> Settings:
        """Resolve every setting from the arguments, then the environment, then defaults."""
        env = os.environ
        url = normalise_db_url(db_url or env.get("CONSENTKIT_DB") or DEFAULT_DB_URL)
        keys = Path(keys_dir or env.get("CONSENTKIT_KEYS") or DEFAULT_KEYS_DIR)
        policies = env.get("CONSENTKIT_POLICIES")
        templates = env.get("CONSENTKIT_TEMPLATES")
        return cls(
            db_url=url,
            keys_dir=keys,
            actor=resolve_actor(actor),
            policies_dir=Path(policies) if policies else None,
            templates_dir=Path(templates) if templates else None,
        )


def resolve_actor(actor: str | None) -> str:
    """The acting person: ``--actor``, then ``CONSENTKIT_ACTOR``, then the OS user."""
    value = actor or os.environ.get("CONSENTKIT_ACTOR")
    if not value:
        try:
            value = getpass.getuser()
        except (KeyError, OSError):
            raise ConfigurationError(
                "no actor: pass --actor ID or set CONSENTKIT_ACTOR (the OS user is unknown)"
            ) from None
    return check_actor_id(value)


def normalise_db_url(url: str) -> str:
    """Accept ``sqlite:///path`` and ``postgresql[+psycopg]://...``; use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith(("postgresql+psycopg://", "sqlite://")):
        return url
    raise InvalidInputError(
        "--db: expected sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"
    )


def shipped_dir(kind: str) -> Traversable:
    """The packs or templates shipped with consentkit (``policies`` or ``templates``).

    In a wheel they are package data under ``consentkit/_data``; in a source checkout
    (editable install) they are the repository's top-level folders.
    """
    if kind not in ("policies", "templates"):
        raise ValueError(f"unknown data folder {kind}")
    packaged = resources.files("consentkit").joinpath("_data", kind)
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / kind
    if checkout.is_dir():
        return checkout
    raise ConfigurationError(f"consentkit's {kind} folder is missing from this installation; reinstall")

"""Run the shipped Alembic migrations up or down, for tests of a schema upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import consentkit.storage.engine as storage_engine


def alembic(engine: Engine, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade REVISION`` on ``engine`` with consentkit's migrations."""
    config = Config()
    config.set_main_option("script_location", str(Path(storage_engine.__file__).with_name("migrations")))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)

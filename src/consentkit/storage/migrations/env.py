"""Alembic environment: migrations run on the connection consentkit hands over."""

from __future__ import annotations

from alembic import context

from consentkit.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - consentkit always passes a connection
    raise RuntimeError("run migrations through `consentkit init`")

context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()

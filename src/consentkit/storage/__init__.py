"""Storage: SQLAlchemy 2.x tables, repositories and Alembic migrations; the only I/O layer
that talks to the database. SQLite (embedded default) and PostgreSQL (production)."""

from consentkit.storage.store import Store, Tx

__all__ = ["Store", "Tx"]

"""Storage: SQLAlchemy 2.x tables, repositories and Alembic migrations; the only I/O layer
that talks to the database. SQLite (embedded default) and PostgreSQL (production).

``Store`` and ``Tx`` load SQLAlchemy on first use, so a module of this package that does
not need it (the audit verification worker, ``storage._scan_worker``) starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentkit.storage.store import Store, Tx

__all__ = ["Store", "Tx"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from consentkit.storage import store  # noqa: PLC0415 - deferred on purpose

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

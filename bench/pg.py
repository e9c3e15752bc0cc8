"""PostgreSQL for the benchmark suites: where it is, and a fresh schema per measurement."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_URL = os.environ.get("CONSENTKIT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def plain(url: str) -> str:
    """The libpq form of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def pg_schema() -> Iterator[tuple[str, str] | None]:
    """A fresh schema, dropped at the end: (URL with its search_path, schema name); ``None``
    when PostgreSQL (or psycopg) is not there, so the suite reports it as not measured."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    schema = f"ck_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(plain(PG_URL), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error:
        yield None
        return
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema
    finally:
        with psycopg.connect(plain(PG_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

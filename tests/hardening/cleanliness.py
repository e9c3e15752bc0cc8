"""What a clean failure looks like, and how to tell that a refused command wrote nothing.

A command given hostile input must end either with a valid result or with a clean error:
exit code 1, 2, 3 or 4, a one-line message, no traceback, no name of an internal exception
class (which would mean the input reached code that did not expect it). A refused command
must leave the database exactly as it was: same row count in every table, same audit head.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from click.testing import Result
from sqlalchemy import create_engine, inspect, text

from consentkit import errors

__all__ = ["DatabaseState", "Snapshot", "assert_clean", "assert_clean_text"]

#: ``KeyError``, ``UnicodeDecodeError``, ``sqlalchemy.exc...``: names that only leak from unexpected paths.
_INTERNAL = re.compile(r"Traceback|\b[A-Z]\w*(?:Error|Exception)\b|internal error|sqlalchemy|psycopg|"
                       r"File \"[^\"]+\", line \d+")


#: ``--json`` errors name their kind on purpose: the public classes of consentkit.errors (never InternalError).
_PUBLIC_KIND = re.compile(r'"kind": "(?:' + "|".join(errors.__all__) + r')"')


def assert_clean_text(output: str) -> None:
    """No traceback and no internal exception name in ``output``."""
    found = _INTERNAL.search(_PUBLIC_KIND.sub("", output))
    assert found is None, f"internal detail {found.group(0)!r} leaked: {output[-800:]!r}"


def assert_clean(result: Result, allowed: frozenset[int] = frozenset({0, 1, 2, 3, 4})) -> None:
    """``result`` is a valid result or a clean error (see the module docstring)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in allowed, f"exit {result.exit_code}: {result.output[-800:]!r}"
    assert_clean_text(result.stdout)
    assert_clean_text(result.stderr)
    if result.exit_code in (1, 2, 4):  # 2: a usage error, on one line like the others
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, f"expected a one-line error, got {result.stderr!r}"
        assert lines[0].startswith("consentkit: "), lines


@dataclass(frozen=True)
class Snapshot:
    """Row counts of every table and the audit head of one database."""

    counts: dict[str, int]
    head_size: int
    head_hash: bytes

    def changed_tables(self, other: Snapshot) -> set[str]:
        """Tables whose row count differs between the two snapshots."""
        return {t for t in self.counts.keys() | other.counts.keys() if self.counts.get(t) != other.counts.get(t)}


class DatabaseState:
    """Reads :class:`Snapshot` s of a database through its own connection (not the kit's)."""

    def __init__(self, db_url: str) -> None:
        self.engine = create_engine(db_url)
        with self.engine.connect() as conn:
            self.tables = sorted(t for t in inspect(conn).get_table_names() if t.startswith("ck_"))

    def snapshot(self) -> Snapshot:
        """The state now."""
        with self.engine.connect() as conn:
            counts = {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in self.tables}
            size, last = conn.execute(text("SELECT size, last_hash FROM ck_audit_head")).one()
        return Snapshot(counts, int(size), bytes(last))

    def assert_unchanged(self, before: Snapshot, *, audit_events: int = 0) -> None:
        """Nothing was written since ``before`` except, if given, that many audit events."""
        after = self.snapshot()
        assert after.head_size == before.head_size + audit_events, (before.head_size, after.head_size)
        expected = {"ck_audit_events", "ck_audit_head"} if audit_events else set()
        changed = before.changed_tables(after)
        assert changed <= expected, f"a refused command wrote to {sorted(changed)}"
        if not audit_events:
            assert after.head_hash == before.head_hash

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

"""Option helpers shared by several command groups."""

from __future__ import annotations

from collections.abc import Iterable


def split_values(values: Iterable[str]) -> list[str]:
    """Repeatable options may also carry comma-separated values: ``--category identity,health``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]

"""Reading a pack file: YAML data plus the line of every key, so errors can name file,
line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from consentkit.errors import ValidationError

__all__ = ["PackSource", "field_path", "parse_source"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class PackSource:
    """One pack file as read: its name, its data and the line of each path in it."""

    name: str
    data: dict[str, Any]
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None

    def where(self, path: Path) -> str:
        """``file line N, field.path`` for messages."""
        line = self.line_of(path)
        location = f"{self.name} line {line}" if line else self.name
        return f"{location}, {field_path(path)}" if path else location


def field_path(path: Path) -> str:
    """``overrides.child-welfare-report.recipients[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_source(name: str, text: str) -> PackSource:
    """Parse YAML text; a syntax error or a non-mapping document raises with the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ValidationError(f"{name}{line}: not valid YAML ({error.problem})") from None
    except yaml.YAMLError:
        raise ValidationError(f"{name}: not valid YAML") from None
    if not isinstance(data, dict) or node is None:
        raise ValidationError(f"{name}: a pack must be a YAML mapping (id: ..., version: ..., ...)")
    lines: dict[Path, int] = {}
    _walk(node, (), lines)
    return PackSource(name, data, lines)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)

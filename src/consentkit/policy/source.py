"""Reading a pack file: YAML data plus the line of every key, so errors can name file,
line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from consentkit.errors import ValidationError

__all__ = ["PackSource", "field_path", "parse_source"]

Path = tuple[str | int, ...]

#: Deeper nesting than any pack needs; PyYAML composes nodes recursively, so a file of
#: thousands of ``[`` would otherwise end in a RecursionError instead of a message.
_MAX_NESTING = 32


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
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        # A key with a line break in it would split the one-line message: show it escaped.
        name = part if part.isprintable() else repr(part)
        text += f".{name}" if text else name
    return text or "(top level)"


def parse_source(name: str, text: str) -> PackSource:
    """Parse YAML text; a syntax error or a non-mapping document raises with the line."""
    try:
        _check_events(name, text)
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
    duplicates: list[tuple[Path, int]] = []
    _walk(node, (), lines, duplicates)
    if duplicates:
        # YAML keeps the last of two equal keys silently: a second `consent:` would drop the first.
        raise ValidationError(f"{name}: duplicate keys", tuple(
            f"{name} line {line}, {field_path(path)}: duplicate key (an earlier one would be ignored)"
            for path, line in duplicates))
    return PackSource(name, data, lines)


def _check_events(name: str, text: str) -> None:
    """Refuse aliases and deep nesting before anything is built from the file.

    An alias may point at its own ancestor (a cycle) or fan out nine times per level (the
    "billion laughs" file): walking either would never end. Packs never need one.
    """
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        where = f"{name} line {event.start_mark.line + 1}" if event.start_mark is not None else name
        if isinstance(event, yaml.AliasEvent):
            raise ValidationError(f"{where}: YAML aliases (*name) are not allowed in a pack; write the values out")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_NESTING:
                raise ValidationError(f"{where}: nested deeper than {_MAX_NESTING} levels; not a pack")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[tuple[Path, int]]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            child = (*path, str(key.value))
            if child[-1] in seen and child[-1] != "<<":
                duplicates.append((child, key.start_mark.line + 1))
            seen.add(str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, duplicates)

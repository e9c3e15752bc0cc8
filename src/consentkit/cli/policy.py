"""``consentkit policy``: list, show, validate and compare policy packs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from consentkit.cli._app import App, common_options, pass_app

if TYPE_CHECKING:
    from consentkit.policy import Pack, PackLibrary


def _library() -> PackLibrary:
    import os

    from consentkit.config import shipped_dir
    from consentkit.policy import PackLibrary

    folders: list[Any] = [shipped_dir("policies")]
    if os.environ.get("CONSENTKIT_POLICIES"):
        folders.append(Path(os.environ["CONSENTKIT_POLICIES"]))
    return PackLibrary(folders)


@click.group()
def policy() -> None:
    """Policy packs: one jurisdiction's rules as data, with citations (no database needed)."""


@policy.command("list")
@common_options
@pass_app
def policy_list(app: App) -> None:
    """List the packs with version and content hash."""
    library = _library()
    packs = [library.get(pid) for pid in library.ids()]
    app.emit([{"id": p.id, "version": p.version, "name": p.name, "extends": list(p.chain[1:]),
               "hash": p.content_hash, "overrides": sorted(p.overrides)} for p in packs],
             human="\n".join(f"{p.id:<10} {p.version:<8} {p.content_hash[:19]}  {p.name}" for p in packs))


@policy.command("show")
@click.argument("pack_id")
@common_options
@pass_app
def policy_show(app: App, pack_id: str) -> None:
    """Show a pack as merged (extends resolved)."""
    pack = _library().get(pack_id)
    app.emit({"id": pack.id, "version": pack.version, "hash": pack.content_hash, "chain": list(pack.chain),
              **dict(pack.data)}, human=_describe(pack))


@policy.command("validate")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@common_options
@pass_app
def policy_validate(app: App, file: Path | None) -> None:
    """Validate one pack file, or every pack; errors name file, line and field."""
    library = _library()
    if file is not None:
        pack = library.load_file(str(file), _read_pack(file))
        app.emit({"valid": True, "id": pack.id, "hash": pack.content_hash}, human=f"{file}: valid ({pack.ref})")
        return
    packs = [library.get(pid) for pid in library.ids()]
    app.emit({"valid": True, "packs": [p.ref for p in packs]},
             human="\n".join(f"{p.ref}: valid" for p in packs))


@policy.command("diff")
@click.argument("old")
@click.argument("new")
@common_options
@pass_app
def policy_diff(app: App, old: str, new: str) -> None:
    """Compare two packs (ids or files) field by field."""
    library = _library()
    left, right = (_load(library, x).data for x in (old, new))
    changes = list(_diff(left, right, ""))
    app.emit({"old": old, "new": new, "changes": [{"path": p, "old": a, "new": b} for p, a, b in changes]},
             human="\n".join(_change_line(p, a, b) for p, a, b in changes) or "no differences")


def _load(library: PackLibrary, ref: str) -> Pack:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return library.load_file(str(path), _read_pack(path))
    return library.get(ref)


def _read_pack(path: Path) -> str:
    """The text of a pack file; unreadable or non-UTF-8 files are a one-line input error."""
    from consentkit.errors import InvalidInputError

    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not UTF-8 text; save the pack as UTF-8") from None
    except OSError as error:
        raise InvalidInputError(f"cannot read {path}: {error.strerror or 'I/O error'}") from None


def _diff(a: Any, b: Any, path: str) -> Any:
    """(path, old, new) for every difference; lists of items with ids (rules, obligations)
    are compared item by item, as ``path[id]``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    elif _by_id(a) is not None and _by_id(b) is not None:
        left, right = _by_id(a) or {}, _by_id(b) or {}
        for key in [*left, *(k for k in right if k not in left)]:
            yield from _diff(left.get(key), right.get(key), f"{path}[{key}]")
    elif a != b:
        yield path, a, b


def _by_id(value: Any) -> dict[str, Any] | None:
    """A list of mappings that all have an ``id`` (absent counts as empty), keyed by it."""
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in value):
        return {item["id"]: item for item in value}
    return None


def _change_line(path: str, old: Any, new: Any) -> str:
    def show(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    if old is None:
        return f"{path}: added {show(new)}"
    if new is None:
        return f"{path}: removed (was {show(old)})"
    return f"{path}: {show(old)} -> {show(new)}"


def _describe(pack: Pack) -> str:
    lines = [f"{pack.name}", f"id {pack.id}, version {pack.version}, {pack.content_hash}",
             f"extends: {' -> '.join(pack.chain[1:]) or 'nothing (a base pack)'}"]
    policy = pack.consent
    if policy.self_consent_age is not None:
        lines.append(f"self-consent age: {policy.self_consent_age}; forms: {', '.join(sorted(policy.forms))}")
    if pack.subject_access:
        sar = pack.subject_access
        lines.append(f"subject access: {sar.amount} {sar.unit} ({sar.cited.citation})")
    lines.append("overrides:")
    for override in pack.overrides.values():
        verified = "" if override.cited.verified else " [citation unverified]"
        lines.append(f"  {override.id}: {override.title.get('en', '')} — {override.cited.citation}{verified}")
    for rule in pack.never_by_consent:
        lines.append(f"never by consent: {', '.join(sorted(rule.recipients))} ({rule.cited.citation})")
    return "\n".join(lines)

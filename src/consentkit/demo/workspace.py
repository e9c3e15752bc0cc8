"""The demo folder: refuse someone else's files, build beside it, swap in at the end.

The demo is built in a hidden sibling folder and renamed into place only when every scene
has run, so an interrupted or failed demo leaves nothing half-written, and a previous demo
stays as it was until the new one is complete. A folder is "a previous demo" when its
``demo.json`` says so and it holds nothing but the files that demo listed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from consentkit.errors import InvalidInputError, StorageError

__all__ = ["MARKER", "build_folder", "check_target", "discard", "listing", "publish"]

#: The demo's own summary, which also marks the folder as a demo's.
MARKER = "demo.json"
#: SQLite may leave these beside the database; they belong to it.
_SIDE_FILES = ("consentkit.db-wal", "consentkit.db-shm", "consentkit.db-journal")


def listing(folder: Path) -> list[str]:
    """Every file under ``folder``, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def check_target(out: Path) -> bool:
    """Raise unless ``out`` is missing, empty or a previous demo; True when it is a previous demo."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise InvalidInputError(f"--out: {out} is a file; give a folder (new, empty, or a previous demo)")
    present = listing(out)
    if not present and not any(out.iterdir()):
        return False
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
        known = set(marker["files"]) if marker.get("consentkit_demo") == 1 else None
    except (OSError, ValueError, KeyError, TypeError):
        known = None
    if known is None:
        raise InvalidInputError(f"--out: {out} is not empty and is not a previous consentkit demo; "
                                "choose a new or empty folder")
    foreign = [p for p in present if p not in known and p != MARKER and p not in _SIDE_FILES]
    if foreign:
        raise InvalidInputError(f"--out: {out} holds {len(foreign)} file(s) the demo did not write "
                                f"(e.g. {foreign[0]}); move them or choose another folder")
    return True


def build_folder(out: Path) -> Path:
    """A new private folder beside ``out`` to build the demo in."""
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        build = parent / f".{out.name}.building-{secrets.token_hex(4)}"
        build.mkdir(mode=0o700)
    except OSError as error:
        raise StorageError(f"--out: cannot create a folder in {parent}: {error.strerror or 'I/O error'}") from None
    return build


def publish(build: Path, out: Path, *, replace_previous: bool) -> None:
    """Move the finished demo into place, replacing a previous demo (checked by :func:`check_target`)."""
    old = out.parent / f".{out.name}.previous-{secrets.token_hex(4)}"
    try:
        if replace_previous:
            os.rename(out, old)
        elif out.exists():
            out.rmdir()  # empty, as check_target made sure
        os.rename(build, out)
    except OSError as error:
        if replace_previous and old.exists() and not out.exists():
            os.rename(old, out)
        raise StorageError(f"--out: cannot move the demo into {out}: {error.strerror or 'I/O error'}") from None
    if replace_previous:
        shutil.rmtree(old, ignore_errors=True)


def discard(build: Path) -> None:
    """Remove an unfinished build."""
    shutil.rmtree(build, ignore_errors=True)

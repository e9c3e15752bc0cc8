"""Writing output files atomically: a temporary file beside the target, renamed at the end,
so a failure or an interruption never leaves a half-written report or export."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from consentkit.errors import InvalidInputError, StorageError

__all__ = ["atomic_write"]


def atomic_write(path: Path, chunks: Iterable[str | bytes], *, mode: int = 0o600) -> None:
    """Write ``chunks`` (text as UTF-8, or bytes as they are) to ``path`` all at once or not at
    all; private by default."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInputError(f"output: the folder {directory} does not exist")
    if str(path) == "-" or (path.exists() and not path.is_file()):
        # Renaming over a pipe, a device or a socket would replace it with a plain file.
        raise InvalidInputError(f"output: {path} is not a regular file; give the path of a file to write")
    temp = directory / f".{path.name}.{secrets.token_hex(4)}.part"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {path}: {error.strerror or 'I/O error'}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

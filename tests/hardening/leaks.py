"""Finding planted secrets where they must never be: logs, messages, output files, database bytes.

A test plants recognisable values (a name, a national ID, free text) through the normal
commands, then asks :func:`find_leaks` where any of them, or any key material, shows up.
Each value is searched in the forms it could take on the way out: UTF-8, JSON with
``\\uXXXX`` escapes, Python ``repr`` (what loggers print for parameters), and for key files
the raw key bytes, hex, and both base64 alphabets.

Use it for any flow, e.g. the demo::

    leaks = find_leaks(planted, texts={"log": caplog.text}, directory=demo_dir,
                       db_url=url, keys_dir=demo_dir / "keys")
    assert leaks == []
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import create_engine, inspect, text

__all__ = ["find_leaks", "key_material"]


def _forms(value: str) -> set[bytes]:
    """The byte strings ``value`` could appear as in a file or a log."""
    forms = {value.encode("utf-8"), json.dumps(value)[1:-1].encode("ascii"), repr(value)[1:-1].encode("utf-8"),
             ascii(value)[1:-1].encode("ascii")}
    return {f for f in forms if f}


def _byte_forms(secret: bytes) -> set[bytes]:
    return {secret, secret.hex().encode(), base64.b64encode(secret).rstrip(b"="),
            base64.urlsafe_b64encode(secret).rstrip(b"=")}


def key_material(keys_dir: Path) -> dict[str, set[bytes]]:
    """Every secret in a key directory (``*.key``), in the forms it could leak as."""
    found: dict[str, set[bytes]] = {}
    for path in sorted(keys_dir.glob("*.key")):
        data = path.read_bytes()
        if data.startswith(b"-----BEGIN"):
            key = load_pem_private_key(data, password=None)
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            body = b"".join(line for line in data.splitlines() if not line.startswith(b"-----"))
            found[path.name] = _byte_forms(raw) | {body}
        else:
            secret = base64.b64decode(data.strip())
            found[path.name] = _byte_forms(secret) | {data.strip()}
    return found


def _database_dump(db_url: str) -> bytes:
    """Every value of every consentkit table, as text (for PostgreSQL, whose files we cannot read)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            parts = []
            for table in inspect(conn).get_table_names():
                if table.startswith("ck_"):
                    for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                        parts += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    finally:
        engine.dispose()
    return b"\n".join(parts)


def _haystacks(texts: Mapping[str, str], directory: Path | None, db_url: str | None) -> Iterable[tuple[str, bytes]]:
    for where, content in texts.items():
        yield where, content.encode("utf-8", "surrogatepass")
    if directory is not None:
        for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix != ".key"):
            yield str(path.relative_to(directory)), path.read_bytes()
    if db_url is not None:
        yield "database rows", _database_dump(db_url)


def find_leaks(planted: Mapping[str, str], *, texts: Mapping[str, str] | None = None, directory: Path | None = None,
               db_url: str | None = None, keys_dir: Path | None = None) -> list[str]:
    """Where each planted value (label -> value) or key of ``keys_dir`` appears; empty if nowhere.

    ``texts`` are captured logs and outputs; every file under ``directory`` is read as bytes
    (SQLite database and WAL included; key files are skipped); ``db_url`` adds every row.
    """
    needles = {label: _forms(value) for label, value in planted.items()}
    if keys_dir is not None:
        needles.update({f"key {name}": forms for name, forms in key_material(keys_dir).items()})
    leaks = []
    for where, haystack in _haystacks(texts or {}, directory, db_url):
        for label, forms in needles.items():
            if any(form in haystack for form in forms):
                leaks.append(f"{label} found in {where}")
    return leaks

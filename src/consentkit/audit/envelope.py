"""The canonical byte encoding of an audit entry, and its hash.

An entry is the UTF-8 text of twelve fields separated by line feeds::

    consentkit-audit/1
    <log origin>
    <seq, decimal, from 0>
    <ts, UTC ISO 8601 with microseconds and Z>
    <actor>
    <action>
    <subject id or empty>
    <object ref or empty>
    <outcome>
    <details: canonical JSON, keys sorted, no spaces, non-ASCII kept>
    <sealed: base64 AES-GCM ciphertext of personal details, or empty>
    <previous entry hash, 64 hex digits>

No field may contain a line feed: ids are validated and canonical JSON escapes control
characters, so the encoding is unambiguous. The entry hash is the RFC 9162 leaf hash
``SHA-256(0x00 || entry)``; the same value links the chain (each entry names its
predecessor's hash) and is the leaf of the Merkle tree. Personal details are encrypted
*before* hashing, so destroying a subject's key erases them without breaking the chain.
The database stores this encoding (minus the first two lines) as a generated column computed
from the fields (``storage.entry_sql``), so editing any field changes what is hashed;
``audit verify --deep`` re-encodes the fields in Python instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from consentkit.errors import InvalidInputError

__all__ = [
    "ENTRY_FORMAT",
    "GENESIS_HASH",
    "canonical_json",
    "encode_entry",
    "entry_hash",
]

ENTRY_FORMAT = "consentkit-audit/1"
#: The "previous hash" of the first entry.
GENESIS_HASH = bytes(32)

# json.dumps with these options builds a new encoder per call; one shared encoder gives the
# same text (an encoder keeps no state between calls) and every audit append uses it.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+/=#-]{0,199}")


def canonical_json(value: Mapping[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-ASCII kept, control characters escaped.

    Verification hashes the stored text itself, so the text need only be stable and free of
    raw line feeds (JSON escapes them); it is never re-serialised from parsed values.
    """
    try:
        return _CANONICAL.encode(value)
    except (TypeError, ValueError):
        raise InvalidInputError("audit details: only JSON values (no NaN, no objects)") from None


def check_token(label: str, value: str) -> str:
    """Validate an id-like field (actor, action, object ref) for the line-based encoding."""
    if not _TOKEN.fullmatch(value):
        raise InvalidInputError(f"audit {label}: 1-200 characters from letters, digits and ._@:+/=#-")
    return value


def encode_entry(
    origin: str,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    subject_id: str | None,
    object_ref: str | None,
    outcome: str,
    details: str,
    sealed: str | None,
    prev_hash: bytes,
) -> bytes:
    """The exact bytes that are hashed for one entry (see the module docstring)."""
    return "\n".join(
        (ENTRY_FORMAT, origin, str(seq), ts, actor, action, subject_id or "", object_ref or "",
         outcome, details, sealed or "", prev_hash.hex())
    ).encode("utf-8")


def entry_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash of an entry: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(b"\x00" + entry).digest()

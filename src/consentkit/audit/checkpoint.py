"""Signed checkpoints of the audit log: C2SP ``tlog-checkpoint`` in a C2SP ``signed-note``.

A checkpoint commits to the log's origin, tree size and RFC 9162 root hash. Its note text
is exactly three lines (consentkit writes no extension lines)::

    audit.example.org/consentkit
    8
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

followed by a blank line and one signature line per key,
``— <key name> base64(key id (4 bytes) || Ed25519 signature (64 bytes))``. The key id is
``SHA-256(key name || 0x0A || 0x01 || public key)[:4]`` and a key is distributed as a
verifier key string ``<name>+<8 hex digits of key id>+<base64(0x01 || public key)>``, the
format of Go's ``golang.org/x/mod/sumdb/note`` package, so Go tooling can read both.

Opening a note follows the signed-note rules: signatures from unknown keys are ignored
(key rotation, witness cosignatures), every signature from a known key must verify, and at
least one must. Parsing is strict and errors name the line at fault; they never contain
key material.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentkit.errors import AuditIntegrityError, InvalidInputError

__all__ = [
    "Checkpoint",
    "NoteSignature",
    "NoteVerifier",
    "OpenedNote",
    "SignedNote",
    "add_signature",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verifier_key",
]

# signed-note: "em dash (U+2014), space (U+0020), key name, space, base64-encoded signature".
_SIGNATURE_PREFIX = "\u2014 "
# signed-note signature type 0x01: Ed25519 (RFC 8032) over the note text.
_ED25519 = b"\x01"
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_KEY_ID_SIZE = 4
_HASH_SIZE = 32
_MAX_TREE_SIZE = 2**64 - 1
# signed-note: verifiers SHOULD cap the signatures but MUST accept at least 16; Go allows 100.
_MAX_SIGNATURES = 100
# signed-note: no ASCII control characters other than newline.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
# tlog-checkpoint: "ASCII decimal ... with no leading zeroes (unless the tree is empty)".
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")
_VERIFIER_KEY_FORMAT = "verifier key: expected <name>+<8 hex digits>+<base64 key>"


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not _is_line(self.origin):
            raise InvalidInputError("checkpoint origin must be a non-empty line without control characters")
        if not _is_tree_size(self.size):
            raise InvalidInputError("checkpoint tree size must be an integer from 0 to 2**64 - 1")
        if not _is_bytes_of(self.root, _HASH_SIZE):
            raise InvalidInputError(f"checkpoint root hash must be {_HASH_SIZE} bytes")

    def body(self) -> str:
        """The note text: origin, size and base64 root hash, each ending in a newline."""
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (the inverse of :meth:`body`); no signature is checked."""
        if not text.endswith("\n"):
            raise InvalidInputError("checkpoint: the text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidInputError(f"checkpoint: expected 3 lines (origin, tree size, root hash), found {len(lines)}")
        if len(lines) > 3:
            raise InvalidInputError("checkpoint line 4: extension lines are not accepted")
        origin, size_text, root_text = lines
        if not origin:
            raise InvalidInputError("checkpoint line 1: the origin is empty")
        if not _TREE_SIZE.fullmatch(size_text):
            problem = "has leading zeros" if size_text.isascii() and size_text.isdigit() else "is not a decimal number"
            raise InvalidInputError(f"checkpoint line 2: tree size {problem}")
        if int(size_text) > _MAX_TREE_SIZE:
            raise InvalidInputError("checkpoint line 2: tree size is larger than 2**64 - 1")
        root = _b64decode(root_text)
        if root is None:
            raise InvalidInputError("checkpoint line 3: root hash is not canonical base64")
        if len(root) != _HASH_SIZE:
            raise InvalidInputError(f"checkpoint line 3: root hash is {len(root)} bytes, expected {_HASH_SIZE}")
        return cls(origin, int(size_text), root)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key name, the 4-byte key id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes = field(repr=False)

    @property
    def key_id_hex(self) -> str:
        """The key id as 8 lowercase hex digits, as in a verifier key string."""
        return self.key_id.hex()


@dataclass(frozen=True)
class SignedNote:
    """A parsed but not yet verified note: its text (final newline included) and signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures were checked against trusted keys.

    ``verified`` holds the signatures of known keys (all of which verified); ``unverified``
    those from keys the caller does not know, which were ignored.
    """

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name and 32-byte raw public key."""

    name: str
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if not _is_bytes_of(self.public_key, _ED25519_KEY_SIZE):
            raise InvalidInputError(f"note verifier: an Ed25519 public key is {_ED25519_KEY_SIZE} bytes")

    @classmethod
    def from_public_key(cls, name: str, public_key: Ed25519PublicKey) -> NoteVerifier:
        """The verifier for ``public_key`` under the key name ``name``."""
        return cls(name, public_key.public_bytes_raw())

    @property
    def key_id(self) -> bytes:
        """The signed-note key id: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
        return _key_id(self.name, self.public_key)

    @property
    def key(self) -> str:
        """The verifier key string ``<name>+<key id hex>+<base64(0x01 || public key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{_b64(_ED25519 + self.public_key)}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key id of an Ed25519 key under ``name``."""
    _check_key_name(name)
    return _key_id(name, public_key.public_bytes_raw())


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key string to hand to auditors: ``<name>+<key id hex>+<base64 key>``."""
    return NoteVerifier.from_public_key(name, public_key).key


def parse_verifier_key(text: str) -> NoteVerifier:
    """Parse a verifier key string; the key id must match the name and the key."""
    # Names and key ids cannot contain "+", but base64 can: split at the first two only.
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _KEY_ID_HEX.fullmatch(parts[1]):
        raise InvalidInputError(_VERIFIER_KEY_FORMAT)
    name, id_hex, encoded = parts
    raw = _b64decode(encoded)
    if raw is None or len(raw) != 1 + _ED25519_KEY_SIZE or raw[:1] != _ED25519:
        raise InvalidInputError("verifier key: not an Ed25519 key (base64 of 0x01 and 32 bytes)")
    verifier = NoteVerifier(name, raw[1:])
    if verifier.key_id != bytes.fromhex(id_hex):
        raise InvalidInputError("verifier key: the key id does not match the name and the key")
    return verifier


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """A signed note: ``text``, a blank line and the signature line of ``private_key`` as ``name``."""
    _check_note_text(text)
    _check_key_name(name)
    return f"{text}\n{_signature_line(text, name, private_key)}"


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a note signed by ``private_key`` under the key name ``name``."""
    return sign_note(checkpoint.body(), name, private_key)


def add_signature(note: str | bytes, name: str, private_key: Ed25519PrivateKey) -> str:
    """Append another signature line (a cosignature, or the new key during rotation).

    Existing signatures are not checked: a cosigner should :func:`open_checkpoint` first.
    """
    parsed = parse_note(note)
    _check_key_name(name)
    new_id = _key_id(name, private_key.public_key().public_bytes_raw())
    if any(sig.name == name and sig.key_id == new_id for sig in parsed.signatures):
        raise InvalidInputError(f"signed note: already signed by key {name}+{new_id.hex()}")
    signatures = "".join(_format_signature(sig) for sig in parsed.signatures)
    return f"{parsed.text}\n{signatures}{_signature_line(parsed.text, name, private_key)}"


def parse_note(note: str | bytes) -> SignedNote:
    """Split a signed note into its text and signature lines, without verifying anything."""
    text_and_sigs = _decode(note)
    if _CONTROL.search(text_and_sigs):
        raise InvalidInputError("signed note: contains a control character other than newline")
    # signed-note: "the text is separated from the signatures by the last empty line".
    split = text_and_sigs.rfind("\n\n")
    if split < 0:
        raise InvalidInputError("signed note: no blank line separates the text from the signatures")
    text, block = text_and_sigs[: split + 1], text_and_sigs[split + 2 :]
    if not block:
        raise InvalidInputError("signed note: no signature lines after the blank line")
    if not block.endswith("\n"):
        raise InvalidInputError("signed note: the last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise InvalidInputError(f"signed note: more than {_MAX_SIGNATURES} signatures")
    signatures = tuple(_parse_signature_line(line, number) for number, line in enumerate(lines, 1))
    return SignedNote(text, signatures)


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Verify a note against trusted keys; unknown keys' signatures are ignored.

    Raises :class:`AuditIntegrityError` of kind ``forged-checkpoint`` when a known key's
    signature does not verify (signed-note: clients SHOULD then reject the whole note) and
    of kind ``unknown-key`` when no known key signed it.
    """
    parsed = parse_note(note)
    trusted = _index_verifiers(verifiers)
    message = parsed.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in parsed.signatures:
        # signed-note: a key is known only if both its name and its id match.
        verifier = trusted.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
        elif not verifier.verifies(message, sig.signature):
            raise AuditIntegrityError(
                f"checkpoint: the signature by trusted key {sig.name}+{sig.key_id_hex} does not verify",
                kind="forged-checkpoint",
            )
        elif sig not in verified:
            verified.append(sig)
    if not verified:
        present = ", ".join(f"{sig.name}+{sig.key_id_hex}" for sig in parsed.signatures[:5])
        raise AuditIntegrityError(
            f"checkpoint: no signature from a trusted key (signed by {present})", kind="unknown-key"
        )
    return OpenedNote(parsed.text, tuple(verified), tuple(unverified))


def open_checkpoint(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> Checkpoint:
    """Verify a signed checkpoint against trusted keys and return the tree head it commits to."""
    # signed-note: the text MUST be ignored unless a trusted key signed it, so the
    # signatures are checked before the checkpoint lines are even parsed.
    return Checkpoint.from_body(open_note(note, verifiers).text)


def _parse_signature_line(line: str, number: int) -> NoteSignature:
    """One ``— <name> <base64>`` line; ``number`` counts signature lines from 1 for messages."""
    where = f"signed note: signature line {number}"
    if not line.startswith(_SIGNATURE_PREFIX):
        raise InvalidInputError(f"{where} does not start with an em dash and a space")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not _valid_key_name(name):
        raise InvalidInputError(f"{where}: the key name is empty or contains spaces or '+'")
    raw = _b64decode(encoded)
    if raw is None:
        raise InvalidInputError(f"{where}: the signature is not canonical base64")
    if len(raw) <= _KEY_ID_SIZE:
        raise InvalidInputError(f"{where}: the signature is too short")
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def _signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    raw_public = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(text.encode("utf-8"))
    return _format_signature(NoteSignature(name, _key_id(name, raw_public), signature))


def _format_signature(sig: NoteSignature) -> str:
    return f"{_SIGNATURE_PREFIX}{sig.name} {_b64(sig.key_id + sig.signature)}\n"


def _index_verifiers(verifiers: Sequence[NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    """Map (name, key id) to the verifier; two different keys under one pair are ambiguous."""
    index: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, NoteVerifier):
            raise InvalidInputError("verifiers must be NoteVerifier objects (see parse_verifier_key)")
        pair = (verifier.name, verifier.key_id)
        if pair in index and index[pair] != verifier:
            raise InvalidInputError(f"verifier keys: two different keys share {verifier.name}+{pair[1].hex()}")
        index[pair] = verifier
    return index


def _key_id(name: str, raw_public_key: bytes) -> bytes:
    # signed-note: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4].
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519 + raw_public_key).digest()[:_KEY_ID_SIZE]


def _valid_key_name(name: str) -> bool:
    # signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus".
    return bool(name) and "+" not in name and not _CONTROL.search(name) and not any(c.isspace() for c in name)


def _check_key_name(name: object) -> None:
    if not isinstance(name, str) or not _valid_key_name(name):
        raise InvalidInputError("key name must be non-empty, without spaces, '+' or control characters")


def _check_note_text(text: object) -> None:
    if not isinstance(text, str) or not text.endswith("\n") or text == "\n":
        raise InvalidInputError("signed note: the text must be non-empty and end with a newline")
    if _CONTROL.search(text):
        raise InvalidInputError("signed note: the text contains a control character other than newline")


# The dataclasses check their fields at run time too (callers may be untyped, or pass
# values decoded from JSON); the checks take ``object`` so mypy does not call them redundant.
def _is_line(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not _CONTROL.search(value) and "\n" not in value


def _is_tree_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TREE_SIZE


def _is_bytes_of(value: object, size: int) -> bool:
    return isinstance(value, bytes) and len(value) == size


def _decode(note: str | bytes) -> str:
    if isinstance(note, str):
        return note
    try:
        return bytes(note).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError("signed note: not valid UTF-8") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64 (RFC 4648 §4): padded, alphabet only, canonical trailing bits."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None
    return raw if _b64(raw) == text else None

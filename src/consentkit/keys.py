"""Keys live outside the database: a key directory (files 0600) or environment variables.

Three kinds of key, each with a key id so that keys rotate while old data still opens
and old signatures still verify (the first key of a kind is the active one):

* **master** (AES-256): wraps the random per-subject data keys and keys the blind index
  of national IDs. The data keys are random and stored wrapped, never derived, so that
  destroying one really erases (a derived key could be recomputed from the master key).
* **signing** (Ed25519): signs audit checkpoints and consent receipts. Its key id is the
  C2SP signed-note key id ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
* **pseudonym** (256-bit root): per-domain pseudonym keys are derived from it with HKDF.

Key directory layout::

    keyring.json              origin and the active key id of each kind (no secrets)
    master-<kid>.key          one base64 line: 32 random bytes
    pseudonym-<kid>.key       one base64 line: 32 random bytes
    signing-<kid>.key         PEM PKCS#8 Ed25519 private key
    signing-<kid>.pub         PEM public key, for auditors (may be world-readable)

Environment alternative: ``CONSENTKIT_MASTER_KEY``, ``CONSENTKIT_SIGNING_KEY`` and
``CONSENTKIT_PSEUDONYM_KEY`` (base64 32-byte values, comma-separated, active first) and
``CONSENTKIT_LOG_ORIGIN``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentkit.errors import ConfigurationError, ErasedError, KeyStoreError, WrongKeyError

__all__ = [
    "KeyRing",
    "SecretKey",
    "SigningKey",
    "WrappedKey",
    "open_sealed",
    "seal",
]

_KEYRING_FILE = "keyring.json"
_KEYRING_FORMAT = "consentkit-keyring/1"
_SEALED_VERSION = b"\x01"
_NONCE_BYTES = 12


class _HasKid(Protocol):
    @property
    def kid(self) -> str: ...


_K = TypeVar("_K", bound=_HasKid)
_ENV_NAMES = {
    "master": "CONSENTKIT_MASTER_KEY",
    "signing": "CONSENTKIT_SIGNING_KEY",
    "pseudonym": "CONSENTKIT_PSEUDONYM_KEY",
}


def _secret_kid(kind: str, material: bytes) -> str:
    # A key id must not reveal the key: hash it under a fixed domain label.
    return hashlib.sha256(b"consentkit key id\x00" + kind.encode() + b"\x00" + material).hexdigest()[:16]


def note_key_id(name: str, public_raw: bytes) -> bytes:
    """C2SP signed-note key id for an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_raw).digest()[:4]


@dataclass(frozen=True)
class SecretKey:
    """A symmetric key and its id. ``repr`` never shows the material."""

    kind: str
    kid: str
    material: bytes = field(repr=False)

    @classmethod
    def from_material(cls, kind: str, material: bytes) -> SecretKey:
        """Wrap raw key bytes, computing the key id."""
        if len(material) != 32:
            raise KeyStoreError(f"{kind} key: expected 32 bytes, got {len(material)}")
        return cls(kind, _secret_kid(kind, material), material)


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 signing key, its signed-note name (the log origin) and key id."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    @property
    def public_raw(self) -> bytes:
        """The raw 32-byte public key."""
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def kid(self) -> str:
        """The C2SP key id in hex (8 characters)."""
        return note_key_id(self.name, self.public_raw).hex()

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (Ed25519 is deterministic)."""
        return self.private_key.sign(message)


@dataclass(frozen=True)
class WrappedKey:
    """A subject's data key as stored: the master key id and ``nonce || AES-GCM(ct || tag)``."""

    master_kid: str
    blob: bytes


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM encrypt with a random nonce: ``0x01 || nonce || ciphertext || tag``."""
    nonce = os.urandom(_NONCE_BYTES)
    return _SEALED_VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt what :func:`seal` produced; a wrong key or altered bytes raise ``ValueError``."""
    if blob[:1] != _SEALED_VERSION or len(blob) < 1 + _NONCE_BYTES + 16:
        raise ValueError("sealed value has an unknown format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :], aad)
    except InvalidTag:
        raise ValueError("sealed value does not open with this key") from None


@dataclass
class KeyRing:
    """All keys of one installation; the first key of each kind is the active one."""

    origin: str
    masters: tuple[SecretKey, ...]
    signers: tuple[SigningKey, ...]
    pseudonyms: tuple[SecretKey, ...]
    _index_keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def generate(cls, origin: str | None = None) -> KeyRing:
        """Fresh random keys for a new installation."""
        name = origin or f"consentkit.local/{uuid.uuid4().hex[:12]}"
        return cls(
            origin=name,
            masters=(SecretKey.from_material("master", secrets.token_bytes(32)),),
            signers=(SigningKey(name, Ed25519PrivateKey.generate()),),
            pseudonyms=(SecretKey.from_material("pseudonym", secrets.token_bytes(32)),),
        )

    def rotated(self, kinds: Sequence[str]) -> KeyRing:
        """A copy with a new active key for each kind in ``kinds``; old keys are kept."""
        unknown = set(kinds) - set(_ENV_NAMES)
        if unknown:
            raise ConfigurationError("key kind: choose from master, signing, pseudonym")
        fresh = KeyRing.generate(self.origin)
        return KeyRing(
            origin=self.origin,
            masters=(fresh.masters if "master" in kinds else ()) + self.masters,
            signers=(fresh.signers if "signing" in kinds else ()) + self.signers,
            pseudonyms=(fresh.pseudonyms if "pseudonym" in kinds else ()) + self.pseudonyms,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> KeyRing | None:
        """Keys from environment variables, or ``None`` when none is set."""
        present = {kind: env.get(name, "") for kind, name in _ENV_NAMES.items()}
        if not any(present.values()):
            return None
        missing = [name for kind, name in _ENV_NAMES.items() if not present[kind]]
        if missing:
            raise KeyStoreError(f"set all three key variables; missing: {', '.join(missing)}")
        origin = env.get("CONSENTKIT_LOG_ORIGIN", "")
        if not origin:
            raise KeyStoreError("set CONSENTKIT_LOG_ORIGIN with the key variables (the audit log's name)")
        raw = {kind: [_b64_key(_ENV_NAMES[kind], part) for part in value.split(",")]
               for kind, value in present.items()}
        return cls(
            origin=origin,
            masters=tuple(SecretKey.from_material("master", m) for m in raw["master"]),
            signers=tuple(SigningKey(origin, Ed25519PrivateKey.from_private_bytes(m))
                          for m in raw["signing"]),
            pseudonyms=tuple(SecretKey.from_material("pseudonym", m) for m in raw["pseudonym"]),
        )

    # -- directory ------------------------------------------------------------------

    @classmethod
    def load_dir(cls, directory: Path) -> KeyRing:
        """Load a key directory, refusing files that others can read (as ssh does)."""
        index_path = directory / _KEYRING_FILE
        if not index_path.exists():
            raise KeyStoreError(f"no keys in {directory}: run `consentkit init` or pass --keys DIR")
        _check_directory(directory)
        index = _read_index(index_path)
        origin = index["origin"]
        masters: list[SecretKey] = []
        signers: list[SigningKey] = []
        pseudonyms: list[SecretKey] = []
        for path in sorted(directory.glob("*.key")):
            kind, _, kid = path.stem.partition("-")
            raw = _read_private_file(path)
            if kind == "signing":
                signers.append(SigningKey(origin, _parse_pem_private(path, raw)))
                loaded_kid = signers[-1].kid
            elif kind in ("master", "pseudonym"):
                key = SecretKey.from_material(kind, _b64_key(str(path), raw.decode("ascii", "replace")))
                (masters if kind == "master" else pseudonyms).append(key)
                loaded_kid = key.kid
            else:
                continue
            if loaded_kid != kid:
                raise KeyStoreError(f"key file {path} is corrupt: its content does not match its key id")
        active = index["active"]
        return cls(
            origin=origin,
            masters=_active_first(masters, active.get("master"), "master", directory),
            signers=_active_first(signers, active.get("signing"), "signing", directory),
            pseudonyms=_active_first(pseudonyms, active.get("pseudonym"), "pseudonym", directory),
        )

    def save_dir(self, directory: Path) -> None:
        """Write every key not yet on disk (0600) and the index; existing files are kept."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for key in (*self.masters, *self.pseudonyms):
            _write_private(directory / f"{key.kind}-{key.kid}.key",
                           base64.b64encode(key.material) + b"\n")
        for signer in self.signers:
            pem = signer.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            _write_private(directory / f"signing-{signer.kid}.key", pem)
            public = signer.public_key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _write_private(directory / f"signing-{signer.kid}.pub", public, mode=0o644)
        index = {
            "format": _KEYRING_FORMAT,
            "origin": self.origin,
            "active": {"master": self.master.kid, "signing": self.signer.kid,
                       "pseudonym": self.pseudonym.kid},
        }
        _write_private(directory / _KEYRING_FILE, json.dumps(index, indent=2).encode() + b"\n",
                       replace=True)

    # -- active keys ----------------------------------------------------------------

    @property
    def master(self) -> SecretKey:
        """The active master key."""
        return self.masters[0]

    @property
    def signer(self) -> SigningKey:
        """The active signing key."""
        return self.signers[0]

    @property
    def pseudonym(self) -> SecretKey:
        """The active pseudonym root key."""
        return self.pseudonyms[0]

    def signer_by_kid(self, kid: str) -> SigningKey | None:
        """The signing key with this key id, if this ring has it."""
        return next((s for s in self.signers if s.kid == kid), None)

    def check_belongs(self, known_master_kids: Sequence[str]) -> None:
        """Raise :class:`WrongKeyError` unless this ring holds a master key the database knows."""
        if known_master_kids and not {k.kid for k in self.masters} & set(known_master_kids):
            raise WrongKeyError(
                "these keys do not belong to this database (no matching master key id); "
                "point --keys (or CONSENTKIT_KEYS) at the key directory made by `consentkit init`"
            )

    # -- data keys and the blind index --------------------------------------------

    def wrap(self, subject_id: str, data_key: bytes) -> WrappedKey:
        """Wrap a subject's data key under the active master key."""
        master = self.master
        return WrappedKey(master.kid, seal(master.material, data_key, _wrap_aad(subject_id, master.kid)))

    def unwrap(self, subject_id: str, wrapped: WrappedKey | None) -> bytes:
        """Unwrap a subject's data key; ``None`` (destroyed) raises :class:`ErasedError`."""
        if wrapped is None:
            raise ErasedError("the subject was erased: their data key no longer exists")
        master = next((k for k in self.masters if k.kid == wrapped.master_kid), None)
        if master is None:
            raise WrongKeyError(
                f"master key {wrapped.master_kid} is not in the key directory; restore it or "
                "point --keys at the right directory"
            )
        try:
            return open_sealed(master.material, wrapped.blob, _wrap_aad(subject_id, master.kid))
        except ValueError:
            raise WrongKeyError(
                f"a data key does not unwrap with master key {master.kid}: the key file or the "
                "database was altered"
            ) from None

    def blind_index(self, value: str) -> str:
        """Keyed blind index of a normalised identifier under the active master key."""
        return self.blind_indexes(value)[0]

    def blind_indexes(self, value: str) -> list[str]:
        """The blind index of ``value`` under every master key, active first (for lookups)."""
        return [self._index(key, value) for key in self.masters]

    def _index(self, key: SecretKey, value: str) -> str:
        derived = self._derived(key, b"consentkit/blind-index/v1")
        digest = hmac.new(derived, value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{key.kid}:{digest}"

    def head_tag(self, message: bytes) -> str:
        """A MAC over the audit head, so someone with only database access cannot rewrite it."""
        master = self.master
        derived = self._derived(master, b"consentkit/audit-head/v1")
        # hmac.digest: the one-shot C path, the same HMAC-SHA256 as hmac.new(...) (every audit append MACs the head).
        return f"{master.kid}:{hmac.digest(derived, message, 'sha256').hex()}"

    def check_head_tag(self, message: bytes, tag: str) -> bool:
        """Whether ``tag`` is this installation's MAC of ``message`` (under any master key)."""
        kid, _, digest = tag.partition(":")
        key = next((k for k in self.masters if k.kid == kid), None)
        if key is None:
            return False
        derived = self._derived(key, b"consentkit/audit-head/v1")
        return hmac.compare_digest(hmac.new(derived, message, hashlib.sha256).hexdigest(), digest)

    def _derived(self, key: SecretKey, label: bytes) -> bytes:
        cache_key = f"{key.kid}:{label.decode()}"
        derived = self._index_keys.get(cache_key)
        if derived is None:
            derived = HKDF(SHA256(), 32, salt=None, info=label).derive(key.material)
            self._index_keys[cache_key] = derived
        return derived


def _wrap_aad(subject_id: str, kid: str) -> bytes:
    return f"consentkit/data-key/v1|{subject_id}|{kid}".encode()


def _b64_key(source: str, text: str) -> bytes:
    try:
        material = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError(f"{source} is corrupt: expected one base64 line of 32 bytes") from None
    if len(material) != 32:
        raise KeyStoreError(f"{source} is corrupt: expected one base64 line of 32 bytes")
    return material


def _check_directory(directory: Path) -> None:
    """Refuse a key directory others may write to: whoever can add a file there can add a
    signing key of their own, which would then verify checkpoints they forged."""
    try:
        mode = directory.stat().st_mode
    except OSError:
        raise KeyStoreError(f"cannot read key directory {directory}") from None
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyStoreError(
            f"key directory {directory} is writable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 700 {directory}` (anyone who can write there can add a key)"
        )


def _read_private_file(path: Path) -> bytes:
    try:
        info = path.stat()
    except OSError:
        raise KeyStoreError(f"cannot read key file {path}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        raise KeyStoreError(
            f"key file {path} is accessible by group or others (mode {mode:o}); "
            f"run `chmod 600 {path}` (keys must be private)"
        )
    try:
        return path.read_bytes()
    except OSError:
        raise KeyStoreError(f"cannot read key file {path} (check its owner and permissions)") from None


def _parse_pem_private(path: Path, raw: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise KeyStoreError(f"key file {path} is corrupt: expected a PEM Ed25519 private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyStoreError(f"key file {path} is not an Ed25519 key")
    return key


def _read_index(path: Path) -> dict[str, Any]:
    raw = _read_private_file(path)
    try:
        index = json.loads(raw)
    except ValueError:
        raise KeyStoreError(f"{path} is corrupt: not JSON") from None
    if not isinstance(index, dict) or index.get("format") != _KEYRING_FORMAT \
            or not isinstance(index.get("origin"), str) or not isinstance(index.get("active"), dict):
        raise KeyStoreError(f"{path} is corrupt: expected format {_KEYRING_FORMAT} with origin and active")
    return index


def _active_first(
    keys: list[_K], active: str | None, kind: str, directory: Path
) -> tuple[_K, ...]:
    if not keys:
        raise KeyStoreError(f"no {kind} key in {directory}: run `consentkit init`")
    chosen = [k for k in keys if k.kid == active]
    if not chosen:
        raise KeyStoreError(f"the active {kind} key {active} named in keyring.json is missing "
                            f"from {directory}")
    return (chosen[0], *(k for k in keys if k.kid != active))


def _write_private(path: Path, content: bytes, *, mode: int = 0o600, replace: bool = False) -> None:
    if path.exists() and not replace:
        return
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

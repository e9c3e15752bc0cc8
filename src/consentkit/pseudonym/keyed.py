"""Keyed pseudonyms and reversible tokens, one key per pseudonymisation domain.

* :class:`Pseudonymiser` - a deterministic, one-way pseudonym for linkage:
  ``HMAC-SHA-256(k_domain, "KIND:" + canonical value)``, written
  ``"{KIND}_{kid[:8]}_{base32(mac[:20])}"`` so the key version travels with it.
* :class:`Tokeniser` - a deterministic, authenticated, reversible token for values an
  authorised person may need to re-identify: AES-SIV (RFC 5297) with the kind and the
  domain as associated data, written ``"tok_{kid[:8]}_{KIND}.{urlsafe base64}"``.

Both derive a per-domain key from the pseudonym root keys with HKDF-SHA-256 (RFC 5869),
so one identifier gives unlinkable outputs in two domains (a research project, a
recipient). This follows ENISA's domain-specific pseudonyms and the EDPB Guidelines
01/2025 ("MACs or encryption with secret parameters"); an unkeyed hash of a national
identifier is reversible by enumeration (``pii-and-identifiers.md`` §6.2).

Errors never contain the value, a token or key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym.identifiers import KINDS, normalise_many

__all__ = ["TEXT", "Pseudonymiser", "Tokeniser", "canonical_text", "check_domain"]

#: The pseudonym kind for free text: names, e-mail addresses, anything without a checksum.
TEXT = "TEXT"

_PSEUDONYM_INFO = b"consentkit/pseudonym/v1|"
_TOKEN_INFO = b"consentkit/token/v1|"
_DOMAIN = re.compile(r"[a-z0-9._-]{1,64}")
_TOKEN_KIND = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_TOKEN = re.compile(r"tok_([0-9a-f]{8})_([A-Z][A-Z0-9_]{0,63})\.([A-Za-z0-9_-]+)")
_PSEUDONYM_KINDS = frozenset((*KINDS, TEXT))
_MAC_BYTES = 20  # 160 bits: 32 base32 characters, far beyond any collision concern here
_B32_CHARS = 32
_KID_CHARS = 8
# RFC 2104: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) with a key of one SHA-256 block.
_BLOCK = 64
_IPAD = bytes.maketrans(bytes(range(256)), bytes(b ^ 0x36 for b in range(256)))
_OPAD = bytes.maketrans(bytes(range(256)), bytes(b ^ 0x5C for b in range(256)))
# RFC 4648 §6 alphabet, lower case, indexed by a 5-bit group held in one byte (see _base32).
_B32_LETTERS = bytes.maketrans(bytes(range(32)), b"abcdefghijklmnopqrstuvwxyz234567")
# (shift, width) of each halving step of _base32: 160 bits in a 256-bit lane, down to 5 in 8.
_B32_STEPS = ((48, 80), (24, 40), (12, 20), (6, 10), (3, 5))
_UNDECODABLE = "token does not decode with this installation's keys"


def check_domain(domain: str) -> bytes:
    """``domain`` as bytes, or a one-line error saying what a domain may hold (it is never echoed)."""
    if not _DOMAIN.fullmatch(domain):
        raise InvalidInputError("a pseudonymisation domain is 1-64 characters of a-z, 0-9, '.', '_' and '-'")
    return domain.encode("ascii")


def _check_keys(keys: Sequence[SecretKey]) -> tuple[SecretKey, ...]:
    checked = tuple(keys)
    if not checked:
        raise ConfigurationError("no pseudonym key: run `consentkit init` or set CONSENTKIT_PSEUDONYM_KEY")
    if any(key.kind != "pseudonym" for key in checked):
        # A master key must never double as a pseudonym root: separate keys, separate purposes.
        raise ConfigurationError("pseudonyms and tokens need pseudonym keys (KeyRing.pseudonyms)")
    return checked


def _derive(root: SecretKey, info: bytes, length: int) -> bytes:
    return HKDF(SHA256(), length, salt=None, info=info).derive(root.material)


class _Hmac:
    """HMAC-SHA-256 under one key, byte for byte ``hmac.digest(key, message, "sha256")``.

    The inner and outer hash states after the padded key block (RFC 2104 §2) are hashed
    once and copied per message: ``hmac.digest`` hashes both key blocks again for every
    message, which doubles its cost on messages as short as identifiers.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def digests(self, messages: Iterable[bytes]) -> list[bytes]:
        """The 32-byte MAC of each message, in order."""
        inner_state, outer_state = self._inner.copy, self._outer.copy
        macs: list[bytes] = []
        append = macs.append
        for message in messages:
            inner = inner_state()
            inner.update(message)
            outer = outer_state()
            outer.update(inner.digest())
            append(outer.digest())
        return macs


@lru_cache(maxsize=4)
def _lane_masks(lanes: int) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The masks of :func:`_base32` for ``lanes`` 256-bit lanes: the first 160 bits of
    each lane, then ``(shift, keep, move)`` for each halving step."""
    steps = []
    for shift, width in _B32_STEPS:
        size = 2 * (shift + width) // 8  # bytes per sub-lane at this step: 32, 16, 8, 4, 2
        low = ((1 << width) - 1).to_bytes(size, "big")
        high = (((1 << width) - 1) << width).to_bytes(size, "big")
        count = lanes * 32 // size
        steps.append((shift, int.from_bytes(low * count, "big"), int.from_bytes(high * count, "big")))
    first = ((1 << _MAC_BYTES * 8) - 1).to_bytes(_B32_CHARS, "big")
    return int.from_bytes(first * lanes, "big"), tuple(steps)


def _base32(digests: Sequence[bytes]) -> str:
    """RFC 4648 base32 of the first 20 bytes of each 32-byte digest, lower case, concatenated.

    Equal to ``"".join(base64.b32encode(d[:20]).decode().lower() for d in digests)`` (32
    characters each), which is pure Python and costs more than the MAC itself. Here the
    digests are the 256-bit lanes of one integer; after a shift leaves the 160 bits to
    keep at the bottom of each lane, five halving steps move every 5-bit group into a
    byte of its own (the upper half of each lane is shifted up into the free space, then
    of each half, ...), and a byte translation spells the groups. That is some twenty
    big-integer operations for a whole batch instead of sixteen table lookups per MAC.
    """
    first, steps = _lane_masks(len(digests))
    x = (int.from_bytes(b"".join(digests), "big") >> (_B32_CHARS - _MAC_BYTES) * 8) & first
    for shift, keep, move in steps:
        x = (x & keep) | ((x & move) << shift)
    return x.to_bytes(_B32_CHARS * len(digests), "big").translate(_B32_LETTERS).decode("ascii")


def canonical_text(value: str) -> str:
    """Free text as pseudonymised: NFC, casefolded, runs of whitespace collapsed to one space."""
    if value.isascii():  # ASCII is its own NFC, and casefolds as it lower-cases
        return " ".join(value.lower().split())
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())
    return " ".join(folded.split())


class Pseudonymiser:
    """Deterministic keyed pseudonyms in one domain.

    ``keys`` are the pseudonym root keys, active first (``KeyRing.pseudonyms``): new
    pseudonyms use the active key; :meth:`pseudonyms` gives one under every key, for
    looking up records pseudonymised before a rotation.
    """

    __slots__ = ("_domain", "_keys", "_macs")

    def __init__(self, keys: Sequence[SecretKey], domain: str) -> None:
        info = _PSEUDONYM_INFO + check_domain(domain)
        self._domain = domain
        self._keys = _check_keys(keys)
        # Derived once: HKDF per call would cost more than the HMAC itself.
        self._macs = tuple((key.kid[:_KID_CHARS], _Hmac(_derive(key, info, 32))) for key in self._keys)

    @property
    def domain(self) -> str:
        """The pseudonymisation domain."""
        return self._domain

    @property
    def kid(self) -> str:
        """The id of the active root key."""
        return self._keys[0].kid

    def pseudonym(self, kind: str, value: str, *, today: date | None = None) -> str:
        """The pseudonym of ``value`` under the active key.

        ``kind`` is an identifier kind of :data:`~consentkit.pseudonym.identifiers.KINDS`
        (the value is validated and normalised, so every written form of one number gives
        one pseudonym; ``today`` resolves the century of 10-digit personnummer) or
        ``"TEXT"`` (casefolded, whitespace-collapsed NFC). Raises
        :class:`~consentkit.errors.InvalidInputError` for an unknown kind or an invalid
        or empty value; the message never contains the value.
        """
        return self.pseudonym_many(kind, (value,), today=today)[0]

    def pseudonym_many(self, kind: str, values: Iterable[str], *, today: date | None = None) -> list[str]:
        """The pseudonyms of ``values`` under the active key, in order: the same strings as
        :meth:`pseudonym` gives one by one, in a fraction of the time for a batch. Raises
        like :meth:`pseudonym` for the first value that is not valid (without saying which)."""
        kid8, mac = self._macs[0]
        return _format(kind, kid8, mac.digests(_messages(kind, values, today)))

    def pseudonyms(self, kind: str, value: str, *, today: date | None = None) -> tuple[str, ...]:
        """The pseudonym of ``value`` under every root key, active first."""
        messages = _messages(kind, (value,), today)
        return tuple(_format(kind, kid8, mac.digests(messages))[0] for kid8, mac in self._macs)


def _messages(kind: str, values: Iterable[str], today: date | None) -> list[bytes]:
    """The MAC input of each value of ``kind``: ``KIND:`` and the canonical form, UTF-8.

    The kind is inside the MAC so equal digits of two kinds (an AMKA and an 11-digit
    SNILS) never share a pseudonym.
    """
    if kind == TEXT:
        texts = [canonical_text(value) for value in values]
        if not all(texts):
            raise InvalidInputError("TEXT value is empty after whitespace is removed")
    elif kind in _PSEUDONYM_KINDS:
        texts = normalise_many(kind, values, today=today)
    else:
        # The unknown kind is not echoed: swapped arguments would put the value in the message.
        raise InvalidInputError("unknown pseudonym kind; expected one of: " + ", ".join((*KINDS, TEXT)))
    head = f"{kind}:"
    return [(head + text).encode() for text in texts]


def _format(kind: str, kid8: str, digests: Sequence[bytes]) -> list[str]:
    """``KIND_kid8_`` and the base32 of each MAC's first 160 bits."""
    head = f"{kind}_{kid8}_"
    text = _base32(digests)
    return [head + text[start:start + _B32_CHARS] for start in range(0, len(text), _B32_CHARS)]


class Tokeniser:
    """Deterministic authenticated tokens (AES-SIV) in one domain, reversible with the keys.

    ``keys`` are the pseudonym root keys, active first. :meth:`token` uses the active
    key; :meth:`reveal` finds the key by the id prefix in the token, so tokens made
    before a rotation still reveal while their key is in the ring.
    """

    __slots__ = ("_active", "_ciphers", "_domain", "_domain_bytes")

    def __init__(self, keys: Sequence[SecretKey], domain: str) -> None:
        self._domain_bytes = check_domain(domain)
        self._domain = domain
        checked = _check_keys(keys)
        info = _TOKEN_INFO + self._domain_bytes
        # 512-bit key: AES-SIV splits it into a 256-bit S2V/CMAC key and a 256-bit CTR key.
        ciphers = [(key.kid[:_KID_CHARS], AESSIV(_derive(key, info, 64))) for key in checked]
        self._active = ciphers[0]
        # Two root kids may share 8 hex characters (2^-32 per pair): keep every candidate.
        self._ciphers: dict[str, list[AESSIV]] = {}
        for kid8, cipher in ciphers:
            self._ciphers.setdefault(kid8, []).append(cipher)

    @property
    def domain(self) -> str:
        """The pseudonymisation domain."""
        return self._domain

    def token(self, kind: str, value: str) -> str:
        """The token of ``value``: same kind, value, domain and key give the same token.

        ``kind`` is an upper-case label (``SE_PERSONNUMMER``, ``NAME``...); it appears in
        the token and is authenticated with it. The value is encrypted as given: normalise
        it first if every written form should give one token.
        """
        if not _TOKEN_KIND.fullmatch(kind):
            raise InvalidInputError("a token kind is 1-64 characters of A-Z, 0-9 and '_', starting with a letter")
        kid8, cipher = self._active
        sealed = cipher.encrypt(value.encode("utf-8"), [kind.encode("ascii"), self._domain_bytes])
        return f"tok_{kid8}_{kind}.{base64.urlsafe_b64encode(sealed).rstrip(b'=').decode('ascii')}"

    def reveal(self, token: str) -> tuple[str, str]:
        """Return ``(kind, value)`` of a token made in this domain with one of the keys.

        Any altered, truncated or foreign token raises one opaque
        :class:`~consentkit.errors.InvalidInputError` that names neither the token nor a key.
        """
        parsed = _TOKEN.fullmatch(token)
        if parsed is None:
            raise InvalidInputError(_UNDECODABLE)
        kid8, kind, text = parsed.groups()
        sealed = _decode_b64(text)
        for cipher in self._ciphers.get(kid8, ()):
            try:
                plain = cipher.decrypt(sealed, [kind.encode("ascii"), self._domain_bytes])
                return kind, plain.decode("utf-8")
            except (InvalidTag, UnicodeDecodeError):
                continue
        raise InvalidInputError(_UNDECODABLE)


def _decode_b64(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInputError(_UNDECODABLE) from None
    # Only the canonical spelling decodes: unused low bits in the last character would
    # otherwise let an edited token reveal as the original.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text or len(raw) < 16:
        raise InvalidInputError(_UNDECODABLE)
    return raw

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
import hmac
import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym.identifiers import KINDS, normalise

__all__ = ["TEXT", "Pseudonymiser", "Tokeniser", "canonical_text"]

#: The pseudonym kind for free text: names, e-mail addresses, anything without a checksum.
TEXT = "TEXT"

_PSEUDONYM_INFO = b"consentkit/pseudonym/v1|"
_TOKEN_INFO = b"consentkit/token/v1|"
_DOMAIN = re.compile(r"[a-z0-9._-]{1,64}")
_TOKEN_KIND = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_TOKEN = re.compile(r"tok_([0-9a-f]{8})_([A-Z][A-Z0-9_]{0,63})\.([A-Za-z0-9_-]+)")
_PSEUDONYM_KINDS = frozenset((*KINDS, TEXT))
_MAC_BYTES = 20  # 160 bits: 32 base32 characters, far beyond any collision concern here
_KID_CHARS = 8
# base64.b32encode is pure Python and costs more than the HMAC itself; a table of every
# 10-bit group (two base32 letters, RFC 4648 §6 alphabet, lower case) halves the cost.
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = tuple(first + second for first in _B32 for second in _B32)
_B32_SHIFTS = tuple(range(_MAC_BYTES * 8 - 10, -1, -10))
_UNDECODABLE = "token does not decode with this installation's keys"


def _check_domain(domain: str) -> bytes:
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


def canonical_text(value: str) -> str:
    """Free text as pseudonymised: NFC, casefolded, runs of whitespace collapsed to one space."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())
    return " ".join(folded.split())


class Pseudonymiser:
    """Deterministic keyed pseudonyms in one domain.

    ``keys`` are the pseudonym root keys, active first (``KeyRing.pseudonyms``): new
    pseudonyms use the active key; :meth:`pseudonyms` gives one under every key, for
    looking up records pseudonymised before a rotation.
    """

    __slots__ = ("_derived", "_domain", "_keys")

    def __init__(self, keys: Sequence[SecretKey], domain: str) -> None:
        info = _PSEUDONYM_INFO + _check_domain(domain)
        self._domain = domain
        self._keys = _check_keys(keys)
        # Derived once: HKDF per call would cost more than the HMAC itself.
        self._derived = tuple((key.kid[:_KID_CHARS], _derive(key, info, 32)) for key in self._keys)

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
        kid8, key = self._derived[0]
        return _format(kind, kid8, key, _message(kind, value, today))

    def pseudonyms(self, kind: str, value: str, *, today: date | None = None) -> tuple[str, ...]:
        """The pseudonym of ``value`` under every root key, active first."""
        message = _message(kind, value, today)
        return tuple(_format(kind, kid8, key, message) for kid8, key in self._derived)


def _message(kind: str, value: str, today: date | None) -> bytes:
    if kind == TEXT:
        text = canonical_text(value)
        if not text:
            raise InvalidInputError("TEXT value is empty after whitespace is removed")
    elif kind in _PSEUDONYM_KINDS:
        text = normalise(kind, value, today=today)
    else:
        # The unknown kind is not echoed: swapped arguments would put the value in the message.
        raise InvalidInputError("unknown pseudonym kind; expected one of: " + ", ".join((*KINDS, TEXT)))
    # The kind is inside the MAC so equal digits of two kinds (an AMKA and an 11-digit
    # SNILS) never share a pseudonym.
    return f"{kind}:{text}".encode()


def _format(kind: str, kid8: str, key: bytes, message: bytes) -> str:
    mac = int.from_bytes(hmac.digest(key, message, "sha256")[:_MAC_BYTES], "big")
    return f"{kind}_{kid8}_{''.join([_B32_PAIRS[(mac >> shift) & 1023] for shift in _B32_SHIFTS])}"


class Tokeniser:
    """Deterministic authenticated tokens (AES-SIV) in one domain, reversible with the keys.

    ``keys`` are the pseudonym root keys, active first. :meth:`token` uses the active
    key; :meth:`reveal` finds the key by the id prefix in the token, so tokens made
    before a rotation still reveal while their key is in the ring.
    """

    __slots__ = ("_active", "_ciphers", "_domain", "_domain_bytes")

    def __init__(self, keys: Sequence[SecretKey], domain: str) -> None:
        self._domain_bytes = _check_domain(domain)
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

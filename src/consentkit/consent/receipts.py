"""Signed consent receipts: a JWT (EdDSA / Ed25519) carrying the Kantara Consent Receipt v1.1 claims.

A receipt is what the person takes home (Kantara CR v1.1 §4.7: it MUST also exist in
human-readable form, see :mod:`consentkit.reports.receipt`). It is a snapshot: the consent's
scope and its status when the receipt was issued, signed with the installation's Ed25519 key.

Choices (documented in the user guide too):

* ``consentReceiptID`` (= ``jti``) is a **new UUID-4 per receipt**, not the consent id: a
  receipt is one document issued at one moment (Kantara §4.3.5 "unique ... SHOULD be UUID-4");
  two receipts for the same consent differ in their status and issue time, and each issue is
  audited under its own id. The consent id travels in the ``ck`` claim.
* ``piiPrincipalId`` and ``sub`` are the subject's random UUID, never a name or national ID;
  grantor and witness names never enter the token.
* ``publicKey`` (Kantara, optional) is left out on purpose: a key carried inside a token
  proves nothing; verifiers take the key from ``consentkit keys public``.
* ``nbf`` is the issue time (the receipt is a true statement from then on); ``exp`` is the
  consent's end of validity, when it has one.

Verification is pinned: only ``EdDSA``, only a key of this installation chosen by ``kid``,
only this installation's issuer, canonical base64url only (no malleable trailing bits), and
the header may hold nothing but ``alg``, ``typ`` and ``kid``. Every failure is one opaque
:class:`ReceiptError` with at most a coarse hint that does not help a forger
(RFC 8725 §2.1, §3.1: algorithm confusion; §3.2: "use appropriate algorithms").
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consentkit.audit.checkpoint import NoteVerifier
from consentkit.clock import format_instant
from consentkit.consent.model import ConsentGrant, Effect, Form
from consentkit.consent.state import ConsentState, Status
from consentkit.errors import InvalidInputError, ReceiptError
from consentkit.keys import SigningKey
from consentkit.policy.model import Pack

__all__ = [
    "ALGORITHM",
    "KANTARA_VERSION",
    "SPECIAL_CATEGORIES",
    "ReceiptCheck",
    "ReceiptSource",
    "check_of",
    "collection_method",
    "issue_receipt",
    "receipt_claims",
    "sign_receipt",
    "termination",
    "token_kid",
    "verify_offline",
    "verify_receipt",
]

ALGORITHM = "EdDSA"
KANTARA_VERSION = "KI-CR-v1.1.0"

#: Categories that are special-category data (GDPR Art. 9(1) health; Art. 10 criminal offences;
#: 42 CFR 2.11 substance-use records) and so make the receipt ``sensitive`` with ``spiCat``.
SPECIAL_CATEGORIES = frozenset({"substance-use", "health", "mental-health", "criminal-justice"})

# Being a client of a social or addiction service is itself sensitive (42 CFR 2.11 "patient
# identifying information"), so a receipt is always ``sensitive``; with no Art. 9/10 category
# in scope, the sensitive category named is the service relationship itself.
_RELATIONSHIP_SPI = "service-relationship"

_FAIL = "receipt does not verify"
_MAX_TOKEN = 64 * 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_HEADER_KEYS = frozenset({"alg", "typ", "kid"})
_REQUIRED = ["iss", "sub", "iat", "jti"]
# Another machine's clock may run a little ahead of the issuer's: tolerate that much for
# ``iat``/``nbf`` only; expiry gets no leeway.
_CLOCK_SKEW = 300


@dataclass(frozen=True)
class ReceiptSource:
    """What a receipt states: the grant, its state when issued, the pack, the receipt language."""

    grant: ConsentGrant
    state: ConsentState
    pack: Pack
    language: str


@dataclass(frozen=True)
class ReceiptCheck:
    """A receipt that verified: who signed it, what it names, and the consent's status.

    ``status`` is the consent's status now, read from the database; ``None`` when the receipt
    was verified offline with only a public key (signature only).
    """

    receipt_id: str
    consent_id: str
    subject_id: str
    issuer: str
    kid: str
    issued_at: datetime
    status_at_issue: str
    status: str | None = None
    status_since: datetime | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def summary(self) -> str:
        """``valid``, ``valid, but withdrawn on 2026-03-05``, or the offline wording."""
        if self.status is None:
            return "valid signature (current status not checked: no database)"
        if self.status == Status.ACTIVE.value:
            return "valid"
        day = self.status_since.date().isoformat() if self.status_since else None
        if self.status == Status.NOT_YET_VALID.value:
            return f"valid, but not in force until {day}" if day else "valid, but not in force yet"
        return f"valid, but {self.status} on {day}" if day else f"valid, but {self.status}"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (no token contents beyond ids and status)."""
        return {
            "valid": True, "summary": self.summary, "receipt_id": self.receipt_id,
            "consent_id": self.consent_id, "subject_id": self.subject_id, "issuer": self.issuer,
            "kid": self.kid, "issued_at": format_instant(self.issued_at),
            "status_at_issue": self.status_at_issue, "status": self.status,
            "status_since": format_instant(self.status_since) if self.status_since else None,
        }


# -- issuing -------------------------------------------------------------------------------


def receipt_claims(source: ReceiptSource, *, issuer: str, receipt_id: str, at: datetime) -> dict[str, Any]:
    """The JWT claims of a receipt: registered claims, Kantara CR v1.1, and ours under ``ck``."""
    grant, pack = source.grant, source.pack
    issued = int(at.timestamp())
    scope = grant.scope
    recipients = [str(r) for r in scope.recipients]
    purposes, categories = sorted(scope.purposes), sorted(scope.categories)
    special = sorted(scope.categories & SPECIAL_CATEGORIES)
    permit = grant.effect is Effect.PERMIT
    claims: dict[str, Any] = {
        "iss": issuer, "sub": grant.subject_id, "iat": issued, "nbf": issued, "jti": receipt_id,
        # Kantara Consent Receipt v1.1 (§4.3-§4.5).
        "version": KANTARA_VERSION,
        "jurisdiction": grant.jurisdiction,
        "consentTimestamp": int(grant.recorded_at.timestamp()),
        "collectionMethod": collection_method(grant),
        "consentReceiptID": receipt_id,
        "language": source.language,
        "piiPrincipalId": grant.subject_id,
        "piiControllers": [_controller(issuer, pack)],
        # §4.4.10: keep pointing at the policy in force when the consent was given.
        "policyUrl": f"urn:consentkit:pack:{grant.pack_ref}",
        "services": [{"service": "case-information-sharing", "purposes": [
            {
                "purpose": purpose, "purposeCategory": [purpose], "consentType": _consent_type(grant),
                "piiCategory": categories, "primaryPurpose": True, "termination": termination(grant, pack),
                "thirdPartyDisclosure": permit, **({"thirdPartyName": recipients} if permit else {}),
            } for purpose in purposes]}],
        "sensitive": True,
        "spiCat": special or [_RELATIONSHIP_SPI],
        "ck": {
            "consent_id": grant.consent_id, "effect": grant.effect.value, "grantor": grant.grantor.value,
            "form": grant.form.value, "jurisdiction": grant.jurisdiction, "status": source.state.status.value,
            "scope": {"recipients": recipients, "purposes": purposes, "categories": categories},
            "valid_from": format_instant(grant.valid_from),
            "valid_until": format_instant(grant.valid_until) if grant.valid_until else None,
            "irrevocable_until": format_instant(grant.irrevocable_until) if grant.irrevocable_until else None,
            "pack": grant.pack_ref,
            # The hash pins the pack text only when the pack loaded now is the one granted under.
            "pack_hash": pack.content_hash if pack.ref == grant.pack_ref else None,
            "evidence_sha256": grant.evidence_sha256, "notice_version": grant.notice_version,
            "notice_language": grant.notice_language,
        },
    }
    if grant.valid_until is not None:
        claims["exp"] = int(grant.valid_until.timestamp())
    return claims


def sign_receipt(claims: Mapping[str, Any], signer: SigningKey) -> str:
    """Sign ``claims`` as a compact JWS; canonical JSON, so equal claims give equal tokens."""
    import jwt  # noqa: PLC0415 - deferred: ~45 ms of start-up for every command that signs nothing

    payload = json.dumps(claims, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return jwt.PyJWS().encode(payload.encode(), signer.private_key, algorithm=ALGORITHM,
                              headers={"kid": signer.kid, "typ": "JWT"}, sort_headers=True)


def issue_receipt(source: ReceiptSource, signer: SigningKey, at: datetime, *, receipt_id: str | None = None) -> str:
    """A signed receipt for ``source`` issued at ``at``; the issuer is the signer's log origin."""
    claims = receipt_claims(source, issuer=signer.name, receipt_id=receipt_id or str(uuid.uuid4()), at=at)
    return sign_receipt(claims, signer)


def collection_method(grant: ConsentGrant) -> str:
    """Kantara ``collectionMethod``: the form and the capture context, in plain words."""
    parts = [{"written": "signed written form", "electronic": "electronic form",
              "verbal": "verbal, before a witness"}[grant.form.value]]
    if grant.context.in_custody:
        parts.append("in custody")
    if grant.context.interpreter_language:
        parts.append(f"through an interpreter ({grant.context.interpreter_language})")
    if grant.context.capacity_assessed:
        parts.append("capacity assessed")
    if grant.grantor.value != "self":
        parts.append(f"given by the {grant.grantor.value}")
    return "; ".join(parts)


def termination(grant: ConsentGrant, pack: Pack) -> str:
    """Kantara ``termination``: how this consent can be withdrawn, with the pack's citation."""
    policy = pack.consent
    how = "in writing" if policy.withdrawal_form == "written" else "at any time, in any form"
    text = f"withdraw {how}; withdrawal works forward only"
    if policy.withdrawal_cited is not None:
        text += f" ({policy.withdrawal_cited.citation})"
    if grant.irrevocable_until is not None:
        text += f"; not before {grant.irrevocable_until.date().isoformat()}"
    return text


def _consent_type(grant: ConsentGrant) -> str:
    # Kantara §4.5.6: "EXPLICIT" by default; otherwise a description of the method.
    if grant.form is Form.VERBAL:
        return "EXPLICIT (verbal, witnessed)"
    return "EXPLICIT"


def _controller(issuer: str, pack: Pack) -> dict[str, Any]:
    dpo = pack.dpo_contact
    entry: dict[str, Any] = {"piiController": issuer, "contact": dpo.get("name", "data protection officer")}
    for key in ("email", "phone"):
        if dpo.get(key):
            entry[key] = dpo[key]
    return entry


# -- verifying -----------------------------------------------------------------------------


def verify_receipt(token: str, public_keys: Mapping[str, Ed25519PublicKey], issuer: str,
                   at: datetime) -> dict[str, Any]:
    """The claims of ``token`` if it is a receipt of ``issuer`` signed by one of ``public_keys``.

    ``public_keys`` maps key ids to keys (every signing key of the installation, old ones
    included, so receipts outlive ``keys rotate``). Raises :class:`ReceiptError` otherwise.
    """
    import jwt  # noqa: PLC0415 - deferred, as in sign_receipt

    header = _checked_header(token)
    key = public_keys.get(header["kid"])
    if key is None:
        raise ReceiptError(f"{_FAIL} (unknown key id)")
    try:
        claims: dict[str, Any] = jwt.decode(
            token.strip(), key, algorithms=[ALGORITHM], issuer=issuer,
            # Times are checked below against ``at`` (time is a parameter, not the wall clock).
            options={"require": _REQUIRED, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidIssuerError:
        raise ReceiptError(f"{_FAIL} (issued by another installation)") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ReceiptError(_FAIL) from None
    _check_times(claims, at)
    _check_shape(claims)
    return claims


def verify_offline(token: str, verifiers: Sequence[NoteVerifier], at: datetime) -> ReceiptCheck:
    """Check a receipt with only the installation's verifier keys (``consentkit keys public``):
    signature, key id and issuer (the keys' name, which is the log origin); no status."""
    names = {v.name for v in verifiers}
    if len(names) != 1:
        raise InvalidInputError("--public-key: give the keys of one installation (one log origin)")
    keys = {v.key_id.hex(): Ed25519PublicKey.from_public_bytes(v.public_key) for v in verifiers}
    return check_of(verify_receipt(token, keys, names.pop(), at), token_kid(token))


def check_of(claims: Mapping[str, Any], kid: str) -> ReceiptCheck:
    """A :class:`ReceiptCheck` (signature only) from verified claims."""
    ck = claims["ck"]
    return ReceiptCheck(receipt_id=claims["jti"], consent_id=ck["consent_id"], subject_id=claims["sub"],
                        issuer=claims["iss"], kid=kid, issued_at=datetime.fromtimestamp(claims["iat"], UTC),
                        status_at_issue=ck["status"], claims=claims)


def token_kid(token: str) -> str:
    """The ``kid`` of a token whose header is well formed (not a verification)."""
    return str(_checked_header(token)["kid"])


def _checked_header(token: object) -> dict[str, Any]:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise ReceiptError(_FAIL)
    segments = token.strip().split(".")
    if len(segments) != 3 or not all(_canonical_b64url(s) for s in segments):
        raise ReceiptError(f"{_FAIL} (malformed)")
    try:
        header = json.loads(_b64url_decode(segments[0]))
    except (ValueError, UnicodeDecodeError):
        raise ReceiptError(f"{_FAIL} (malformed)") from None
    if not isinstance(header, dict) or set(header) != _HEADER_KEYS or header.get("typ") != "JWT":
        raise ReceiptError(f"{_FAIL} (malformed)")
    if header.get("alg") != ALGORITHM:
        # RFC 8725 §2.1: never let the token choose the algorithm ("none", HS256 with the public key).
        raise ReceiptError(f"{_FAIL} (algorithm not allowed)")
    if not isinstance(header.get("kid"), str):
        raise ReceiptError(f"{_FAIL} (malformed)")
    return header


def _check_times(claims: Mapping[str, Any], at: datetime) -> None:
    now = at.timestamp()
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if name in claims and (not isinstance(value, int) or isinstance(value, bool)):
            raise ReceiptError(_FAIL)
    if max(claims.get("nbf", claims["iat"]), claims["iat"]) > now + _CLOCK_SKEW:
        raise ReceiptError(f"{_FAIL} (not valid yet)")
    if "exp" in claims and claims["exp"] <= now:
        raise ReceiptError(f"{_FAIL} (expired)")


def _check_shape(claims: Mapping[str, Any]) -> None:
    ck = claims.get("ck")
    if not isinstance(ck, dict):
        raise ReceiptError(_FAIL)
    ok = (claims.get("version") == KANTARA_VERSION
          and all(isinstance(ck.get(k), str) for k in ("consent_id", "status", "effect"))
          and isinstance(claims.get("sub"), str) and isinstance(claims.get("jti"), str)
          and claims.get("piiPrincipalId") == claims.get("sub") and claims.get("consentReceiptID") == claims.get("jti"))
    if not ok:
        raise ReceiptError(_FAIL)
    try:
        uuid.UUID(claims["sub"])
        uuid.UUID(ck["consent_id"])
    except ValueError:
        raise ReceiptError(_FAIL) from None


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _canonical_b64url(segment: str) -> bool:
    # base64url leaves unused low bits in the last character; a decoder that ignores them
    # accepts several spellings of one signature. Only the canonical spelling is a receipt.
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        return False
    try:
        decoded = _b64url_decode(segment)
    except (binascii.Error, ValueError):
        return False
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode("ascii") == segment

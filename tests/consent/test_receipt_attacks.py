"""Attacks on receipts (RFC 8725): every one is refused with one opaque error and exit code 4."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit.consent.receipts import sign_receipt, verify_receipt
from consentkit.errors import ReceiptError
from consentkit.keys import SigningKey
from tests.cli_runner import Run

ORIGIN = "consentkit.test/attacks"
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SIGNER = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"attack tests").digest()))
KEYS = {SIGNER.kid: SIGNER.public_key}
MESSAGES = {f"receipt does not verify{hint}" for hint in (
    "", " (malformed)", " (algorithm not allowed)", " (unknown key id)", " (issued by another installation)",
    " (expired)", " (not valid yet)")}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _claims(**changes: Any) -> dict[str, Any]:
    iat = int(AT.timestamp()) - 60
    claims: dict[str, Any] = {
        "iss": ORIGIN, "sub": "6f1c1b1e-2f43-4c3e-9a59-0b1f4b7f3a10", "iat": iat, "nbf": iat,
        "exp": iat + 86_400, "jti": "a3c9b2f4-7e61-4d0a-9b5e-1f2d3c4b5a60", "version": "KI-CR-v1.1.0",
        "consentReceiptID": "a3c9b2f4-7e61-4d0a-9b5e-1f2d3c4b5a60",
        "piiPrincipalId": "6f1c1b1e-2f43-4c3e-9a59-0b1f4b7f3a10",
        "ck": {"consent_id": "0b4e3c52-58f4-4f7e-8d2c-3c6f3f0e9a01", "status": "active", "effect": "permit",
               "scope": {"recipients": ["treatment-provider"], "purposes": ["treatment"], "categories": ["identity"]}},
    }
    claims.update(changes)
    return claims


GOOD = sign_receipt(_claims(), SIGNER)


def _with_header(header: dict[str, Any], signature: bytes | None = None, key: Ed25519PrivateKey | None = None,
                 claims: dict[str, Any] | None = None) -> str:
    signing_input = f"{_json(header)}.{_json(claims or _claims())}"
    if signature is None:
        signature = (key or SIGNER.private_key).sign(signing_input.encode())
    return f"{signing_input}.{_b64(signature)}"


def _hs256_with_public_key(public_bytes: bytes) -> str:
    header = {"alg": "HS256", "kid": SIGNER.kid, "typ": "JWT"}
    signing_input = f"{_json(header)}.{_json(_claims())}"
    return f"{signing_input}.{_b64(hmac.new(public_bytes, signing_input.encode(), hashlib.sha256).digest())}"


def _foreign_same_kid() -> str:
    # An attacker's key cannot produce our kid for our name, but may simply claim it.
    return _with_header({"alg": "EdDSA", "kid": SIGNER.kid, "typ": "JWT"}, key=Ed25519PrivateKey.generate())


def _tampered_payload() -> str:
    head, _, sig = GOOD.split(".")
    claims = _claims()
    claims["ck"]["scope"]["categories"] = ["identity", "health"]
    return f"{head}.{_json(claims)}.{sig}"


def _tampered_header() -> str:
    _, body, sig = GOOD.split(".")
    return f"{_json({'alg': 'EdDSA', 'kid': SIGNER.kid, 'typ': 'JWT', 'x': 1})}.{body}.{sig}"


def _reordered_header() -> str:
    _, body, sig = GOOD.split(".")
    return f"{_json({'typ': 'JWT', 'kid': SIGNER.kid, 'alg': 'EdDSA'})}.{body}.{sig}"


def _non_canonical_signature() -> str:
    # The 86th base64url character carries 2 unused bits: flip them, the bytes stay the same.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    head, body, sig = GOOD.split(".")
    last = alphabet.index(sig[-1])
    return f"{head}.{body}.{sig[:-1]}{alphabet[last ^ 1]}"


ATTACKS: dict[str, Callable[[], str]] = {
    "alg none": lambda: f"{_json({'alg': 'none', 'kid': SIGNER.kid, 'typ': 'JWT'})}.{_json(_claims())}.",
    "alg none, signature kept": lambda: _with_header({"alg": "none", "kid": SIGNER.kid, "typ": "JWT"}),
    "HS256, public key PEM as secret": lambda: _hs256_with_public_key(SIGNER.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)),
    "HS256, raw public key as secret": lambda: _hs256_with_public_key(SIGNER.public_raw),
    "foreign key, our kid": _foreign_same_kid,
    "foreign key, its own kid": lambda: _with_header({"alg": "EdDSA", "kid": "0badc0de", "typ": "JWT"},
                                                     key=Ed25519PrivateKey.generate()),
    "embedded jwk": lambda: _with_header({"alg": "EdDSA", "kid": SIGNER.kid, "typ": "JWT", "jwk": {"kty": "OKP"}}),
    "no kid": lambda: _with_header({"alg": "EdDSA", "typ": "JWT"}),
    "expired": lambda: sign_receipt(_claims(exp=int(AT.timestamp()) - 1), SIGNER),
    "not yet valid": lambda: sign_receipt(_claims(nbf=int(AT.timestamp()) + 3600), SIGNER),
    "issued in the future": lambda: sign_receipt(_claims(iat=int(AT.timestamp()) + 3600), SIGNER),
    "other issuer": lambda: sign_receipt(_claims(iss="consentkit.local/evil"), SIGNER),
    "no jti": lambda: sign_receipt({k: v for k, v in _claims().items() if k != "jti"}, SIGNER),
    "not a Kantara receipt": lambda: sign_receipt(_claims(version="KI-CR-v1.0.0"), SIGNER),
    "tampered payload": _tampered_payload,
    "tampered header": _tampered_header,
    "reordered header": _reordered_header,
    "non-canonical signature": _non_canonical_signature,
    "truncated": lambda: GOOD[:-10],
    "signature dropped": lambda: GOOD.rsplit(".", 1)[0] + ".",
    "two segments": lambda: GOOD.rsplit(".", 1)[0],
    "four segments": lambda: GOOD + ".AAAA",
    "signature of zeros": lambda: GOOD.rsplit(".", 1)[0] + "." + _b64(bytes(64)),
    "empty": lambda: "",
    "not base64": lambda: "!!!.???.***",
    "huge": lambda: "A" * 100_000 + ".e30.AA",
}


def test_the_good_receipt_verifies() -> None:
    assert verify_receipt(GOOD, KEYS, ORIGIN, AT)["jti"] == _claims()["jti"]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_is_refused_opaquely(name: str) -> None:
    token = ATTACKS[name]()
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(token, KEYS, ORIGIN, AT)
    assert str(caught.value) in MESSAGES
    assert caught.value.exit_code == 4


def test_expired_and_unknown_key_hints() -> None:
    with pytest.raises(ReceiptError, match=r"\(expired\)$"):
        verify_receipt(ATTACKS["expired"](), KEYS, ORIGIN, AT)
    with pytest.raises(ReceiptError, match=r"\(unknown key id\)$"):
        verify_receipt(ATTACKS["foreign key, its own kid"](), KEYS, ORIGIN, AT)
    with pytest.raises(ReceiptError, match=r"\(algorithm not allowed\)$"):
        verify_receipt(ATTACKS["HS256, raw public key as secret"](), KEYS, ORIGIN, AT)


def test_expiry_is_judged_at_the_time_given() -> None:
    token = ATTACKS["expired"]()
    claims = verify_receipt(token, KEYS, ORIGIN, AT - timedelta(seconds=2))
    assert claims["exp"] == int(AT.timestamp()) - 1


def test_a_verifier_clock_slightly_behind_is_tolerated() -> None:
    ahead = int(AT.timestamp()) + 120
    assert verify_receipt(sign_receipt(_claims(iat=ahead, nbf=ahead), SIGNER), KEYS, ORIGIN, AT)["iat"] == ahead


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_change_fails(data: st.DataObject) -> None:
    raw = bytearray(GOOD.encode("ascii"))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]), label="byte")
    raw[index] = value
    with pytest.raises(ReceiptError):
        verify_receipt(raw.decode("latin-1"), KEYS, ORIGIN, AT)


def test_every_position_and_bit_flip_fails() -> None:
    # Exhaustive for single-bit flips, complementing the random byte changes above.
    raw = GOOD.encode("ascii")
    for index in range(len(raw)):
        for bit in range(8):
            changed = bytearray(raw)
            changed[index] ^= 1 << bit
            with pytest.raises(ReceiptError):
                verify_receipt(changed.decode("latin-1"), KEYS, ORIGIN, AT)


# -- through the installation and the CLI: exit code 4 ------------------------------------------


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init").exit_code == 0
    return runner


def test_cli_refuses_every_attack_with_exit_code_4(run: Run, keys_dir: Path, tmp_path: Path) -> None:
    subject = run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test", "--birth-date",
                       "1995-04-01")["subject_id"]
    consent_id = run.json("consent", "grant", "--subject", subject, "--recipient", "treatment-provider",
                          "--purpose", "treatment", "--category", "identity", "--notice-version", "v1")["consent_id"]
    token = run("consent", "receipt", consent_id).stdout.strip()
    head, body, sig = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    pem = next(keys_dir.glob("signing-*.pub")).read_bytes()
    signing_input = f"{_json({**header, 'alg': 'HS256'})}.{body}"
    mac = _b64(hmac.new(pem, signing_input.encode(), "sha256").digest())
    later = dict(claims, iat=claims["iat"] + 10**8, nbf=claims["nbf"] + 10**8)
    forged = {
        "alg none": f"{_json({**header, 'alg': 'none'})}.{body}.",
        "HS256 with the public key": f"{signing_input}.{mac}",
        "foreign key": _with_header(header, key=Ed25519PrivateKey.generate(), claims=claims),
        "tampered": f"{head}.{_json(dict(claims, sub=claims['sub'][::-1]))}.{sig}",
        "not yet valid": _with_header(header, key=Ed25519PrivateKey.generate(), claims=later),
        "truncated": token[:-1],
    }
    verifier = run.json("keys", "public")["verifier_keys"][0]
    for name, value in forged.items():
        path = tmp_path / f"{name}.jwt"
        path.write_text(value)
        for extra in ((), ("--public-key", verifier)):
            result = run("consent", "verify", str(path), *extra)
            assert result.exit_code == 4, (name, extra, result.output)
            assert result.stderr.startswith("consentkit: error: receipt does not verify"), name
            assert body[:40] not in result.stderr

"""Consent receipts: issue, verify, status, rotation, languages, HTML safety, vectors, CLI."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import create_engine, text

from consentkit.clock import FixedClock
from consentkit.consent import receipts
from consentkit.errors import OperationRefusedError, PermissionDeniedError, ReceiptError
from consentkit.keys import SigningKey
from consentkit.kit import ConsentKit
from consentkit.types import Role
from tests.cli_runner import Run

VECTORS = Path(__file__).parents[1] / "vectors" / "receipts"
GRANTOR = "Μαρία Παπαδοπούλου"


def _subject(kit: ConsentKit, language: str = "el", birth: date = date(1990, 5, 1)) -> str:
    return kit.add_subject(jurisdiction="eu-gdpr", name="Ελένη Κωστα", birth_date=birth,
                           language=language).subject_id


def _grant(kit: ConsentKit, subject_id: str, **overrides: object) -> str:
    fields: dict[str, object] = {
        "recipients": ["treatment-provider:okana-athens", "social-services"], "purposes": ["treatment"],
        "categories": ["identity", "substance-use"], "notice_version": "2026-01",
        "valid_until": datetime(2027, 3, 2, tzinfo=UTC), "evidence_sha256": "ab" * 32,
    }
    fields.update(overrides)
    return kit.grant_consent(subject_id, **fields).grant.consent_id  # type: ignore[arg-type]


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _actions(db_url: str) -> list[str]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action FROM ck_audit_events ORDER BY seq")).scalars().all()
    engine.dispose()
    return list(rows)


# -- the library -------------------------------------------------------------------------


def test_receipt_round_trip_carries_kantara_claims_and_no_names(kit: ConsentKit, db_url: str) -> None:
    subject = _subject(kit)
    consent_id = _grant(kit, subject, grantor="self", grantor_name=GRANTOR)
    receipt = kit.consent_receipt(consent_id)
    header = json.loads(_b64(receipt.token.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": kit.keys.signer.kid, "typ": "JWT"}
    claims = json.loads(_b64(receipt.token.split(".")[1]))
    assert claims["version"] == "KI-CR-v1.1.0" and claims["piiPrincipalId"] == subject == claims["sub"]
    assert claims["iss"] == kit.keys.origin and claims["jti"] == claims["consentReceiptID"] == receipt.receipt_id
    assert claims["consentReceiptID"] != consent_id  # a new UUID per receipt; the consent id is in ck
    assert claims["ck"]["consent_id"] == consent_id and claims["ck"]["status"] == "active"
    assert claims["ck"]["scope"] == {"recipients": ["treatment-provider:okana-athens", "social-services"],
                                     "purposes": ["treatment"], "categories": ["identity", "substance-use"]}
    assert claims["exp"] == int(datetime(2027, 3, 2, tzinfo=UTC).timestamp())
    assert claims["sensitive"] is True and claims["spiCat"] == ["substance-use"]
    purpose = claims["services"][0]["purposes"][0]
    assert purpose["consentType"] == "EXPLICIT" and purpose["thirdPartyDisclosure"] is True
    assert purpose["thirdPartyName"] == ["treatment-provider:okana-athens", "social-services"]
    assert "GDPR Art. 7(3)" in purpose["termination"]
    payload = _b64(receipt.token.split(".")[1]).decode()
    assert GRANTOR not in payload and "Ελένη" not in payload and "publicKey" not in claims
    check = kit.verify_receipt(receipt.token)
    assert check.summary == "valid" and check.status == "active" and check.consent_id == consent_id
    assert _actions(db_url)[-2:] == ["consent.receipt-issued", "consent.receipt-verified"]


def test_withdrawn_consent_verifies_but_says_so(kit: ConsentKit, clock: FixedClock) -> None:
    consent_id = _grant(kit, _subject(kit))
    token = kit.consent_receipt(consent_id).token
    clock.advance(days=3)
    kit.withdraw_consent(consent_id, reason="changed her mind")
    clock.advance(days=1)
    check = kit.verify_receipt(token)
    assert check.summary == "valid, but withdrawn on 2026-03-05"
    assert check.status_at_issue == "active" and check.status == "withdrawn"


def test_receipt_of_a_withdrawn_consent_says_withdrawn(kit: ConsentKit, clock: FixedClock) -> None:
    consent_id = _grant(kit, _subject(kit))
    kit.withdraw_consent(consent_id, reason="no")
    receipt = kit.consent_receipt(consent_id)
    assert json.loads(_b64(receipt.token.split(".")[1]))["ck"]["status"] == "withdrawn"
    assert "ανακλήθηκε" in receipt.text


def test_old_receipts_verify_after_signing_key_rotation(kit: ConsentKit) -> None:
    consent_id = _grant(kit, _subject(kit))
    old = kit.consent_receipt(consent_id)
    kit.rotate_keys(["signing"])
    new = kit.consent_receipt(consent_id)
    assert new.kid != old.kid == json.loads(_b64(old.token.split(".")[0]))["kid"]
    assert kit.verify_receipt(old.token).kid == old.kid
    assert kit.verify_receipt(new.token).kid == new.kid


def test_reopened_installation_still_verifies(kit: ConsentKit, open_as: Callable[[str], ConsentKit]) -> None:
    token = kit.consent_receipt(_grant(kit, _subject(kit))).token
    assert open_as("ada").verify_receipt(token).summary == "valid"


def test_expiry_ends_verification_and_issuing(kit: ConsentKit, clock: FixedClock) -> None:
    consent_id = _grant(kit, _subject(kit), valid_until=datetime(2026, 4, 1, tzinfo=UTC))
    token = kit.consent_receipt(consent_id).token
    clock.current = datetime(2026, 4, 2, tzinfo=UTC)
    with pytest.raises(ReceiptError, match=r"^receipt does not verify \(expired\)$"):
        kit.verify_receipt(token)
    with pytest.raises(OperationRefusedError, match="expired on 2026-04-01"):
        kit.consent_receipt(consent_id)


def test_refusal_receipt_names_no_third_party(kit: ConsentKit) -> None:
    subject = _subject(kit, language="en")
    consent_id = _grant(kit, subject, refuse=True, valid_until=None)
    receipt = kit.consent_receipt(consent_id)
    purpose = json.loads(_b64(receipt.token.split(".")[1]))["services"][0]["purposes"][0]
    assert purpose["thirdPartyDisclosure"] is False and "thirdPartyName" not in purpose
    assert "never shared" in receipt.text and "you withdraw it" in receipt.text


def test_receipt_record_altered_in_database_does_not_verify(kit: ConsentKit, db_url: str) -> None:
    consent_id = _grant(kit, _subject(kit))
    token = kit.consent_receipt(consent_id).token
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ck_consents SET effect = 'refuse' WHERE consent_id = :c"), {"c": consent_id})
    engine.dispose()
    with pytest.raises(ReceiptError, match="does not match the consent record"):
        kit.verify_receipt(token)


def test_rejection_is_audited_without_token_contents(kit: ConsentKit, db_url: str) -> None:
    with pytest.raises(ReceiptError):
        kit.verify_receipt("not.a.receipt")
    assert _actions(db_url)[-1] == "consent.receipt-rejected"


def test_permissions_read_is_enough_and_nothing_less(kit: ConsentKit,
                                                      open_as: Callable[[str], ConsentKit]) -> None:
    consent_id = _grant(kit, _subject(kit))
    kit.add_actor("dora", [Role.DPO])
    assert open_as("dora").consent_receipt(consent_id).consent_id == consent_id
    with pytest.raises(PermissionDeniedError):
        open_as("nobody").consent_receipt(consent_id)


# -- the human-readable receipt ---------------------------------------------------------------


def test_html_receipt_makes_a_script_name_inert(kit: ConsentKit, tmp_path: Path) -> None:
    subject = _subject(kit, language="en", birth=date(2012, 1, 1))
    consent_id = _grant(kit, subject, grantor="guardian", grantor_name="<script>alert(1)</script>")
    receipt = kit.consent_receipt(consent_id, out_dir=tmp_path)
    assert "<script>" not in receipt.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in receipt.html
    assert "your guardian" in receipt.html and "@media print" in receipt.html
    assert [p.name for p in receipt.files] == ["receipt.jwt", "receipt.html", "receipt.txt"]
    assert (tmp_path / "receipt.jwt").read_text().strip() == receipt.token
    assert (tmp_path / "receipt.html").read_text("utf-8") == receipt.html
    assert (tmp_path / "receipt.txt").stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".*.part"))


def test_receipt_shows_the_last_day_the_consent_holds(kit: ConsentKit) -> None:
    """The consent ends at 2027-03-02T00:00Z (exclusive): a person reads "valid until 2027-03-01"."""
    receipt = kit.consent_receipt(_grant(kit, _subject(kit, language="en")))
    assert "2027-03-01" in receipt.text and "2027-03-02" not in receipt.text
    assert "2027-03-01" in receipt.html and "2027-03-02" not in receipt.html


@pytest.mark.parametrize(("language", "page_lang", "title"), [
    ("en", "en", "Consent receipt"), ("el", "el", "Απόδειξη συγκατάθεσης"), ("sv", "sv", "Kvitto på samtycke"),
    ("ru", "ru", "Квитанция о согласии"), ("kk", "ru", "Квитанция о согласии"),
])
def test_receipt_is_in_the_subjects_language(kit: ConsentKit, language: str, page_lang: str, title: str) -> None:
    receipt = kit.consent_receipt(_grant(kit, _subject(kit, language=language)))
    assert receipt.text.startswith(title) and f'<html lang="{page_lang}">' in receipt.html
    assert kit.keys.signer.kid in receipt.text and kit.keys.origin in receipt.html
    assert "receipt:" not in receipt.text  # every label translated


def test_receipt_names_recipients_purposes_and_categories_in_the_subjects_language(kit: ConsentKit) -> None:
    receipt = kit.consent_receipt(_grant(kit, _subject(kit, language="sv")))
    for shown in (receipt.text, receipt.html):
        assert "socialtjänst" in shown and "(okana-athens)" in shown
        assert "social-services" not in shown and "substance-use" not in shown


def test_user_template_overrides_by_name_in_a_sandbox(tmp_path: Path) -> None:
    from consentkit.errors import ConfigurationError
    from consentkit.reports.environment import environment, render

    (tmp_path / "receipt.txt.j2").write_text("custom {{ r.receipt_id }}\n", "utf-8")
    (tmp_path / "evil.txt.j2").write_text("{{ r.__class__.__mro__ }}", "utf-8")
    assert render("receipt.txt.j2", {"r": {"receipt_id": "x"}}, tmp_path) == "custom x\n"
    assert "sandbox" in type(environment(tmp_path)).__module__
    with pytest.raises(ConfigurationError, match=r"evil\.txt\.j2 failed to render"):
        render("evil.txt.j2", {"r": {}}, tmp_path)


# -- vectors -----------------------------------------------------------------------------


def test_consentkit_vectors_sign_and_verify_byte_for_byte() -> None:
    data = json.loads((VECTORS / "consentkit-receipts.json").read_text("utf-8"))
    seed = bytes.fromhex(data["seed_hex"])
    signer = SigningKey(data["origin"], Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.public_raw.hex() == data["public_key_hex"] and signer.kid == data["kid"]
    at = datetime.fromisoformat(data["verify_at"])
    for case in data["cases"]:
        assert receipts.sign_receipt(case["claims"], signer) == case["token"], case["name"]
        assert _b64(case["token"].split(".")[0]) == b'{"alg":"EdDSA","kid":"%s","typ":"JWT"}' % signer.kid.encode()
        claims = receipts.verify_receipt(case["token"], {signer.kid: signer.public_key}, data["origin"], at)
        assert claims == case["claims"]


def test_rfc8037_ed25519_vector() -> None:
    data = json.loads((VECTORS / "rfc8037-ed25519.json").read_text("utf-8"))
    key = Ed25519PrivateKey.from_private_bytes(_b64(data["private_d"]))
    assert base64.urlsafe_b64encode(key.public_key().public_bytes_raw()).rstrip(b"=").decode() == data["public_x"]
    token = jwt.PyJWS().encode(data["payload"].encode(), key, algorithm="EdDSA", headers={"typ": None})
    assert token == data["jws"]
    public = Ed25519PublicKey.from_public_bytes(_b64(data["public_x"]))
    assert jwt.PyJWS().decode(data["jws"], public, algorithms=["EdDSA"]) == data["payload"].encode()
    with pytest.raises(ReceiptError):  # a bare JWS is not a receipt (no kid, no typ, no claims)
        receipts.verify_receipt(data["jws"], {"": public}, "x", datetime.now(UTC))


# -- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init", "--role", "caseworker").exit_code == 0
    return runner


def _cli_consent(run: Run) -> str:
    subject = run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test", "--birth-date",
                       "1995-04-01", "--language", "sv")["subject_id"]
    until = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    return str(run.json("consent", "grant", "--subject", subject, "--recipient", "treatment-provider",
                        "--purpose", "treatment", "--category", "identity", "--notice-version", "v1",
                        "--valid-until", until)["consent_id"])


def test_cli_receipt_and_verify(run: Run, tmp_path: Path, keys_dir: Path) -> None:
    consent_id = _cli_consent(run)
    printed = run("consent", "receipt", consent_id)
    assert printed.exit_code == 0 and printed.stdout.count(".") == 2
    text = run("consent", "receipt", consent_id, "--format", "text")
    assert text.stdout.startswith("Kvitto på samtycke")
    out = run("consent", "receipt", consent_id, "--out", str(tmp_path))
    assert out.exit_code == 0 and "receipt.html" in out.stdout
    verified = run("consent", "verify", str(tmp_path / "receipt.jwt"))
    assert verified.exit_code == 0 and verified.stdout.startswith("valid\n")
    run("consent", "withdraw", consent_id, "--reason", "no")
    today = datetime.now(UTC).date().isoformat()
    again = run.json("consent", "verify", str(tmp_path / "receipt.jwt"))
    assert again["summary"] == f"valid, but withdrawn on {today}"
    public = run.json("keys", "public")["verifier_keys"][0]
    offline = run("consent", "verify", str(tmp_path / "receipt.jwt"), "--public-key", public)
    assert offline.exit_code == 0 and "status not checked" in offline.stdout
    pem = next(keys_dir.glob("signing-*.pub"))
    assert run("consent", "verify", str(tmp_path / "receipt.jwt"), "--public-key", str(pem)).exit_code == 0


def test_cli_verify_exit_code_4_with_one_line(run: Run, tmp_path: Path) -> None:
    consent_id = _cli_consent(run)
    token = run("consent", "receipt", consent_id).stdout.strip()
    head, body, sig = token.split(".")
    claims = json.loads(_b64(body))
    claims["ck"]["scope"]["categories"].append("health")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    (tmp_path / "forged.jwt").write_text(f"{head}.{forged}.{sig}")
    result = run("consent", "verify", str(tmp_path / "forged.jwt"))
    assert result.exit_code == 4
    assert result.stderr.strip() == "consentkit: error: receipt does not verify"
    assert "health" not in result.stderr and "Traceback" not in result.output

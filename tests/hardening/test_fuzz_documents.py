"""Files people hand to consentkit: FHIR Consent imports, receipts (JWT), audit exports and
inclusion proofs. Each starts from a genuine document of the installation and is mutated, so
the examples reach past the first syntax check.

Exit codes: import 0 or 1; receipt 0, 1 or 4 (a rejected receipt is audited: one event, and
nothing else); audit files 0, 1 or 4, and verifying a file never touches the database.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.cleanliness import assert_clean
from tests.hardening.conftest import Installation
from tests.hardening.strategies import dump_json, json_values, mutated_json, mutated_text, raw_bytes

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DB_FUZZ = settings(FUZZ, max_examples=25)  # every example opens the installation and loads a pack


def _write(inst: Installation, name: str, content: bytes) -> Path:
    path = inst.workdir / name
    path.write_bytes(content)
    return path


# -- FHIR R5 Consent import -------------------------------------------------------------------


@pytest.fixture
def fhir_doc(installation: Installation) -> dict[str, Any]:
    result = installation("consent", "export", installation.consent_id)
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


@DB_FUZZ
@given(data=st.data())
def test_fhir_import_mutated(installation: Installation, fhir_doc: dict[str, Any], data: st.DataObject) -> None:
    doc = data.draw(mutated_json(fhir_doc), label="doc")
    path = _write(installation, "consent.json", dump_json(doc))
    before = installation.state.snapshot()
    result = installation("consent", "import", str(path))
    assert_clean(result, frozenset({0, 1}))
    if result.exit_code:
        installation.state.assert_unchanged(before)


@FUZZ
@given(content=st.one_of(raw_bytes, json_values.map(dump_json)))
def test_fhir_import_arbitrary(installation: Installation, content: bytes) -> None:
    path = _write(installation, "consent.json", content)
    before = installation.state.snapshot()
    result = installation("consent", "import", str(path), "--subject", installation.subject_id)
    assert_clean(result, frozenset({1}))
    installation.state.assert_unchanged(before)


def test_fhir_import_deeply_nested(installation: Installation) -> None:
    path = _write(installation, "consent.json", b'{"resourceType": "Consent", "x": ' + b"[" * 100_000
                  + b"]" * 100_000 + b"}")
    before = installation.state.snapshot()
    assert_clean(installation("consent", "import", str(path)), frozenset({1}))
    installation.state.assert_unchanged(before)


# -- receipts ----------------------------------------------------------------------------------


@pytest.fixture
def receipt(installation: Installation) -> str:
    result = installation("consent", "receipt", installation.consent_id)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def forged_tokens(draw: st.DrawFn, genuine: str) -> str:
    """A header and claims edited from the genuine ones, signed with a stranger's key (or not at all)."""
    head, body, _ = genuine.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    new_header = draw(mutated_json(header, max_changes=2) | st.just(header))
    new_claims = draw(mutated_json(claims, max_changes=2))
    signing_input = f"{_b64(dump_json(new_header))}.{_b64(dump_json(new_claims))}"
    key = Ed25519PrivateKey.from_private_bytes(draw(st.binary(min_size=32, max_size=32)))
    signature = draw(st.sampled_from(("", "AAAA", _b64(key.sign(signing_input.encode())))))
    return f"{signing_input}.{signature}"


def _verify_receipt(inst: Installation, content: bytes) -> None:
    path = _write(inst, "receipt.jwt", content)
    before = inst.state.snapshot()
    result = inst("consent", "verify", str(path))
    assert_clean(result, frozenset({0, 1, 4}))
    if result.exit_code == 4:
        inst.state.assert_unchanged(before, audit_events=1)  # the rejection, audited
    elif result.exit_code == 1:
        inst.state.assert_unchanged(before)


@DB_FUZZ
@given(data=st.data())
def test_receipt_mutated_text(installation: Installation, receipt: str, data: st.DataObject) -> None:
    token = data.draw(mutated_text(receipt, max_changes=2), label="token")
    _verify_receipt(installation, token.encode("utf-8", "surrogatepass"))


@DB_FUZZ
@given(data=st.data())
def test_receipt_forged(installation: Installation, receipt: str, data: st.DataObject) -> None:
    _verify_receipt(installation, data.draw(forged_tokens(receipt), label="token").encode())


@DB_FUZZ
@given(content=raw_bytes)
def test_receipt_arbitrary_bytes(installation: Installation, content: bytes) -> None:
    _verify_receipt(installation, content)


def test_receipt_too_large(installation: Installation, receipt: str) -> None:
    _verify_receipt(installation, (receipt + "A" * 200_000).encode())


# -- audit export and inclusion proof files ----------------------------------------------------


@pytest.fixture
def export_text(file_installation: Installation) -> str:
    out = file_installation.workdir / "audit.jsonl"
    result = file_installation("audit", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8")


@pytest.fixture
def proof_text(file_installation: Installation) -> str:
    out = file_installation.workdir / "entry.tlog-proof"
    result = file_installation("audit", "prove", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8")


def _verify_file(inst: Installation, content: bytes) -> None:
    path = _write(inst, "evidence.txt", content)
    before = inst.state.snapshot()
    result = inst("audit", "verify", str(path))
    assert_clean(result, frozenset({0, 1, 4}))
    assert inst.state.snapshot() == before  # offline verification reads only the file


@FUZZ
@given(data=st.data())
def test_audit_export_mutated_text(file_installation: Installation, export_text: str, data: st.DataObject) -> None:
    text = data.draw(mutated_text(export_text), label="export")
    _verify_file(file_installation, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(data=st.data())
def test_audit_export_mutated_lines(file_installation: Installation, export_text: str, data: st.DataObject) -> None:
    lines = [json.loads(line) for line in export_text.splitlines()]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    lines[index] = data.draw(mutated_json(lines[index]), label="value")
    _verify_file(file_installation, b"\n".join(dump_json(line) for line in lines) + b"\n")


@FUZZ
@given(data=st.data())
def test_inclusion_proof_mutated(file_installation: Installation, proof_text: str, data: st.DataObject) -> None:
    _verify_file(file_installation, data.draw(mutated_text(proof_text), label="proof").encode("utf-8", "surrogatepass"))


@FUZZ
@given(content=raw_bytes)
def test_audit_file_arbitrary_bytes(file_installation: Installation, content: bytes) -> None:
    _verify_file(file_installation, content)


@pytest.fixture
def checkpoint_note(file_installation: Installation) -> str:
    out = file_installation.workdir / "trusted.note"
    result = file_installation("audit", "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8")


@DB_FUZZ
@given(data=st.data())
def test_trusted_checkpoint_mutated(file_installation: Installation, checkpoint_note: str, data: st.DataObject) -> None:
    content = data.draw(st.one_of(mutated_text(checkpoint_note).map(lambda t: t.encode("utf-8", "surrogatepass")),
                                  raw_bytes), label="note")
    path = _write(file_installation, "trusted.note", content)
    before = file_installation.state.snapshot()
    result = file_installation("audit", "verify", "--trusted", str(path))
    assert_clean(result, frozenset({0, 1, 4}))
    assert file_installation.state.snapshot() == before  # verification only reads


@FUZZ
@given(data=st.data())
def test_verifier_key_strings(file_installation: Installation, export_text: str, data: st.DataObject) -> None:
    genuine = file_installation("keys", "public").stdout.split()[0]
    key = data.draw(st.one_of(mutated_text(genuine, max_changes=2), st.text(max_size=60)), label="key")
    path = _write(file_installation, "audit.jsonl", export_text.encode())
    result = file_installation("audit", "verify", str(path), "--public-key", key.replace("\x00", ""))
    assert_clean(result, frozenset({0, 1, 4}))

"""``kit.reidentify``: only supervisor, DPO and admin; every attempt audited, the reason
kept only as its length and a keyed MAC, never the value."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from consentkit.errors import InvalidInputError, PermissionDeniedError
from consentkit.kit import ConsentKit
from consentkit.pseudonym.keyed import Tokeniser
from consentkit.storage.audit_log import AuditFilter
from consentkit.types import Role

PNR = "850709-2388"
REASON = "Safeguarding referral from the school nurse about Anna Svensson"


@pytest.fixture
def token(kit: ConsentKit, tmp_path: Path) -> str:
    """A token made by an export in domain ``study-7``."""
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"version": 1, "domain": "study-7", "columns": {
        "pnr": {"token": {"kind": "SE_PERSONNUMMER"}}, "sex": "keep"}}), encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_text(f"pnr,sex\n{PNR},F\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    kit.pseudonymise(source, schema=schema, out=out)
    with out.open(encoding="utf-8", newline="") as handle:
        return next(csv.DictReader(handle))["pnr"]


def events(kit: ConsentKit) -> list[dict[str, object]]:
    return [{"outcome": r.outcome, "actor": r.actor, **r.details}
            for r in kit.audit_log(AuditFilter(action="pseudonym.reidentified"))]


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DPO])
def test_allowed_roles_reveal_and_are_audited(kit: ConsentKit, open_as: Callable[[str], ConsentKit],
                                              token: str, role: Role) -> None:
    kit.add_actor("boss", [role])
    revealed = open_as("boss").reidentify(token, reason=REASON)
    assert (revealed.kind, revealed.value, revealed.domain) == ("SE_PERSONNUMMER", "198507092388", "study-7")
    assert PNR not in repr(revealed)
    [event] = events(kit)
    master = kit.keys.master
    key = HKDF(SHA256(), 32, salt=None, info=b"consentkit/audit/reidentify-reason/v1").derive(master.material)
    assert event == {
        "outcome": "ok", "actor": "boss", "kind": "SE_PERSONNUMMER", "key_id": kit.keys.pseudonym.kid,
        "domain": "study-7", "reason_chars": len(REASON),
        "reason_mac": f"{master.kid}:{hmac.new(key, REASON.encode(), hashlib.sha256).hexdigest()}",
    }


def test_audit_never_holds_the_value_or_the_reason(kit: ConsentKit, token: str) -> None:
    kit.reidentify(token, reason=REASON)
    everything = json.dumps([vars(r) for r in kit.audit_log(AuditFilter())], default=str)
    for secret in ("198507092388", "8507092388", "Anna Svensson", "school nurse", token.split(".")[1]):
        assert secret not in everything


def test_caseworker_is_refused_and_the_attempt_audited(kit: ConsentKit, open_as: Callable[[str], ConsentKit],
                                                       token: str) -> None:
    kit.add_actor("cas", [Role.CASEWORKER])
    with pytest.raises(PermissionDeniedError, match=r"may not pseudonym\.reidentify"):
        open_as("cas").reidentify(token, reason=REASON)
    [event] = events(kit)
    assert event["outcome"] == "refused" and event["actor"] == "cas" and event["refused"] == "permission"
    assert event["kind"] == "SE_PERSONNUMMER" and "domain" not in event


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_a_reason_is_required(kit: ConsentKit, token: str, reason: str | None) -> None:
    with pytest.raises(InvalidInputError, match="--reason: say why"):
        kit.reidentify(token, reason=reason)
    assert events(kit) == []


def test_an_altered_token_is_refused_opaquely_and_audited(kit: ConsentKit, token: str) -> None:
    head, body = token.split(".")
    forged = f"{head}.{'A' if body[0] != 'A' else 'B'}{body[1:]}"
    with pytest.raises(InvalidInputError) as caught:
        kit.reidentify(forged, reason=REASON)
    assert str(caught.value).startswith("token does not decode with this installation's keys")
    assert forged not in str(caught.value)
    [event] = events(kit)
    assert event["outcome"] == "refused" and event["refused"] == "undecodable"


def test_tokens_outside_exports_need_their_domain(kit: ConsentKit) -> None:
    made = Tokeniser(kit.keys.pseudonyms, "case-files").token("PHONE", "+46701234567")
    with pytest.raises(InvalidInputError, match="give --domain"):
        kit.reidentify(made, reason="court order 2026/17")
    assert kit.reidentify(made, reason="court order 2026/17", domain="case-files").value == "+46701234567"
    with pytest.raises(InvalidInputError, match="does not decode"):
        kit.reidentify(made, reason="court order 2026/17", domain="other")
    assert [e["outcome"] for e in events(kit)] == ["refused", "ok", "refused"]


def test_garbage_is_refused_without_a_kind(kit: ConsentKit) -> None:
    with pytest.raises(InvalidInputError):
        kit.reidentify("not-a-token", reason="checking")
    [event] = events(kit)
    assert event["kind"] is None and event["key_id"] is None

"""Keyed pseudonyms (HMAC-SHA-256) and AES-SIV tokens: determinism, domain separation,
key versions, rotation and attack tests on tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import string

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from consentkit.errors import ConfigurationError, InvalidInputError
from consentkit.keys import SecretKey
from consentkit.pseudonym.identifiers import KINDS
from consentkit.pseudonym.keyed import Pseudonymiser, Tokeniser, canonical_text
from tests.pseudonym.strategies import TODAY, valid_ids

PNR = "850709-2388"
PNR_FORMS = ("850709-2388", "8507092388", "19850709-2388")
BAD_TOKEN = "token does not decode with this installation's keys"

KEY = SecretKey.from_material("pseudonym", bytes(32))
OTHER_KEY = SecretKey.from_material("pseudonym", bytes(range(32)))


def pseudonymiser(domain: str = "research-a", key: SecretKey = KEY) -> Pseudonymiser:
    return Pseudonymiser([key], domain)


def tokeniser(domain: str = "research-a", key: SecretKey = KEY) -> Tokeniser:
    return Tokeniser([key], domain)


# --- pseudonyms -------------------------------------------------------------------------


def test_pseudonym_format_carries_kind_and_key_version() -> None:
    result = pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    assert re.fullmatch(rf"SE_PERSONNUMMER_{KEY.kid[:8]}_[a-z2-7]{{32}}", result)


def test_pseudonym_is_deterministic_across_instances() -> None:
    first = pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    assert first == pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)


def test_three_written_forms_of_a_personnummer_give_one_pseudonym() -> None:
    p = pseudonymiser()
    assert len({p.pseudonym("SE_PERSONNUMMER", form, today=TODAY) for form in PNR_FORMS}) == 1


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_every_written_form_gives_the_pseudonym_of_the_canonical_form(kind: str, data: st.DataObject) -> None:
    canonical, written = data.draw(valid_ids(kind))
    p = pseudonymiser()
    assert p.pseudonym(kind, written, today=TODAY) == p.pseudonym(kind, canonical, today=TODAY)


def test_domains_give_unrelated_pseudonyms() -> None:
    a = pseudonymiser("research-a").pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    b = pseudonymiser("research-b").pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    assert a.rsplit("_", 1)[1] != b.rsplit("_", 1)[1]


def test_installations_give_unrelated_pseudonyms() -> None:
    a = pseudonymiser(key=KEY).pseudonym("TEXT", "Anna Svensson")
    b = pseudonymiser(key=OTHER_KEY).pseudonym("TEXT", "Anna Svensson")
    assert a.rsplit("_", 1)[1] != b.rsplit("_", 1)[1]


def test_pseudonym_is_not_a_plain_hash_of_the_value() -> None:
    mac = pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY).rsplit("_", 1)[1]
    for message in (b"198507092388", b"SE_PERSONNUMMER:198507092388", PNR.encode()):
        digest = hashlib.sha256(message).digest()[:20]
        assert base64.b32encode(digest).decode().lower() != mac


def test_kind_is_bound_into_the_pseudonym() -> None:
    # The same digits under two kinds must not link.
    p = pseudonymiser()
    assert p.pseudonym("TEXT", "198507092388") != p.pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    assert p.pseudonym("TEXT", "x").rsplit("_", 1)[1] != p.pseudonym("TEXT", "y").rsplit("_", 1)[1]


def test_text_is_casefolded_whitespace_collapsed_and_nfc() -> None:
    p = pseudonymiser()
    same = ("Åsa  Öberg", " åsa\töberg\n", "A\u030asa\u00a0O\u0308berg", "ÅSA ÖBERG")
    assert len({p.pseudonym("TEXT", value) for value in same}) == 1
    assert canonical_text(" Anna.Svensson@Example.SE ") == "anna.svensson@example.se"


def test_invalid_identifier_raises_without_the_value() -> None:
    with pytest.raises(InvalidInputError) as caught:
        pseudonymiser().pseudonym("SE_PERSONNUMMER", "850709-2389", today=TODAY)
    assert "2389" not in str(caught.value)
    assert "850709" not in str(caught.value)


def test_unknown_kind_and_empty_text_raise_without_the_value() -> None:
    with pytest.raises(InvalidInputError) as caught:
        pseudonymiser().pseudonym(PNR, "SE_PERSONNUMMER")  # arguments swapped
    assert PNR not in str(caught.value)
    with pytest.raises(InvalidInputError, match="empty"):
        pseudonymiser().pseudonym("TEXT", " \t ")


@pytest.mark.parametrize("domain", ["", "Research", "a b", "x" * 65, "ü", "a/b"])
def test_bad_domain_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInputError, match="domain"):
        Pseudonymiser([KEY], domain)
    with pytest.raises(InvalidInputError, match="domain"):
        Tokeniser([KEY], domain)


def test_missing_or_wrong_kind_of_key_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        Pseudonymiser([], "research-a")
    master = SecretKey.from_material("master", bytes(32))
    with pytest.raises(ConfigurationError) as caught:
        Tokeniser([master], "research-a")
    assert master.material.hex() not in str(caught.value)


@given(value=st.text(min_size=1).filter(lambda v: v.strip()))
def test_text_pseudonym_is_deterministic(value: str) -> None:
    assert pseudonymiser().pseudonym("TEXT", value) == pseudonymiser().pseudonym("TEXT", value)


# --- tokens -----------------------------------------------------------------------------


@given(kind=st.sampled_from([*KINDS, "TEXT", "NAME"]), value=st.text())
def test_token_round_trip(kind: str, value: str) -> None:
    t = tokeniser()
    assert t.reveal(t.token(kind, value)) == (kind, value)


def test_token_is_deterministic_and_carries_key_version() -> None:
    token = tokeniser().token("SE_PERSONNUMMER", PNR)
    assert token == tokeniser().token("SE_PERSONNUMMER", PNR)
    assert token.startswith(f"tok_{KEY.kid[:8]}_SE_PERSONNUMMER.")
    assert PNR not in token
    assert tokeniser().token("NAME", "Anna") != tokeniser().token("NAME", "Anne")


def test_token_from_another_domain_fails() -> None:
    token = tokeniser("research-a").token("NAME", "Anna")
    with pytest.raises(InvalidInputError) as caught:
        tokeniser("research-b").reveal(token)
    assert str(caught.value) == BAD_TOKEN


def test_token_from_another_installation_fails() -> None:
    token = tokeniser(key=OTHER_KEY).token("NAME", "Anna")
    with pytest.raises(InvalidInputError, match=f"^{BAD_TOKEN}$"):
        tokeniser().reveal(token)


def test_relabelled_kind_fails() -> None:
    # The kind is associated data: moving a personnummer token under another label breaks it.
    token = tokeniser().token("GR_AMKA", "01018012345")
    with pytest.raises(InvalidInputError, match=f"^{BAD_TOKEN}$"):
        tokeniser().reveal(token.replace("GR_AMKA", "GR_AFM"))


@pytest.mark.parametrize("bad", ["", "tok_", "tok_00000000_NAME.", "NAME_x", "tok_zz_NAME.AAAA", "\x00"])
def test_garbage_and_truncated_tokens_fail(bad: str) -> None:
    token = tokeniser().token("NAME", "Anna Svensson")
    t = tokeniser()
    for candidate in (bad, token[:-1], token[:-4], token[: len(token) // 2], token + "A", token + "="):
        with pytest.raises(InvalidInputError) as caught:
            t.reveal(candidate)
        assert str(caught.value) == BAD_TOKEN


TOKEN = Tokeniser([KEY], "research-a").token("SE_PERSONNUMMER", PNR)


@given(
    position=st.integers(min_value=0, max_value=len(TOKEN) - 1),
    char=st.sampled_from(string.ascii_letters + string.digits + "-_.=+/ \x00é"),
)
def test_every_single_character_change_fails(position: int, char: str) -> None:
    altered = TOKEN[:position] + char + TOKEN[position + 1 :]
    if altered == TOKEN:
        return
    with pytest.raises(InvalidInputError) as caught:
        tokeniser().reveal(altered)
    assert str(caught.value) == BAD_TOKEN
    assert PNR not in str(caught.value)


def test_every_single_character_change_fails_exhaustively() -> None:
    # Deterministic companion of the property test: every position, every base64url letter.
    t = tokeniser()
    alphabet = string.ascii_letters + string.digits + "-_."
    for position in range(len(TOKEN)):
        for char in alphabet:
            altered = TOKEN[:position] + char + TOKEN[position + 1 :]
            if altered != TOKEN:
                with pytest.raises(InvalidInputError):
                    t.reveal(altered)


def test_bad_token_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="token kind"):
        tokeniser().token("name", "Anna")


# --- rotation ---------------------------------------------------------------------------


def test_rotation_reveals_old_tokens_and_uses_the_new_kid() -> None:
    new_key = SecretKey.from_material("pseudonym", os.urandom(32))
    old_token = tokeniser().token("NAME", "Anna")
    old_pseudonym = pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)

    rotated_tokens = Tokeniser([new_key, KEY], "research-a")
    rotated = Pseudonymiser([new_key, KEY], "research-a")

    assert rotated_tokens.reveal(old_token) == ("NAME", "Anna")
    new_token = rotated_tokens.token("NAME", "Anna")
    assert new_token.startswith(f"tok_{new_key.kid[:8]}_")
    assert rotated_tokens.reveal(new_token) == ("NAME", "Anna")

    new_pseudonym = rotated.pseudonym("SE_PERSONNUMMER", PNR, today=TODAY)
    assert new_pseudonym.startswith(f"SE_PERSONNUMMER_{new_key.kid[:8]}_")
    assert rotated.kid == new_key.kid
    assert rotated.pseudonyms("SE_PERSONNUMMER", PNR, today=TODAY) == (new_pseudonym, old_pseudonym)


def test_dropping_the_old_key_makes_old_tokens_unrevealable() -> None:
    new_key = SecretKey.from_material("pseudonym", os.urandom(32))
    old_token = tokeniser().token("NAME", "Anna")
    with pytest.raises(InvalidInputError, match=f"^{BAD_TOKEN}$"):
        Tokeniser([new_key], "research-a").reveal(old_token)


# --- independent recomputation ------------------------------------------------------------


def _reference_pseudonym(key: SecretKey, domain: str, kind: str, canonical: str) -> str:
    """The documented construction, written out with the stock primitives."""
    derived = HKDF(SHA256(), 32, salt=None, info=b"consentkit/pseudonym/v1|" + domain.encode()).derive(key.material)
    mac = hmac.new(derived, f"{kind}:{canonical}".encode(), hashlib.sha256).digest()[:20]
    return f"{kind}_{key.kid[:8]}_{base64.b32encode(mac).decode().rstrip('=').lower()}"


@given(material=st.binary(min_size=32, max_size=32), value=st.text(alphabet=string.ascii_lowercase, min_size=1))
def test_pseudonym_matches_the_documented_construction(material: bytes, value: str) -> None:
    key = SecretKey.from_material("pseudonym", material)
    assert Pseudonymiser([key], "d").pseudonym("TEXT", value) == _reference_pseudonym(key, "d", "TEXT", value)


def test_personnummer_pseudonym_matches_the_documented_construction() -> None:
    expected = _reference_pseudonym(KEY, "research-a", "SE_PERSONNUMMER", "198507092388")
    assert pseudonymiser().pseudonym("SE_PERSONNUMMER", PNR, today=TODAY) == expected

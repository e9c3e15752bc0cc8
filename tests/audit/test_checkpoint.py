"""Vectors and attack tests for consentkit.audit.checkpoint (C2SP checkpoints in signed notes)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentkit.audit.checkpoint import (
    Checkpoint,
    NoteVerifier,
    add_signature,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from consentkit.audit.merkle import EMPTY_ROOT
from consentkit.errors import AuditIntegrityError, InvalidInputError

VECTORS = Path(__file__).parent.parent / "vectors" / "checkpoint"


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


OURS = _load("consentkit-checkpoints.json")
GO = _load("go-sumdb-note.json")
LOG, WITNESS = OURS["keys"]["log"], OURS["keys"]["witness"]
ORIGIN = LOG["name"]
ROOT = bytes.fromhex(OURS["vectors"][0]["root_hex"])


def _private(key: dict[str, str]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["seed_hex"]))


def _verifier(key: dict[str, str]) -> NoteVerifier:
    return parse_verifier_key(key["verifier_key"])


def _go_signer() -> Ed25519PrivateKey:
    # PRIVATE+KEY+<name>+<id>+base64(0x01 || seed); base64 may contain "+".
    raw = base64.b64decode(GO["signer_key"].split("+", 4)[4])
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def _signed(body: str, key: dict[str, str] = LOG) -> str:
    return sign_note(body, key["name"], _private(key))


# --- our vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("key", [LOG, WITNESS], ids=["log", "witness"])
def test_vector_keys(key: dict[str, str]) -> None:
    label = key["seed_derivation"].split('"')[1]
    assert hashlib.sha256(label.encode()).hexdigest() == key["seed_hex"]
    public = _private(key).public_key()
    assert public.public_bytes_raw().hex() == key["public_key_hex"]
    assert key_id(key["name"], public).hex() == key["key_id_hex"]
    assert verifier_key(key["name"], public) == key["verifier_key"]
    verifier = _verifier(key)
    assert verifier.key == key["verifier_key"]
    assert verifier.key_id.hex() == key["key_id_hex"]


@pytest.mark.parametrize("vector", OURS["vectors"], ids=lambda v: v["desc"][:40])
def test_signing_reproduces_the_vector_byte_for_byte(vector: dict[str, Any]) -> None:
    keys = OURS["keys"]
    checkpoint = Checkpoint(vector["origin"], vector["size"], bytes.fromhex(vector["root_hex"]))
    assert checkpoint.body() == vector["body"]
    first, *others = vector["signers"]
    note = sign_checkpoint(checkpoint, keys[first]["name"], _private(keys[first]))
    for signer in others:
        note = add_signature(note, keys[signer]["name"], _private(keys[signer]))
    assert note == vector["note"]
    assert open_checkpoint(note, [_verifier(keys[first])]) == checkpoint
    assert open_checkpoint(note.encode("utf-8"), [_verifier(keys[s]) for s in vector["signers"]]) == checkpoint
    assert Checkpoint.from_body(vector["body"]) == checkpoint


def test_cosigned_note_reports_who_signed() -> None:
    note = OURS["vectors"][2]["note"]
    only_log = open_note(note, [_verifier(LOG)])
    assert [s.key_id_hex for s in only_log.verified] == [LOG["key_id_hex"]]
    assert [s.key_id_hex for s in only_log.unverified] == [WITNESS["key_id_hex"]]
    both = open_note(note, [_verifier(WITNESS), _verifier(LOG)])
    assert [s.name for s in both.verified] == [LOG["name"], WITNESS["name"]]
    assert both.unverified == ()
    assert [s.key_id_hex for s in parse_note(note).signatures] == [LOG["key_id_hex"], WITNESS["key_id_hex"]]


def test_the_empty_tree_checkpoint() -> None:
    checkpoint = open_checkpoint(OURS["vectors"][1]["note"], [_verifier(LOG)])
    assert (checkpoint.size, checkpoint.root) == (0, EMPTY_ROOT)


# --- Go sumdb note vectors (the reference implementation of signed-note) ------------------


def test_go_signature_is_reproduced() -> None:
    signer = _go_signer()
    assert sign_note(GO["text"], "PeterNeumann", signer) == GO["signed_by_peter"]
    assert verifier_key("PeterNeumann", signer.public_key()) == GO["verifier_keys"]["PeterNeumann"]


@pytest.mark.parametrize("name", ["PeterNeumann", "EnochRoot"])
def test_go_verifier_keys_round_trip(name: str) -> None:
    text = GO["verifier_keys"][name]
    verifier = parse_verifier_key(text)
    assert verifier.name == name
    assert verifier.key == text
    assert verifier.key_id.hex() == text.split("+")[1]


def test_go_open_with_known_and_unknown_keys() -> None:
    note = GO["signed_by_peter"] + GO["enoch_signature_line"]
    peter, enoch = (parse_verifier_key(GO["verifier_keys"][n]) for n in ("PeterNeumann", "EnochRoot"))
    opened = open_note(note, [peter])
    assert opened.text == GO["text"]
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["EnochRoot"]
    assert [s.name for s in open_note(note, [peter, enoch]).verified] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(AuditIntegrityError) as caught:
        open_note(note, [])
    assert caught.value.kind == "unknown-key"


def test_go_duplicated_and_corrupt_unknown_signatures() -> None:
    # Upstream "duplicated verified and unverified signatures": only trusted keys matter.
    peter_line = GO["signed_by_peter"].split("\n\n")[1]
    enoch_line = GO["enoch_signature_line"]
    note = GO["signed_by_peter"] + peter_line + enoch_line + enoch_line + enoch_line[:60] + "ABCD" + enoch_line[60:]
    opened = open_note(note, [parse_verifier_key(GO["verifier_keys"]["PeterNeumann"])])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert len(opened.unverified) == 3


def test_go_invalid_signature_of_a_known_key() -> None:
    peter_line = GO["signed_by_peter"].split("\n\n")[1]
    note = GO["text"] + "\n" + peter_line[:60] + "ABCD" + peter_line[60:]
    with pytest.raises(AuditIntegrityError) as caught:
        open_note(note, [parse_verifier_key(GO["verifier_keys"]["PeterNeumann"])])
    assert caught.value.kind == "forged-checkpoint"


@pytest.mark.parametrize("bad", GO["bad_verifier_keys"])
def test_go_bad_verifier_keys(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_verifier_key(bad)


def test_every_mangling_of_a_verifier_key_is_refused() -> None:
    # upstream TestNewVerifier: every proper substring and every one-character increment.
    good = GO["verifier_keys"]["PeterNeumann"]
    manglings = {good[i:j] for i in range(len(good) + 1) for j in range(i + 1, len(good) + 1)} - {good}
    manglings |= {good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :] for i in range(len(good))}
    for mangled in sorted(manglings):
        with pytest.raises(InvalidInputError) as caught:
            parse_verifier_key(mangled)
        assert "ARpc2QcUPDhM" not in str(caught.value)


def test_too_many_signatures_is_malformed() -> None:
    peter_line = GO["signed_by_peter"].split("\n\n")[1]
    with pytest.raises(InvalidInputError, match="more than 100"):
        parse_note(GO["text"] + "\n" + peter_line * 101)
    assert len(parse_note(GO["text"] + "\n" + peter_line * 100).signatures) == 100


@pytest.mark.parametrize(
    "note",
    [
        "{text}",
        "{text}\n",
        "{text}\n{peter}"[:-1],
        "\x01{text}\n{peter}",
        "{text}\n— Bad Name {sig}",
        "{text}\n{peter}Unexpected line.\n",
        "{text}\r\n{peter}",
        "",
        "\n\n",
        "garbage",
    ],
)
def test_go_malformed_notes(note: str) -> None:
    peter_line = GO["signed_by_peter"].split("\n\n")[1]
    signature = peter_line.split(" ")[2].rstrip("\n")
    text = note.replace("{text}", GO["text"]).replace("{peter}", peter_line).replace("{sig}", signature)
    verifiers = [parse_verifier_key(GO["verifier_keys"]["PeterNeumann"])]
    with pytest.raises(InvalidInputError):
        open_note(text, verifiers)


def test_note_that_is_not_utf8() -> None:
    with pytest.raises(InvalidInputError, match="UTF-8"):
        parse_note(b"\xff" + GO["signed_by_peter"].encode())


# --- attacks on our checkpoints ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "replacement"),
    [(0, "audit.example.org/other-log"), (1, "9"), (1, "7"), (2, base64.b64encode(EMPTY_ROOT).decode())],
    ids=["origin", "size-grown", "size-shrunk", "root"],
)
def test_an_altered_checkpoint_is_forged(line: int, replacement: str) -> None:
    body, signatures = OURS["vectors"][0]["note"].split("\n\n")
    lines = body.split("\n")
    lines[line] = replacement
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint("\n".join(lines) + "\n\n" + signatures, [_verifier(LOG)])
    assert caught.value.kind == "forged-checkpoint"


def test_a_foreign_key_is_unknown() -> None:
    foreign = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"attacker").digest())
    note = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT), ORIGIN, foreign)  # same name, other key
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(note, [_verifier(LOG)])
    assert caught.value.kind == "unknown-key"
    assert LOG["name"] in str(caught.value)


def test_a_known_key_id_under_another_name_is_ignored() -> None:
    # signed-note: a key is known only when both name and id match.
    good = OURS["vectors"][0]["note"]
    renamed = good.replace(f"— {ORIGIN} ", "— someone.else/log ")
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(renamed, [_verifier(LOG)])
    assert caught.value.kind == "unknown-key"


def test_a_bad_signature_under_a_known_key_id_is_forged() -> None:
    body, line = OURS["vectors"][0]["note"].split("\n\n")
    name, encoded = line[2:-1].split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    note = f"{body}\n\n— {name} {base64.b64encode(raw).decode()}\n"
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(note, [_verifier(LOG)])
    assert caught.value.kind == "forged-checkpoint"
    message = str(caught.value)
    for secret_or_key in (encoded, LOG["seed_hex"], LOG["public_key_hex"], LOG["verifier_key"].split("+")[2]):
        assert secret_or_key not in message


def test_a_truncated_signature_of_a_known_key_is_forged() -> None:
    body, line = OURS["vectors"][0]["note"].split("\n\n")
    name, encoded = line[2:-1].split(" ")
    short = base64.b64encode(base64.b64decode(encoded)[:40]).decode()
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(f"{body}\n\n— {name} {short}\n", [_verifier(LOG)])
    assert caught.value.kind == "forged-checkpoint"


def test_one_bad_known_signature_rejects_the_whole_note() -> None:
    # signed-note: if a known key's signature fails, clients SHOULD reject the note,
    # even when another trusted key signed it correctly.
    body, lines = OURS["vectors"][2]["note"].split("\n\n")
    log_line, witness_line = lines.splitlines()
    broken = witness_line[:-6] + ("AAAA" if witness_line[-6:-2] != "AAAA" else "BBBB") + witness_line[-2:]
    note = f"{body}\n\n{log_line}\n{broken}\n"
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(note, [_verifier(LOG), _verifier(WITNESS)])
    assert caught.value.kind == "forged-checkpoint"
    assert open_checkpoint(note, [_verifier(LOG)]).size == 8  # the witness is unknown here


def test_unknown_extra_signatures_are_ignored() -> None:
    stranger = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"a witness we do not know").digest())
    note = add_signature(OURS["vectors"][0]["note"], "witness.example.com/unknown", stranger)
    opened = open_note(note, [_verifier(LOG)])
    assert [s.name for s in opened.unverified] == ["witness.example.com/unknown"]
    assert open_checkpoint(note, [_verifier(LOG)]) == Checkpoint(ORIGIN, 8, ROOT)


def test_every_truncation_of_a_note_is_malformed_or_loses_only_a_cosignature() -> None:
    note = OURS["vectors"][2]["note"]
    log_only = OURS["vectors"][0]["note"]
    verifiers = [_verifier(LOG), _verifier(WITNESS)]
    for cut in range(len(note)):
        if note[:cut] == log_only:
            # Dropping a whole trailing signature line leaves a note the log key still signs.
            assert open_checkpoint(note[:cut], verifiers) == Checkpoint(ORIGIN, 8, ROOT)
            continue
        with pytest.raises(InvalidInputError):
            open_checkpoint(note[:cut], verifiers)


def test_dropping_the_trusted_signature_leaves_an_unknown_key() -> None:
    body, lines = OURS["vectors"][2]["note"].split("\n\n")
    only_witness = f"{body}\n\n{lines.splitlines()[1]}\n"
    with pytest.raises(AuditIntegrityError) as caught:
        open_checkpoint(only_witness, [_verifier(LOG)])
    assert caught.value.kind == "unknown-key"


# --- strict parsing of the checkpoint text ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\nabc\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size is not a decimal number"),
        (f"{ORIGIN}\n-8\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size is not a decimal number"),
        (f"{ORIGIN}\n+8\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size is not a decimal number"),
        (f"{ORIGIN}\n٨\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size is not a decimal number"),
        (f"{ORIGIN}\n08\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size has leading zeros"),
        (f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 2: tree size is larger"),
        (f"{ORIGIN}\n8\nnot base64!\n", "checkpoint line 3: root hash is not canonical base64"),
        (f"{ORIGIN}\n8\n{ROOT.hex()}\n", "checkpoint line 3: root hash is 48 bytes"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT).decode().rstrip('=')}\n", "checkpoint line 3: root hash is not"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT[:31]).decode()}\n", "checkpoint line 3: root hash is 31 bytes"),
        (f"{ORIGIN}\n8\n", "expected 3 lines"),
        (f"\n8\n{base64.b64encode(ROOT).decode()}\n", "checkpoint line 1: the origin is empty"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT).decode()}\nextension\n", "checkpoint line 4: extension lines"),
    ],
)
def test_validly_signed_but_malformed_checkpoints(body: str, message: str) -> None:
    # The text is only parsed after a trusted signature verified (signed-note rule).
    with pytest.raises(InvalidInputError, match=message):
        open_checkpoint(_signed(body), [_verifier(LOG)])


def test_non_canonical_base64_root_is_refused() -> None:
    encoded = base64.b64encode(ROOT).decode()
    # The last character before "=" carries 2 unused bits; setting one keeps the bytes equal.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sloppy = encoded[:-2] + alphabet[alphabet.index(encoded[-2]) | 1] + "="
    assert sloppy != encoded
    assert base64.b64decode(sloppy) == ROOT
    with pytest.raises(InvalidInputError, match="line 3"):
        Checkpoint.from_body(f"{ORIGIN}\n8\n{sloppy}\n")


def test_body_without_final_newline() -> None:
    with pytest.raises(InvalidInputError, match="newline"):
        Checkpoint.from_body(f"{ORIGIN}\n8\n{base64.b64encode(ROOT).decode()}")


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 8, ROOT),
        ("a\nb", 8, ROOT),
        ("a\tb", 8, ROOT),
        (ORIGIN, -1, ROOT),
        (ORIGIN, 2**64, ROOT),
        (ORIGIN, True, ROOT),
        (ORIGIN, 8, ROOT[:31]),
        (ORIGIN, 8, ROOT.hex()),
    ],
)
def test_checkpoint_fields_are_checked(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(InvalidInputError):
        Checkpoint(origin, size, root)


# --- signing helpers and verifier keys ---------------------------------------------------


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname", "nbsp\u00a0name"])
def test_key_names_follow_signed_note(name: str) -> None:
    with pytest.raises(InvalidInputError, match="key name"):
        sign_note("text\n", name, _private(LOG))


@pytest.mark.parametrize("text", ["", "\n", "no final newline", "bell\x07\n"])
def test_note_text_is_checked_before_signing(text: str) -> None:
    with pytest.raises(InvalidInputError, match="signed note"):
        sign_note(text, "name", _private(LOG))


def test_adding_the_same_key_twice_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="already signed"):
        add_signature(OURS["vectors"][0]["note"], LOG["name"], _private(LOG))


def test_duplicate_identical_verifiers_are_fine() -> None:
    assert open_checkpoint(OURS["vectors"][0]["note"], [_verifier(LOG), _verifier(LOG)]).size == 8


def test_verifier_repr_and_objects() -> None:
    verifier = NoteVerifier.from_public_key(LOG["name"], _private(LOG).public_key())
    assert verifier == _verifier(LOG)
    assert LOG["public_key_hex"] not in repr(verifier)
    with pytest.raises(InvalidInputError):
        NoteVerifier(LOG["name"], b"short")
    with pytest.raises(InvalidInputError):
        open_checkpoint(OURS["vectors"][0]["note"], [LOG["verifier_key"]])  # a string, not a NoteVerifier


def test_verifier_key_string_tolerates_surrounding_whitespace() -> None:
    assert parse_verifier_key(f"  {LOG['verifier_key']}\n") == _verifier(LOG)

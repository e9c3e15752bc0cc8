"""Inclusion proofs as C2SP ``tlog-proof@v1`` files, verifiable offline with the public key.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry bytes>
    index <seq>
    <base64 proof hash>...
    <blank line>
    <signed checkpoint note>

consentkit puts the encoded entry in ``extra`` so the verifier recomputes the leaf hash
itself and can show what the event says (personal details in it are ciphertext).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from consentkit.audit.checkpoint import NoteVerifier, open_checkpoint
from consentkit.audit.envelope import entry_hash
from consentkit.audit.merkle import verify_inclusion
from consentkit.errors import AuditIntegrityError, InvalidInputError

__all__ = ["PROOF_HEADER", "InclusionProofFile", "format_proof", "parse_proof", "verify_proof"]

PROOF_HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class InclusionProofFile:
    """A parsed proof file (not yet verified)."""

    entry: bytes
    index: int
    hashes: tuple[bytes, ...]
    note: str


def format_proof(entry: bytes, index: int, hashes: Sequence[bytes], note: str) -> str:
    """Render a proof file."""
    lines = [PROOF_HEADER, f"extra {base64.b64encode(entry).decode()}", f"index {index}"]
    lines += [base64.b64encode(h).decode() for h in hashes]
    return "\n".join(lines) + "\n\n" + note


def parse_proof(text: str) -> InclusionProofFile:
    """Parse a proof file strictly; errors name the line."""
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise InvalidInputError("proof file: no blank line between the proof and the checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise InvalidInputError(f"proof file line 1: expected {PROOF_HEADER}")
    if len(lines) < 3 or not lines[1].startswith("extra ") or not lines[2].startswith("index "):
        raise InvalidInputError("proof file lines 2-3: expected 'extra <base64>' then 'index <n>'")
    entry = _b64(lines[1][6:], 2)
    index_text = lines[2][6:]
    if not index_text.isdigit() or (len(index_text) > 1 and index_text[0] == "0"):
        raise InvalidInputError("proof file line 3: the index is not a decimal number")
    hashes = tuple(_b64(line, number) for number, line in enumerate(lines[3:], start=4))
    if any(len(h) != 32 for h in hashes):
        raise InvalidInputError("proof file: every proof hash must be 32 bytes")
    return InclusionProofFile(entry, int(index_text), hashes, note)


def verify_proof(text: str, verifiers: Sequence[NoteVerifier], origin: str | None = None) -> InclusionProofFile:
    """Verify a proof file: the checkpoint's signature, then the entry's inclusion under it."""
    proof = parse_proof(text)
    checkpoint = open_checkpoint(proof.note, verifiers)
    if origin is not None and checkpoint.origin != origin:
        raise AuditIntegrityError(f"proof: the checkpoint is for log {checkpoint.origin}, not {origin}",
                                  kind="unknown-key")
    if not verify_inclusion(entry_hash(proof.entry), proof.index, checkpoint.size, proof.hashes,
                            checkpoint.root):
        raise AuditIntegrityError(
            f"proof: entry {proof.index} is not included in the checkpointed tree of size "
            f"{checkpoint.size} (the entry or the proof was altered)", kind="changed", seq=proof.index)
    return proof


def _b64(text: str, line: int) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"proof file line {line}: not base64") from None

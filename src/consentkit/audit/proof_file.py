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
import re
from collections.abc import Sequence
from dataclasses import dataclass

from consentkit.audit.checkpoint import NoteVerifier, open_checkpoint, parse_note
from consentkit.audit.envelope import entry_hash
from consentkit.audit.merkle import verify_inclusion
from consentkit.errors import AuditIntegrityError, InvalidInputError

__all__ = ["PROOF_HEADER", "InclusionProofFile", "format_proof", "looks_like_proof", "parse_proof", "verify_proof"]

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_HEADER_FAMILY = "c2sp.org/tlog-proof@"


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


def looks_like_proof(text: str) -> bool:
    """Whether ``text`` claims to be a proof file: its first line is a tlog-proof header (of any
    version), or its next two lines are ``extra`` and ``index`` (the header line was damaged)."""
    lines = text.split("\n", 3)
    if lines[0].startswith(_HEADER_FAMILY):
        return True
    return len(lines) >= 3 and lines[1].startswith("extra ") and lines[2].startswith("index ")


def parse_proof(text: str) -> InclusionProofFile:
    """Parse a proof file strictly.

    Text that is not a proof file at all raises :class:`InvalidInputError`; a proof file with a
    line damaged so that it no longer parses raises :class:`AuditIntegrityError` of kind
    ``malformed``, naming the line (never quoting it).
    """
    if not looks_like_proof(text):
        raise InvalidInputError(f"not an inclusion proof file (line 1 is not {PROOF_HEADER})")
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        if re.fullmatch(r"c2sp\.org/tlog-proof@v[0-9]{1,6}", lines[0]):
            raise InvalidInputError(f"proof file line 1: this consentkit reads {PROOF_HEADER} proofs only")
        raise _damaged(1, f"it is no longer {PROOF_HEADER}")
    if len(lines) < 2 or not lines[1].startswith("extra "):
        raise _damaged(2, "expected 'extra <base64>'")
    entry = _b64(lines[1][6:], 2)
    if len(lines) < 3 or not lines[2].startswith("index "):
        raise _damaged(3, "expected 'index <n>'")
    index_text = lines[2][6:]
    if not (index_text.isascii() and index_text.isdigit()) or (len(index_text) > 1 and index_text[0] == "0"):
        raise _damaged(3, "the index is not a decimal number")
    index = int(index_text)
    hashes = tuple(_b64(line, number, index) for number, line in enumerate(lines[3:], start=4))
    for number, digest in enumerate(hashes, start=4):
        if len(digest) != 32:
            raise _damaged(number, "a proof hash must be 32 bytes", index)
    if not sep:
        raise _damaged(None, "no blank line between the proof and the checkpoint", index)
    if not _is_note(note):
        raise _damaged(len(lines) + 2, "it no longer starts a readable signed checkpoint", index)
    return InclusionProofFile(entry, index, hashes, note)


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


def _b64(text: str, line: int, index: int | None = None) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _damaged(line, "not base64", index) from None


def _is_note(note: str) -> bool:
    try:
        note.encode("utf-8")
        parse_note(note)
    except (UnicodeEncodeError, InvalidInputError):
        return False
    return True


def _damaged(line: int | None, what: str, index: int | None = None) -> AuditIntegrityError:
    where = f"proof file line {line}" if line is not None else "proof file"
    return AuditIntegrityError(f"{where} was damaged: {what}", kind="malformed", seq=index, line=line)

"""Our own byte-format vectors for audit entries (tests/vectors/audit/entries.json)."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest

from consentkit.audit.envelope import ENTRY_FORMAT, encode_entry, entry_hash

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "audit" / "entries.json").read_text("utf-8"))


def test_format_matches() -> None:
    assert VECTORS["format"] == ENTRY_FORMAT


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: str(c["seq"]))
def test_entry_bytes_and_hash(case: dict[str, object]) -> None:
    entry = encode_entry(str(case["origin"]), int(case["seq"]), str(case["ts"]), str(case["actor"]),  # type: ignore[call-overload]
                         str(case["action"]), case["subject_id"], case["object_ref"],  # type: ignore[arg-type]
                         str(case["outcome"]), str(case["details"]), case["sealed"],  # type: ignore[arg-type]
                         bytes.fromhex(str(case["prev_hash"])))
    assert entry.decode("utf-8") == case["entry_utf8"]
    assert entry_hash(entry).hex() == case["entry_hash"]
    assert hashlib.sha256(b"\x00" + entry).hexdigest() == case["entry_hash"]


def test_chain_links() -> None:
    cases = VECTORS["cases"]
    assert cases[0]["prev_hash"] == "00" * 32
    for earlier, later in itertools.pairwise(cases):
        assert later["prev_hash"] == earlier["entry_hash"]

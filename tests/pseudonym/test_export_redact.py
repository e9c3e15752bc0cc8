"""Redact columns through the real free-text detector (``consentkit.pseudonym.detect``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentkit.kit import ConsentKit

pytest.importorskip("consentkit.pseudonym.detect", reason="the free-text detector has not landed yet")

SCHEMA = {"version": 1, "columns": {
    "name": "drop", "lang": "keep",
    "note": {"redact": {"lang": "en", "lang_column": "lang", "known_names": ["name"]}},
}}
NOTES = [
    {"name": "Anna Svensson", "lang": "sv", "note": "Anna Svenssons mamma ringde från 070-123 45 67 om 850709-2388."},
    {"name": "Γιώργος Παπαδόπουλος", "lang": "el", "note": "Ο Γιώργος Παπαδόπουλος, ΑΜΚΑ 15038512347, ήρθε."},
    {"name": "Nils Karlsson", "lang": None, "note": "Write to nils.karlsson@example.org today."},
    {"name": "Olof Berg", "lang": "sv", "note": None},
]


def test_redact_column_uses_the_detector_with_row_names_and_language(kit: ConsentKit, tmp_path: Path) -> None:
    source, schema, out = tmp_path / "notes.jsonl", tmp_path / "s.json", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(n, ensure_ascii=False) + "\n" for n in NOTES), encoding="utf-8")
    schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
    result = kit.pseudonymise(source, schema=schema, out=out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert result.rows_written == 4 and all(set(r) == {"lang", "note"} for r in rows)
    text = json.dumps(rows, ensure_ascii=False)
    for secret in ("Anna", "Svensson", "070-123 45 67", "850709-2388", "Γιώργος", "15038512347",
                   "nils.karlsson@example.org"):
        assert secret not in text
    assert "<SE_PERSONNUMMER>" in rows[0]["note"] and "<PHONE_NUMBER>" in rows[0]["note"]
    assert "<GR_AMKA>" in rows[1]["note"] and "<EMAIL_ADDRESS>" in rows[2]["note"]
    assert rows[3]["note"] is None

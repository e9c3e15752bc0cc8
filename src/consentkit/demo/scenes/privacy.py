"""Friday morning: case notes redacted, offline, before they leave the units."""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any

from consentkit.demo.cast import NOTES
from consentkit.demo.stage import Group, SceneResult, Stage
from consentkit.pseudonym.detect import get_detector

__all__ = ["redacted_notes"]


def redacted_notes(stage: Stage) -> SceneResult:
    """One case note per language (el, sv, ru, kk, en) through the offline detector."""
    stage.at(4, "11:00")
    detector = get_detector()
    rows: list[dict[str, Any]] = []
    counts = Counter[str]()
    for note in NOTES:
        result = detector.redact(note.text, lang=note.lang, known_names=list(note.known_names))
        kinds = [e.type for e in result.entities]
        counts.update(kinds)
        rows.append({"lang": note.lang, "text": result.text, "entities": kinds})
    folder = stage.folder("notes")
    data = folder / "redacted-notes.json"
    data.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    stage.wrote(data, "redacted case notes (JSON)", Group.NOTES)
    page = folder / "redacted-notes.html"
    page.write_text(_notes_page(rows), encoding="utf-8")
    stage.wrote(page, "redacted case notes, one per language", Group.NOTES)
    found = ", ".join(f"{kind}×{n}" for kind, n in sorted(counts.items()))
    return SceneResult(
        f"Redaction · {len(rows)} case notes ({', '.join(r['lang'] for r in rows)}) redacted offline: {found}",
        details=[f"{r['lang']}: {r['text']}" for r in rows], data={"entities": dict(counts)})


def _notes_page(rows: list[dict[str, Any]]) -> str:
    items = "\n".join(
        f"<tr><td>{html.escape(r['lang'])}</td><td lang=\"{html.escape(r['lang'])}\">{html.escape(r['text'])}</td>"
        f"<td>{html.escape(', '.join(r['entities']))}</td></tr>" for r in rows)
    return (
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Redacted case notes</title>"
        "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem}"
        "td{vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}</style>"
        "<h1>Redacted case notes</h1><p>What leaves the unit: names, identity numbers, phones and e-mail "
        "replaced, offline, before the note is shared.</p>"
        f"<table><tr><th>lang</th><th>redacted text</th><th>entities found</th></tr>{items}</table></html>\n")


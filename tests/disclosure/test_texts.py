"""Obligation texts in the staff's language: the packs' own texts, and the catalogs for the
obligations consentkit attaches to overrides (whose English must stay the code's)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentkit.config import shipped_dir
from consentkit.disclosure.decide import _override_obligations
from consentkit.disclosure.texts import localise
from consentkit.policy import PackLibrary
from tests.cli_runner import Run

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LIBRARY = PackLibrary([shipped_dir("policies")])
OVERRIDES = [(pack_id, override_id) for pack_id in LIBRARY.ids()
             for override_id in LIBRARY.get(pack_id).overrides]


def _decision(override_id: str, obligations: list[dict[str, object]]) -> dict[str, object]:
    return {"denied": {}, "basis": {"override": override_id}, "obligations": obligations}


@pytest.mark.parametrize(("pack_id", "override_id"), OVERRIDES)
def test_built_in_obligations_read_the_same_in_english_and_are_translated(pack_id: str, override_id: str) -> None:
    pack = LIBRARY.get(pack_id)
    items = [{"id": o.id, "kind": o.kind, "text": o.text, "due": o.due.isoformat() if o.due else None,
              "citation": o.citation} for o in _override_obligations(pack.overrides[override_id], AT)]
    english = localise(_decision(override_id, items), "en", pack)["obligations"]
    assert [o["text"] for o in english] == [o["text"] for o in items]
    for lang in ("el", "sv", "ru", "kk"):
        translated = localise(_decision(override_id, items), lang, pack)["obligations"]
        for before, after in zip(items, translated, strict=True):
            assert after["text"] != before["text"] and "{" not in str(after["text"])
            assert (after["id"], after["due"]) == (before["id"], before["due"])


def test_check_lang_gives_the_packs_own_obligation_texts(db_url: str, keys_dir: Path) -> None:
    run = Run(db_url, keys_dir)
    assert run("init", "--role", "caseworker", "--role", "supervisor").exit_code == 0
    subject = run.json("subject", "add", "--jurisdiction", "se", "--name", "Sara Test",
                       "--birth-date", "1990-01-01")["subject_id"]
    pack = LIBRARY.get("se")
    decision = run.json("check", "--subject", subject, "--recipient", "social-services", "--purpose",
                        "child-protection", "--category", "identity", "--override", "child-welfare-report",
                        "--justification", "the child told the school nurse about violence at home",
                        "--lang", "sv", code=0)
    texts = {o["id"]: o["text"] for o in decision["obligations"]}
    own = [o for o in pack.obligations if o.id in texts]
    assert own, "the override attaches none of the pack's obligations"
    for obligation in own:  # the pack's Swedish where it has one, else its English
        assert texts[obligation.id] == obligation.text.get("sv", obligation.text["en"])
    assert any("sv" in o.text for o in own)
    assert texts["notify-dpo"].startswith("Underrätta dataskyddsombudet")

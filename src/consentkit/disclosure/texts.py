"""Reason and obligation texts in the staff's language, from editable gettext catalogs and
the packs' own texts."""

from __future__ import annotations

from typing import Any

from consentkit.i18n import fallbacks, translator
from consentkit.policy.model import Pack

__all__ = ["localise"]

def localise(decision_json: dict[str, Any], lang: str, pack: Pack | None = None) -> dict[str, Any]:
    """Replace the English reason and obligation texts of a decision's JSON with ``lang`` ones
    (codes, ids and dates stay). Obligations need the decision's ``pack``: a pack obligation's
    text is the pack's own in that language, a built-in one (DPO alert, informing the client,
    review) comes from the catalogs."""
    _ = translator(lang)
    data = dict(decision_json)
    data["reasons"] = {c: _(f"reason:{code}") for c, code in data["denied"].items()}
    if pack is not None:
        data["obligations"] = [{**item, "text": _obligation_text(item, data, pack, lang)}
                               for item in data["obligations"]]
    data["lang"] = lang
    return data


def _obligation_text(item: dict[str, Any], decision: dict[str, Any], pack: Pack, lang: str) -> str:
    english: str = item["text"]
    own = next((o for o in pack.obligations if o.id == item["id"]), None)
    if own is not None:
        return next((own.text[each] for each in fallbacks(lang) if own.text.get(each)), english)
    override = pack.overrides.get(str(decision["basis"].get("override") or ""))
    if override is None:
        return english
    _ = translator(lang)
    due = str(item["due"] or "")
    if item["id"] == "notify-dpo":
        key, values = "obligation:notify-dpo", {"override": override.id}
    elif item["id"] == "inform-subject" and override.notify_subject == "within-days":
        key, values = "obligation:inform-subject-by", {"due": due[:10]}
    elif item["id"] == "inform-subject":
        key, values = f"obligation:inform-subject-{override.notify_subject}", {}
    elif item["id"] == "review" and override.break_glass_hours is not None:
        key, values = "obligation:break-glass-review", {"due": due}
    elif item["id"] == "review":
        key, values = "obligation:review", {}
    else:
        return english
    text = _(key)
    if text == key:
        return english
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text

"""The human-readable consent receipt (Kantara CR v1.1 §4.7), HTML and plain text.

The page is built from the *verified claims* of the signed receipt, so what the person reads
is what was signed; only the grantor's name (never in the token) is added. Labels come from
the gettext catalogs (``receipt:*`` message ids), in the subject's language; Kazakh falls
back to Russian, anything else to English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentkit.clock import last_day
from consentkit.i18n import LANGUAGES, translator
from consentkit.reports.labels import vocabulary

__all__ = ["LABELS", "ReceiptPage", "page_language", "receipt_page", "render_receipt"]

#: Label keys; each is the gettext message id ``receipt:<key>``.
LABELS = (
    "title", "intro-permit", "intro-refuse", "recipients", "purposes", "categories", "valid", "from", "until",
    "no-end", "given-by", "form", "status", "withdraw", "withdraw-any", "withdraw-written", "irrevocable",
    "controller", "contact", "details", "receipt-id", "consent-id", "subject-id", "issued", "policy",
    "evidence", "verify", "verify-text", "key-id", "issuer",
    "grantor-self", "grantor-guardian", "grantor-representative",
    "form-written", "form-electronic", "form-verbal",
    "status-active", "status-not-yet-valid", "status-withdrawn", "status-revoked", "status-expired",
    "status-superseded", "status-lapsed",
)
_FALLBACK = {"kk": "ru"}


@dataclass(frozen=True)
class ReceiptPage:
    """Everything the receipt templates show, as display strings."""

    lang: str
    labels: Mapping[str, str]
    effect: str
    receipt_id: str
    consent_id: str
    subject_id: str
    issued_at: str
    status: str
    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    valid_from: str
    valid_until: str | None
    grantor: str
    grantor_name: str | None
    form: str
    withdrawal: str
    withdrawal_citation: str | None
    irrevocable_until: str | None
    controller: str
    contact: tuple[str, ...]
    policy: str
    evidence: str | None
    kid: str
    issuer: str


def page_language(lang: str) -> str:
    """The language the page is written in: the subject's, Kazakh → Russian, else English."""
    lang = _FALLBACK.get(lang, lang)
    return lang if lang in LANGUAGES else "en"


def _day(text: str | None) -> str | None:
    return text[:10] if text else None


def _last_day(text: str | None) -> str | None:
    """An exclusive end (stored instant) as the last day it covers (see ``clock.last_day``)."""
    return last_day(datetime.fromisoformat(text)).isoformat() if text else None


def _recipient(ref: str, name: Callable[[str], str]) -> str:
    """``healthcare:region-x`` → ``υπηρεσίες υγείας (region-x)``."""
    kind, _, ident = ref.partition(":")
    return f"{name(kind)} ({ident})" if ident else name(kind)


def receipt_page(claims: Mapping[str, Any], *, kid: str, withdrawal_form: str, withdrawal_citation: str | None,
                 grantor_name: str | None = None) -> ReceiptPage:
    """The view-model of a receipt from its verified claims."""
    lang = page_language(str(claims["language"]))
    _ = translator(lang)
    labels = {key: _(f"receipt:{key}") for key in LABELS}
    name = vocabulary(lang)
    ck = claims["ck"]
    controller = claims["piiControllers"][0]
    return ReceiptPage(
        lang=lang, labels=labels, effect=ck["effect"], receipt_id=claims["jti"], consent_id=ck["consent_id"],
        subject_id=claims["sub"],
        issued_at=datetime.fromtimestamp(claims["iat"], UTC).strftime("%Y-%m-%d %H:%M UTC"),
        status=labels.get(f"status-{ck['status']}", ck["status"]),
        # In the client's language: the pack ids (`care-coordination`) are for machines.
        recipients=tuple(_recipient(str(r), name) for r in ck["scope"]["recipients"]),
        purposes=tuple(name(str(p)) for p in ck["scope"]["purposes"]),
        categories=tuple(name(str(c)) for c in ck["scope"]["categories"]), valid_from=str(_day(ck["valid_from"])),
        valid_until=_last_day(ck["valid_until"]),
        grantor=labels.get(f"grantor-{ck['grantor']}", ck["grantor"]), grantor_name=grantor_name,
        form=labels.get(f"form-{ck['form']}", ck["form"]),
        withdrawal=labels["withdraw-written" if withdrawal_form == "written" else "withdraw-any"],
        withdrawal_citation=withdrawal_citation, irrevocable_until=_day(ck.get("irrevocable_until")),
        controller=str(controller["piiController"]),
        contact=tuple(str(controller[k]) for k in ("contact", "email", "phone") if controller.get(k)),
        policy=str(ck["pack"]), evidence=ck.get("evidence_sha256"), kid=kid, issuer=str(claims["iss"]),
    )


def render_receipt(page: ReceiptPage, fmt: str, *, templates_dir: Path | None = None) -> str:
    """Render the receipt as ``html`` (self-contained, print CSS) or ``text``."""
    if fmt not in ("html", "text"):
        raise ValueError(f"receipt format: html or text, not {fmt}")
    name = "receipt.html.j2" if fmt == "html" else "receipt.txt.j2"
    from consentkit.reports.environment import render  # noqa: PLC0415 - as in reports.output

    return render(name, {"r": asdict(page)}, templates_dir)

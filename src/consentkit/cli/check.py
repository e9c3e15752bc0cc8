"""``consentkit check``: may this go to that recipient for this purpose?"""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app, report_error
from consentkit.cli._options import category_option, split_values

DENY_EXIT = 3


def _locale_language() -> str:
    """The actor's locale (LC_ALL, LC_MESSAGES, LANG) when it is one consentkit speaks, else English."""
    import os

    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = os.environ.get(name, "")[:2].lower()
        if code in ("el", "sv", "ru", "kk", "en"):
            return code
    return "en"


@click.command()
@click.option("--subject", "subject_id", required=True, help="The client's subject id.")
@click.option("--recipient", required=True, help="Recipient TYPE or TYPE:ID.")
@click.option("--purpose", required=True, help="Purpose of the disclosure.")
@category_option
@click.option("--override", help="Statutory override id (see `consentkit policy show J`).")
@click.option("--justification", help="Why the override applies (required with --override; stored encrypted).")
@click.option("--reference", help="Report, case or order number (where the override requires it).")
@click.option("--approver", help="The supervisor who approved the override (where required).")
@click.option("--at", help="Decide as of this time (ISO 8601); an inquiry, not a disclosure.")
@click.option("--explain", is_flag=True, help="Print every consent and rule looked at and why it applied.")
@click.option("--lang", type=click.Choice(("en", "el", "sv", "ru", "kk")),
              help="Language of the reasons [default: the actor's locale, else en].")
@common_options
@pass_app
def check(app: App, subject_id: str, recipient: str, purpose: str, categories: tuple[str, ...],
          override: str | None, justification: str | None, reference: str | None, approver: str | None,
          at: str | None, explain: bool, lang: str | None) -> None:
    """Decide a disclosure. Exit 0 permit, 3 deny or partial; every decision is audited."""
    from consentkit.clock import parse_instant
    from consentkit.disclosure.model import ACCOUNTING_OBLIGATION
    from consentkit.disclosure.texts import localise

    if override is None:
        # These only describe an override; without one they would be silently dropped.
        for flag, given in (("--justification", justification), ("--reference", reference),
                            ("--approver", approver)):
            if given is not None:
                # A usage error (exit 2), reported on one line like every other consentkit error.
                report_error(click.get_current_context(), 2,
                        f"{flag} goes with --override O: name the override, or leave it out", "UsageError")
    kit = app.kit()
    decision = kit.check(
        subject_id, recipient=recipient, purpose=purpose, categories=split_values(categories),
        at=parse_instant(at, field_name="--at") if at else None, override=override,
        justification=justification, reference=reference, approver=approver, explain=explain)
    data = decision.to_json()
    data = localise(data, lang or _locale_language(), kit.packs.get(data["pack"]))
    if explain:
        data["trace"] = list(decision.trace)
    lines = [f"{data['decision'].upper()}  (pack {data['pack_ref']}, audit entry {data['audit_id']})"]
    if data["permitted_categories"]:
        lines.append("permitted: " + ", ".join(data["permitted_categories"]))
    lines += [f"denied:    {c} — {code}: {data['reasons'][c]}" for c, code in data["denied"].items()]
    if data["basis"]["kind"] != "none":
        basis = data["basis"]
        lines.append("basis:     " + (f"override {basis['override']} ({basis['citation']})" if basis["override"]
                                      else "consent " + ", ".join(basis["consent_ids"])))
    for obligation in data["obligations"]:
        if obligation["id"] != ACCOUNTING_OBLIGATION:
            lines.append(f"must:      {obligation['text']}")
        elif data["disclosure_id"]:  # consentkit has done it, in the same transaction as the decision
            lines.append(f"recorded:  disclosure {data['disclosure_id']} (the client's accounting of disclosures)")
    if at:
        lines.append(f"inquiry:   decided as of {data['at']}; audited, not recorded as a disclosure")
    if explain:
        lines += ["evaluation:"] + [f"  {step}" for step in decision.trace]
    app.emit(data, human="\n".join(lines))
    if data["decision"] != "permit":
        click.get_current_context().exit(DENY_EXIT)

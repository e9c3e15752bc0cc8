"""``consentkit disclosure``: the accounting of disclosures."""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app


@click.group()
def disclosure() -> None:
    """What was disclosed, to whom, when and on what basis."""


@disclosure.command("list")
@click.option("--subject", "subject_id", required=True)
@common_options
@pass_app
def disclosure_list(app: App, subject_id: str) -> None:
    """The accounting of disclosures of one client (the read is audited)."""
    records = app.kit().disclosures(subject_id)
    rows = [r.__dict__ for r in records]
    app.emit(rows, human="\n".join(
        f"{r['decided_at'][:16]}  {r['recipient_type']}{':' + r['recipient_id'] if r['recipient_id'] else ''}  "
        f"{r['purpose']}  {','.join(r['categories'])}  {r['basis']}"
        + (f" ({r['override_id']})" if r["override_id"] else "") for r in rows) or "no disclosures")

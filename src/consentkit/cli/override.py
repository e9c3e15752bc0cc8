"""``consentkit override``: the DPO's review queue of disclosures without consent."""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app


@click.group()
def override() -> None:
    """Overrides used (child-welfare reports, emergencies, court orders) and their review."""


@override.command("list")
@click.option("--pending/--all", default=True, help="Only those awaiting review [default] or all.")
@common_options
@pass_app
def override_list(app: App, pending: bool) -> None:
    """List override uses (DPO)."""
    uses = app.kit().override_uses(pending_only=pending)
    rows = [{k: v for k, v in use.__dict__.items() if k != "details_sealed"} for use in uses]
    app.emit(rows, human="\n".join(
        f"{r['disclosure_id']}  {r['used_at'][:16]}  {r['override_id']:<22} by {r['actor']:<10} "
        f"{r['review_status']}" + (f" (ends {r['expires_at'][:16]})" if r["expires_at"] else "")
        for r in rows) or "nothing to review")


@override.command("show")
@click.argument("disclosure_id")
@common_options
@pass_app
def override_show(app: App, disclosure_id: str) -> None:
    """Show one override use with its justification (DPO; the read is audited)."""
    from consentkit.errors import NotFoundError

    kit = app.kit()
    uses = [u for u in kit.override_uses(pending_only=False) if u.disclosure_id == disclosure_id]
    if not uses:
        raise NotFoundError(f"no override use {disclosure_id}")
    details = kit.override_details(uses[0])
    app.emit({**{k: v for k, v in uses[0].__dict__.items() if k != "details_sealed"}, **details})


@override.command("review")
@click.argument("disclosure_id")
@click.option("--outcome", required=True, type=click.Choice(("justified", "unjustified", "needs-follow-up")))
@click.option("--subject-informed", is_flag=True, help="The client has been informed.")
@common_options
@pass_app
def override_review(app: App, disclosure_id: str, outcome: str, subject_informed: bool) -> None:
    """Close the review of an override use (DPO; not one you used yourself)."""
    app.kit().review_override(disclosure_id, outcome=outcome, subject_informed=subject_informed)
    app.emit({"disclosure_id": disclosure_id, "outcome": outcome}, human=f"{disclosure_id}: {outcome}")

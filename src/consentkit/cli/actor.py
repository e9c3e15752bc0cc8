"""``consentkit actor``: staff and systems, and their roles."""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app
from consentkit.cli.setup import ROLES


@click.group()
def actor() -> None:
    """Register actors and grant or withdraw roles (admin only)."""


@actor.command("add")
@click.option("--id", "actor_id", required=True, help="The actor's login or system name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Role to grant (repeatable).")
@common_options
@pass_app
def actor_add(app: App, actor_id: str, roles: tuple[str, ...]) -> None:
    """Register an actor (if new) and grant roles."""
    held = app.kit().add_actor(actor_id, roles)
    app.emit({"actor": actor_id, "roles": sorted(r.value for r in held)},
             human=f"{actor_id}: {', '.join(sorted(r.value for r in held))}")


@actor.command("remove-role")
@click.option("--id", "actor_id", required=True, help="The actor.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role to withdraw.")
@common_options
@pass_app
def actor_remove_role(app: App, actor_id: str, role: str) -> None:
    """Withdraw one role from an actor."""
    app.kit().remove_role(actor_id, role)
    app.emit({"actor": actor_id, "removed": role}, human=f"{actor_id}: {role} withdrawn")


@actor.command("list")
@common_options
@pass_app
def actor_list(app: App) -> None:
    """List actors and their roles."""
    rows = app.kit().actors()
    app.emit([{"actor": a, "roles": sorted(r.value for r in roles)} for a, roles in rows],
             human="\n".join(f"{a}: {', '.join(sorted(r.value for r in roles)) or '(no roles)'}" for a, roles in rows))

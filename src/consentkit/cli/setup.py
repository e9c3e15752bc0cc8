"""``consentkit init``."""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app

ROLES = ("caseworker", "supervisor", "dpo", "admin")


@click.command()
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES),
              help="Extra roles for the first actor, besides admin (repeatable).")
@common_options
@pass_app
def init(app: App, roles: tuple[str, ...]) -> None:
    """Create or upgrade the database and create keys if there are none.

    The actor who runs the first init becomes the first admin. Running it again
    upgrades the schema and changes nothing else.
    """
    from consentkit.kit import ConsentKit
    from consentkit.types import Role

    kit, result = ConsentKit.init(app.db, app.keys, actor=app.actor,
                                  roles=tuple(Role(r) for r in roles))
    app.adopt(kit)
    created = "created" if result["keys_created"] else "reused"
    app.emit(dict(result), human=(
        f"consentkit is ready (schema {result['schema']}).\n"
        f"keys    {result['keys']} ({created}; keep this directory private and backed up apart "
        f"from the database)\nactor   {result['actor']}: {', '.join(result['roles'])}"  # type: ignore[arg-type]
    ))

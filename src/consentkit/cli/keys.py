"""``consentkit keys``: rotation and the public verification key."""

from __future__ import annotations

import click

from consentkit.cli._app import App, common_options, pass_app


@click.group()
def keys() -> None:
    """Manage keys (they live outside the database)."""


@keys.command("rotate")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(("master", "signing", "pseudonym")),
              help="Key kind to rotate (repeatable) [default: all three].")
@common_options
@pass_app
def keys_rotate(app: App, kinds: tuple[str, ...]) -> None:
    """Make new active keys; old keys stay so old data opens and old signatures verify.

    A new master key re-wraps every subject's data key. Admin only.
    """
    result = app.kit().rotate_keys(kinds or ("master", "signing", "pseudonym"))
    app.emit(result, human="\n".join(f"{k}: {v}" for k, v in result.items()))


@keys.command("public")
@common_options
@pass_app
def keys_public(app: App) -> None:
    """Print the verifier keys auditors need to check checkpoints, proofs and exports offline."""
    kit = app.kit()
    public = kit.public_keys()
    app.emit({"origin": kit.keys.origin, "verifier_keys": public},
             human="\n".join(public) + "\n(the first is active; older keys verify older checkpoints)")

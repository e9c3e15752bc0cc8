"""The ``consentkit`` command line: parse, call the library, format. No logic lives here."""

from __future__ import annotations

import click

from consentkit.cli._app import App, RootGroup
from consentkit.cli.actor import actor
from consentkit.cli.audit import audit
from consentkit.cli.check import check
from consentkit.cli.consent import consent
from consentkit.cli.demo import demo
from consentkit.cli.disclosure import disclosure
from consentkit.cli.keys import keys
from consentkit.cli.override import override
from consentkit.cli.policy import policy
from consentkit.cli.pseudonymise import pseudonymise, reidentify
from consentkit.cli.redact import redact
from consentkit.cli.report import report
from consentkit.cli.sar import sar
from consentkit.cli.setup import init
from consentkit.cli.subject import subject

__all__ = ["cli", "main"]


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    from consentkit.audit.merkle import C_CORE

    hashing = "the C core" if C_CORE else "hashlib (the C core was not built at install: slower verification)"
    click.echo(f"consentkit {version('consentkit')}; audit hashing: {hashing}")
    ctx.exit()


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="CONSENTKIT_DB", help="Database URL [default: sqlite:///consentkit.db].")
@click.option("--keys", envvar="CONSENTKIT_KEYS", help="Key directory [default: ./consentkit-keys].")
@click.option("--actor", envvar="CONSENTKIT_ACTOR", help="Who is acting [default: the OS user].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version (and how the audit trail is hashed) and exit.")
@click.pass_context
def cli(ctx: click.Context, db: str | None, keys: str | None, actor: str | None, as_json: bool) -> None:
    """Keep the confidentiality promises of social and addiction services.

    Consent records with signed receipts, disclosure decisions with statutory
    overrides, pseudonymisation and redaction, and a tamper-evident audit trail.

    Exit codes: 0 ok (check: permit), 1 error, 2 usage, 3 check: deny or partial,
    4 integrity failure.
    """
    ctx.obj = App(db=db, keys=keys, actor=actor, as_json=as_json)


for _command in (init, demo, subject, consent, check, policy, override, disclosure, audit, actor, keys):
    cli.add_command(_command)
for _command in (pseudonymise, reidentify, redact):
    cli.add_command(_command)
for _command in (report, sar):
    cli.add_command(_command)


def main() -> None:
    """Console entry point."""
    cli(prog_name="consentkit")

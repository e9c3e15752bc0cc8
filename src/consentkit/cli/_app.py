"""The root command group: global options, output, and the one place errors become exit codes.

Exit codes: 0 ok (and ``check`` permit), 1 error, 2 usage, 3 ``check`` deny or partial,
4 integrity failure. Importing this module loads click and nothing heavy, so
``consentkit --help`` starts fast; the library is imported when a command runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from consentkit.errors import ConsentKitError

if TYPE_CHECKING:
    from consentkit.kit import ConsentKit

__all__ = ["App", "RootGroup", "common_options", "pass_app", "report_error"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """Per-invocation state: global options and the lazily opened kit."""

    db: str | None = None
    keys: str | None = None
    actor: str | None = None
    as_json: bool = False
    _kit: ConsentKit | None = field(default=None, repr=False)

    def kit(self) -> ConsentKit:
        """Open the installation on first use."""
        if self._kit is None:
            from consentkit.kit import ConsentKit

            self._kit = ConsentKit.open(self.db, self.keys, actor=self.actor)
        return self._kit

    def adopt(self, kit: ConsentKit) -> None:
        """Use an already opened kit (``init`` creates its own)."""
        self._kit = kit

    def close(self) -> None:
        """Close the kit if it was opened."""
        if self._kit is not None:
            self._kit.close()
            self._kit = None

    def emit(self, data: dict[str, Any] | list[Any], human: str | None = None) -> None:
        """Print ``data`` as JSON with ``--json``, else ``human`` (or a key: value listing)."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        elif human is not None:
            click.echo(human)
        elif isinstance(data, dict):
            width = max((len(k) for k in data), default=0)
            for key, value in data.items():
                # A typed value may hold line breaks (a justification): its later lines are
                # indented under it, so none can pass for a field of its own.
                text = "" if value is None else str(value)
                click.echo(f"{key.ljust(width)}  {text}".replace("\n", "\n" + " " * (width + 2)))
        else:
            for item in data:
                click.echo(item)


pass_app = click.make_pass_decorator(App, ensure=True)


def _set_global(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value not in (None, False):
            app = ctx.ensure_object(App)
            setattr(app, name, value)

    return callback


def common_options(command: F) -> F:
    """Accept the global options after the subcommand too (``consentkit subject add --json``)."""
    options = (
        click.option("--db", envvar=None, expose_value=False, is_eager=True, callback=_set_global("db"),
                     help="Database URL (env CONSENTKIT_DB)."),
        click.option("--keys", expose_value=False, is_eager=True, callback=_set_global("keys"),
                     help="Key directory (env CONSENTKIT_KEYS)."),
        click.option("--actor", expose_value=False, is_eager=True, callback=_set_global("actor"),
                     help="Who is acting (env CONSENTKIT_ACTOR, else the OS user)."),
        click.option("--json", "as_json", is_flag=True, expose_value=False, is_eager=True,
                     callback=_set_global("as_json"), help="Print JSON."),
    )
    for option in reversed(options):
        command = option(command)
    return command


class RootGroup(click.Group):
    """Maps library errors to one-line messages and exit codes; never shows a traceback."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's main loop, with usage errors on one line like every other error (exit 2), and
        with ``--json`` also as the JSON error object on stdout."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            outcome = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as error:  # usage errors (exit 2) and click's file errors
            context = getattr(error, "ctx", None)
            hint = f" (see `{context.command_path} --help`)" if isinstance(error, click.UsageError) and context else ""
            message = " ".join(error.format_message().split()) + hint
            kind = "UsageError" if isinstance(error, click.UsageError) else type(error).__name__
            if "--json" in argv:
                click.echo(json.dumps({"error": {"kind": kind, "message": message, "exit_code": error.exit_code}}))
            click.echo(f"consentkit: error: {message}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("consentkit: error: aborted at a question; nothing was changed", err=True)
            sys.exit(1)
        sys.exit(outcome if isinstance(outcome, int) else 0)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                             list[str]]:
        """``pseudonymise reidentify TOKEN --reason R`` (DESIGN.md's spelling) is ``reidentify TOKEN
        --reason R``; an input file that is really named ``reidentify`` is given as ``./reidentify``."""
        if len(args) > 1 and args[0] == "pseudonymise" and args[1] == "reidentify":
            args = args[1:]
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating errors."""
        try:
            return super().invoke(ctx)
        except ConsentKitError as error:
            report_error(ctx, error.exit_code, str(error), type(error).__name__)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("consentkit: interrupted; the current transaction was rolled back", err=True)
            ctx.exit(130)
        except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
            # The message of an unexpected error could carry personal data: show only its type.
            report_error(ctx, 1, f"internal error ({type(error).__name__}); nothing was committed "
                                 "by the failed step; please report this", "InternalError")
        finally:
            app = ctx.find_object(App)
            if app is not None:
                app.close()
        return None


def report_error(ctx: click.Context, code: int, message: str, kind: str) -> None:
    """Print one error line (and with --json the error object on stdout), then exit with ``code``."""
    # One line, whatever a message quotes (a file name or an option value may hold line breaks).
    message = "".join(ch if ch.isprintable() else " " for ch in message)
    app = ctx.find_object(App)
    if app is not None and app.as_json:
        click.echo(json.dumps({"error": {"kind": kind, "message": message, "exit_code": code}}))
    click.echo(f"consentkit: error: {message}", err=True)
    sys.stderr.flush()
    ctx.exit(code)

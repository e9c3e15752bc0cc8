"""The CLI reference (docs/cli.md) generated from the commands themselves.

``python -m consentkit.cli._reference > docs/cli.md`` regenerates it; a test fails when the
file and the commands disagree, so a new command cannot go undocumented.
"""

from __future__ import annotations

import click

__all__ = ["render"]


def _walk(command: click.Command, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], (*path, name))
    return found


def render() -> str:
    """The whole reference as Markdown."""
    from consentkit.cli import cli

    lines = ["# consentkit command reference", "",
             "Generated from the commands by `python -m consentkit.cli._reference > docs/cli.md`;",
             "a test keeps it complete. Every command also accepts `--db`, `--keys`, `--actor` and",
             "`--json` after its name.", ""]
    for path, command in _walk(cli, ()):
        title = " ".join(("consentkit", *path))
        lines += [f"## {title}", ""]
        with click.Context(command, info_name=title, terminal_width=100, max_content_width=100,
                           help_option_names=["-h", "--help"]) as ctx:
            help_text = command.get_help(ctx)
        lines += ["```", help_text.replace("Usage: ", "Usage: ", 1), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    click.echo(render(), nl=False)

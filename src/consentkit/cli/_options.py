"""Option helpers shared by several command groups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from click.parser import _OptionParser, _ParsingState

__all__ = ["MultiValueOption", "category_option", "split_values"]

F = TypeVar("F", bound=Callable[..., Any])


def split_values(values: Iterable[str]) -> list[str]:
    """Repeatable options may also carry comma-separated values: ``--category identity,health``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class MultiValueOption(click.Option):
    """A repeatable option that also takes several values after one flag: ``--category a b``.

    Click 8 has no greedy ``nargs``: the parser hands the option exactly one value. After that
    value, this option keeps taking the following tokens up to the next one that starts with
    ``-`` (another option, or ``--``) or the end, recording each as if the flag had been
    repeated; a first value that starts with ``-`` is refused as missing. So ``--category a b``,
    ``--category a --category b`` and ``--category a,b`` (split by :func:`split_values`) all
    give the same values, and may be mixed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        kwargs.setdefault("metavar", "VALUE...")
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser: _OptionParser, ctx: click.Context) -> None:
        """Register as usual, then wrap the parser's record of this option (private in click 8)."""
        super().add_to_parser(parser, ctx)
        # The parser keeps one _Option per spelling; all spellings of this option share it.
        parsed = parser._long_opt.get(self.opts[0]) or parser._short_opt.get(self.opts[0])
        if parsed is None:  # a click whose parser no longer looks like this: one value per flag
            return
        record_one, name = parsed.process, self.opts[0]

        def process(value: Any, state: _ParsingState) -> None:
            # Click took one token already (an error if there was none); like the ones after it,
            # it must not be an option: ``--category --purpose P`` names no category.
            if isinstance(value, str) and value.startswith("-"):
                raise click.BadOptionUsage(name, f"Option {name!r} requires an argument.", ctx=ctx)
            record_one(value, state)
            while state.rargs and not state.rargs[0].startswith("-"):
                record_one(state.rargs.pop(0), state)

        parsed.process = process  # type: ignore[method-assign]


def category_option(command: F) -> F:
    """``--category C...``: every command that takes data categories takes them the same way."""
    return click.option(
        "--category", "categories", cls=MultiValueOption, required=True, metavar="C...",
        help="Data categories: several after one flag (--category identity contact), "
             "the flag repeated, or comma-separated (identity,contact).")(command)

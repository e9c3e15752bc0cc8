"""``consentkit demo``: play a week of four services into a fresh folder."""

from __future__ import annotations

import time
from pathlib import Path

import click

from consentkit.cli._app import App, common_options, pass_app


@click.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default="consentkit-demo", show_default=True,
              help="Folder for the demo's database, keys and reports (new, empty, or a previous demo).")
@common_options
@pass_app
def demo(app: App, out: Path) -> None:
    """Play a realistic week of four services (synthetic people) and write the reports.

    Creates a fresh database and keys in OUT, prints one line per scene, and writes
    index.html linking the receipts, reports, exports and the audit evidence. A previous
    demo folder is replaced; any other non-empty folder is refused. --db and --keys are
    not used: the demo always makes its own.
    """
    started = time.perf_counter()  # before the import: loading the library is part of the wait
    from consentkit.demo import play

    echo = None if app.as_json else click.echo
    result = play(out, progress=echo, started=started)
    summary = result.to_json()
    app.emit(summary, human=f"done in {result.elapsed:.1f} s: {len(result.scenes)} scenes\n"
                            f"open {result.out / 'index.html'}")

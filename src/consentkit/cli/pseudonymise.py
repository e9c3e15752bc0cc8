"""``consentkit pseudonymise`` (schema-driven CSV/JSONL exports) and ``consentkit reidentify``."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import click

from consentkit.cli._app import App, common_options, pass_app

#: Exit status when k-anonymity refuses an export (an error: nothing was written).
REFUSED_EXIT = 1


class _ProgressBar:
    """A one-line progress display on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = 0.0
        self._drawn = False

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        if total:
            width = 30
            filled = min(width, width * done // total)
            line = f"{phase} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows"
        else:
            line = f"{phase} {done:,} rows"
        self.stream.write(f"\r{line}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the progress line so later messages start on a line of their own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


@click.command()
@click.argument("source", metavar="IN", required=False, type=click.Path(dir_okay=False))
@click.option("--schema", "schema_path", required=True, type=click.Path(dir_okay=False),
              help="Export schema (YAML or JSON): one action per input column.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file (written atomically; format from its extension, else the input's).")
@click.option("--format", "fmt", type=click.Choice(("csv", "jsonl")),
              help="Input format [default: from the extension of IN].")
@click.option("--from-db", "from_db", type=click.Choice(("subjects",)),
              help="Read from the database instead of IN (no clear-text file): the subjects of --jurisdiction.")
@click.option("--jurisdiction", help="With --from-db subjects: the jurisdiction (policy pack id).")
@click.option("--k", type=int, help="k-anonymity threshold [default: the schema's k].")
@click.option("--suppress", is_flag=True, help="Drop the rows of quasi-identifier groups under k.")
@click.option("--quiet", is_flag=True, help="No progress bar (it is also off when stderr is not a terminal).")
@common_options
@pass_app
def pseudonymise(app: App, source: str | None, schema_path: str, out: str, fmt: str | None, from_db: str | None,
                 jurisdiction: str | None, k: int | None, suppress: bool, quiet: bool) -> None:
    """Export IN through a schema: keep, drop, pseudonym, token, generalise or redact per column.

    IN is a CSV or JSONL file; or, with --from-db subjects --jurisdiction J, the clients of
    J straight from the database (columns: subject_id, jurisdiction, language, created_at,
    name, other_names, birth_date, national_id, national_id_type, contact).

    The schema names every input column once (an unlisted column is refused):

    \b
      version: 1
      domain: research-2026           # default domain of pseudonym and token columns
      k: 5                            # with quasi_identifiers: the k-anonymity threshold
      quasi_identifiers: [birth_date, postcode]
      columns:
        national_id: {pseudonym: {kind: SE_PERSONNUMMER}}   # or just: pseudonym
        phone:       {token: {kind: PHONE}}                 # reversible with reidentify
        name:        drop
        sex:         keep
        birth_date:  {generalise: {date: year}}             # or month; age: 10; postcode: 3
        postcode:    {generalise: {postcode: 3}}
        note:        {redact: {lang: sv}}   # also redacts the row's hidden values (known_names)

    Quasi-identifiers declared in the schema are checked for k-anonymity before anything
    is written: groups under k refuse the export (exit 1) unless --suppress drops them.
    `consentkit pseudonymise reidentify TOKEN --reason R` reveals a token's value
    (the same as `consentkit reidentify`).

    Every export is audited (domains, schema hash, rows, k reached); nothing is written
    when a row is malformed. A file of 8 MiB or more is exported by two worker processes
    when the machine has more than one core.
    """
    from consentkit.kit._pseudonym import SubjectsQuery

    if (from_db is None) != (jurisdiction is None):
        raise click.UsageError("--jurisdiction goes with --from-db subjects")
    origin: str | SubjectsQuery
    if source is not None and jurisdiction is None:
        origin = source
    elif source is None and jurisdiction is not None:
        origin = SubjectsQuery(jurisdiction)
    else:
        raise click.UsageError("give either IN or --from-db")
    bar = _ProgressBar(sys.stderr) if not quiet and sys.stderr.isatty() else None
    try:
        result = app.kit().pseudonymise(origin, schema=schema_path, out=out, fmt=fmt, k=k, suppress=suppress,
                                        progress=bar)
    finally:
        if bar is not None:
            bar.close()
    data = result.to_json()
    if result.written:
        lines = [f"wrote {result.rows_written:,} rows to {result.out} ({result.format}; audit entry {result.audit_id})"]
        if result.k is not None:
            reached = "no rows are left" if result.k_reached is None else f"k reached {result.k_reached}"
            lines.append(f"k-anonymity: {reached} (required {result.k}) over " + ", ".join(data["quasi_identifiers"]))
        if result.suppressed:
            lines.append(f"suppressed {result.suppressed:,} rows in {data['groups_under_k']} groups under k")
        app.emit(data, human="\n".join(lines))
        return
    app.emit(data, human=_refusal(data))
    click.echo(f"consentkit: error: k-anonymity not reached: {data['groups_under_k']} groups "
               f"({data['rows_under_k']} rows) have fewer than {data['k']} rows; generalise further or use "
               "--suppress; nothing was written", err=True)
    click.get_current_context().exit(REFUSED_EXIT)


def _refusal(data: dict[str, Any]) -> str:
    groups: list[dict[str, Any]] = data["small_groups"]
    lines = [f"NOT WRITTEN: groups under k={data['k']} over {', '.join(data['quasi_identifiers'])}"]
    lines += [f"  {group['rows']} rows: " + ", ".join(f"{key}={value}" for key, value in group["values"].items())
              for group in groups]
    if data["groups_under_k"] != len(groups):
        lines.append(f"  ... {data['groups_under_k']} groups in all")
    return "\n".join(lines)


@click.command()
@click.argument("token")
@click.option("--reason", required=True, help="Why the value must be re-identified (audited as a keyed hash).")
@click.option("--domain", help="Pseudonymisation domain of the token [default: try the domains of past exports].")
@common_options
@pass_app
def reidentify(app: App, token: str, reason: str, domain: str | None) -> None:
    """Reveal the value behind a token (supervisor, DPO, admin); every attempt is audited.

    Also spelled ``consentkit pseudonymise reidentify TOKEN --reason R``.
    """
    if not reason.strip():
        raise click.BadParameter("say why the value must be re-identified (it is audited)", param_hint="--reason")
    revealed = app.kit().reidentify(token, reason=reason, domain=domain)
    app.emit({"kind": revealed.kind, "value": revealed.value, "domain": revealed.domain,
              "audit_id": revealed.audit_id}, human=revealed.value)

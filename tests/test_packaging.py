"""The wheel ships policies/ and templates/, and the public API is what __all__ says."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import consentkit

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_policies_and_templates(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=False, capture_output=True, text=True,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next(tmp_path.glob("consentkit-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "consentkit/_data/policies/README.md" in names
    assert "consentkit/_data/templates/README.md" in names
    assert "consentkit/storage/migrations/versions/0001_initial.py" in names
    assert "consentkit/py.typed" in names
    # Load one file of each through importlib.resources from the wheel itself (zip import).
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from consentkit.config import shipped_dir;"
        "print(shipped_dir('policies').joinpath('README.md').read_text()[:14]);"
        "print(shipped_dir('templates').joinpath('README.md').read_text()[:18]);"
        "from consentkit.policy import PackLibrary;"
        "print(PackLibrary([shipped_dir('policies')]).get('se').ref);"
        "print(shipped_dir('templates').joinpath('receipt.txt.j2').is_file());"
        "from consentkit.i18n import translator; print(translator('sv')('reason:no-consent'));"
        "import consentkit; print(consentkit.__file__)"
    )
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(wheel)], check=True,
                         capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert lines[:2] == ["# Policy packs", "# Report templates"]
    assert lines[2].startswith("se@") and lines[3] == "True"
    assert lines[4] == "det finns inget samtycke för denna mottagare"
    assert lines[5].startswith(str(wheel)), "the probe must import consentkit from the wheel"


def test_public_api_matches_all() -> None:
    public = sorted(consentkit.__all__, key=str.casefold)
    assert consentkit.__all__ == public
    for name in consentkit.__all__:
        assert getattr(consentkit, name) is not None


def test_help_does_not_import_heavy_modules() -> None:
    probe = (
        "import sys; from click.testing import CliRunner; from consentkit.cli import cli;"
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0;"
        "names = ('sqlalchemy', 'alembic', 'presidio_analyzer', 'spacy', 'jinja2');"
        "heavy = [m for m in names if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_the_library_defers_what_only_some_commands_need() -> None:
    # Every command but --help imports consentkit.kit: templates, receipts (JWS), schema
    # validation and the PostgreSQL dialect load when a command uses them (~200 ms together).
    probe = (
        "import sys; import consentkit.kit;"
        "names = ('jinja2', 'jwt', 'jsonschema', 'sqlalchemy.dialects.postgresql', 'presidio_analyzer');"
        "print(','.join(m for m in names if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import click

    found = [prefix]
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_has_help_and_no_clashing_options() -> None:
    from click.testing import CliRunner

    from consentkit.cli import cli

    runner = CliRunner()
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"], catch_exceptions=False)
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_cli_reference_is_complete_and_current() -> None:
    from consentkit.cli._reference import render

    documented = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert documented == render(), "docs/cli.md is stale: run `python -m consentkit.cli._reference > docs/cli.md`"
    for path in _commands(__import__("consentkit.cli", fromlist=["cli"]).cli):
        assert f"## {' '.join(('consentkit', *path))}\n" in documented

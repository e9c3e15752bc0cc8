"""Drive the CLI against one installation, as one actor or another."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from consentkit.cli import cli


class Run:
    """Invoke the CLI against one installation as a given actor."""

    def __init__(self, db_url: str, keys_dir: Path) -> None:
        self.base = ["--db", db_url, "--keys", str(keys_dir)]
        self.runner = CliRunner()

    def __call__(self, *args: str, actor: str = "ada") -> Result:
        return self.runner.invoke(cli, [*self.base, "--actor", actor, *args], catch_exceptions=False)

    def json(self, *args: str, actor: str = "ada", code: int = 0) -> Any:
        result = self(*args, "--json", actor=actor)
        assert result.exit_code == code, result.output + result.stderr
        return json.loads(result.stdout)

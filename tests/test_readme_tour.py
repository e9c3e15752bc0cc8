"""The README's tour is a script the tests run: every command in it works as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "docs" / "examples" / "tour.sh"


def test_the_readme_shows_the_tour_script() -> None:
    script = TOUR.read_text("utf-8").split('examples=$(cd "$(dirname "$0")" && pwd)\n', 1)[1].strip("\n")
    shown = re.sub(r'"\$examples/([^"]+)"', r"docs/examples/\1", script)
    assert shown in (ROOT / "README.md").read_text("utf-8")


@pytest.mark.slow
def test_the_tour_runs(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", str(TOUR)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PARTIAL" in done.stdout and "child-welfare-report" in done.stdout
    assert "<SE_PERSONNUMMER>" in done.stdout and "990416-8656" not in done.stdout
    assert "consistent with your trusted checkpoint" in done.stdout
    for produced in ("receipt/receipt.jwt", "research.csv", "karin.html", "dpo.html", "kept-by-the-dpo.txt"):
        assert (tmp_path / produced).is_file(), produced

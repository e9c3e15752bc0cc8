"""Play the week: check the folder, build the installation beside it, run every scene in
order on the demo clock, write the index page and the summary, and swap the folder in."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from consentkit.clock import SystemClock
from consentkit.demo import workspace
from consentkit.demo.index import index_page
from consentkit.demo.scenes import SCENES
from consentkit.demo.stage import Artefact, Stage, demo_week
from consentkit.errors import ConfigurationError

__all__ = ["DEFAULT_OUT", "DemoResult", "play"]

DEFAULT_OUT = Path("consentkit-demo")
_KEY_VARIABLES = ("CONSENTKIT_MASTER_KEY", "CONSENTKIT_SIGNING_KEY", "CONSENTKIT_PSEUDONYM_KEY")


@dataclass
class DemoResult:
    """What the demo did: the folder, the week, each scene's outcome, the artefacts, the time taken."""

    out: Path
    week: str
    scenes: list[dict[str, Any]] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)
    elapsed: float = 0.0
    replaced_previous: bool = False

    def to_json(self) -> dict[str, Any]:
        """The machine summary (also written to ``demo.json``)."""
        return {
            "consentkit_demo": 1, "out": str(self.out), "week": self.week, "elapsed_s": round(self.elapsed, 2),
            "replaced_previous": self.replaced_previous, "scenes": self.scenes,
            "index": "index.html", "db": "consentkit.db", "keys": "keys",
            "artefacts": [{"path": a.path, "label": a.label, "group": a.group.value} for a in self.artefacts],
        }


def play(out: Path = DEFAULT_OUT, *, today: date | None = None, progress: Callable[[str], None] | None = None,
         started: float | None = None) -> DemoResult:
    """Play the demo week into ``out`` (new, empty, or a previous demo, which is replaced).

    ``progress`` receives one line per scene as it finishes. Nothing appears in ``out`` until
    every scene has run; on any error the half-built folder is removed. The elapsed time is
    counted from ``started`` (a :func:`time.perf_counter` value; the CLI passes the moment it
    began, before the library was imported), else from the call.
    """
    started = time.perf_counter() if started is None else started
    if any(os.environ.get(name) for name in _KEY_VARIABLES):
        raise ConfigurationError("the demo makes its own keys in its folder; unset CONSENTKIT_MASTER_KEY, "
                                 "CONSENTKIT_SIGNING_KEY and CONSENTKIT_PSEUDONYM_KEY to run it")
    out = out.expanduser().absolute()
    previous = workspace.check_target(out)
    build = workspace.build_folder(out)
    monday = demo_week(today or SystemClock().now().date())
    week = f"{monday.date().isoformat()} to {(monday + timedelta(days=4)).date().isoformat()}"
    result = DemoResult(out, week, replaced_previous=previous)
    stage = Stage(build, monday)
    try:
        try:
            _run_scenes(stage, result, progress)
        finally:
            stage.close()
        result.elapsed = time.perf_counter() - started
        _finish(stage, result)
        workspace.check_target(out)
        workspace.publish(build, out, replace_previous=previous)
    except BaseException:
        workspace.discard(build)
        raise
    result.elapsed = time.perf_counter() - started
    return result


def _run_scenes(stage: Stage, result: DemoResult, progress: Callable[[str], None] | None) -> None:
    """Play every scene in order, recording its outcome and reporting one line per scene."""
    for number, scene in enumerate(SCENES, 1):
        outcome = scene.play(stage)
        when = stage.stamp()
        result.scenes.append({"scene": scene.key, "title": scene.title, "when": when, "line": outcome.line,
                              "details": outcome.details, "data": outcome.data})
        if progress is not None:
            progress(f"[{number:2}/{len(SCENES)}] {when}  {outcome.line}")


def _finish(stage: Stage, result: DemoResult) -> None:
    """Write the index page, then the summary listing every file (the marker of a demo folder)."""
    index = stage.root / "index.html"
    index.write_text(index_page(result.scenes, stage.artefacts, week=result.week, elapsed=result.elapsed),
                     encoding="utf-8")
    result.artefacts = stage.artefacts
    summary = result.to_json()
    summary["files"] = [*workspace.listing(stage.root), workspace.MARKER]
    (stage.root / workspace.MARKER).write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str) + "\n",
                                               encoding="utf-8")

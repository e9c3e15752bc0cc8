"""Friday afternoon: the subject-access, DPO and records-of-processing reports (HTML)."""

from __future__ import annotations

from consentkit.demo.stage import SceneResult, Stage, unavailable

__all__ = ["reports"]


def reports(stage: Stage) -> SceneResult:
    """Linnea's and Dmitry's access reports, the DPO's report of the week, the records of processing."""
    stage.at(4, "14:00")
    return unavailable("Reports · subject access, DPO, records of processing", "the reports API")

"""The week, scene by scene, as data: when, where, what, and the function that plays it.

Scenes run in this order on one clock; each returns one narrative line and its details.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consentkit.demo.scenes import almaty, athens, novgorod, ostersund, oversight, privacy, reports, research, setup
from consentkit.demo.stage import SceneResult, Stage

__all__ = ["SCENES", "Scene"]


@dataclass(frozen=True)
class Scene:
    """One scene of the week."""

    key: str
    title: str
    play: Callable[[Stage], SceneResult]


SCENES: tuple[Scene, ...] = (
    Scene("setup", "a fresh installation and the staff", setup.installation),
    Scene("athens-minor", "a 16-year-old with guardian consent", athens.minor_with_guardian),
    Scene("athens-first-arrest", "a 22-year-old first arrest", athens.first_arrest),
    Scene("ostersund-asi", "ASI interview notes in Swedish", ostersund.asi_interview),
    Scene("athens-refused", "a refused disclosure to the police", athens.police_refused),
    Scene("ostersund-sip", "a SIP coordinated plan needing consent", ostersund.sip_consent),
    Scene("novgorod-consent", "written consent under 152-FZ", novgorod.written_consent),
    Scene("ostersund-child-welfare", "a child-welfare report override", ostersund.child_welfare_report),
    Scene("novgorod-break-glass", "a break-glass emergency", novgorod.break_glass),
    Scene("almaty-parent", "a parent asking", almaty.parent_asking),
    Scene("ostersund-withdrawal", "a withdrawal, then honoured", ostersund.sip_withdrawn),
    Scene("almaty-investigator", "an investigator request", almaty.investigator_request),
    Scene("dpo-review", "the break-glass review", oversight.override_review),
    Scene("erasure", "an erasure", oversight.erasure),
    Scene("redaction", "redacted case notes in el/sv/ru/kk/en", privacy.redacted_notes),
    Scene("research-export", "a pseudonymised research export with k checked", research.research_export),
    Scene("reports", "subject-access, DPO and records-of-processing reports", reports.reports),
    Scene("audit-verify", "an audit verify", oversight.audit_verified),
    Scene("tampering", "a tampering attempt that verify catches", oversight.tampering_caught),
)

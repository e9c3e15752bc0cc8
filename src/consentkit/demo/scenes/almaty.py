"""Almaty "Narkostop" counselling front office (pack ``kz``).

A consent needs the Law 94-V art. 8(4) contents and a term (legal-rules §5.1). A parent
asking about an adult son gets the same answer as a stranger. An investigator's written
request in a criminal case binds the office (Health Code medical-secrecy article,
para 4(3)): a supervisor answers it with the request number and a second supervisor's
approval, only the minimum categories go, and the client is put under a legal hold.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from consentkit.demo.cast import FREE_TEXT
from consentkit.demo.scenes.steps import (
    caseworker,
    duties,
    evidence_of,
    issue_receipt,
    register,
    supervisor,
    verdict,
)
from consentkit.demo.stage import SceneResult, Stage

__all__ = ["investigator_request", "parent_asking"]

NARKOSTOP = "treatment-provider:narkostop-almaty"
#: The Law 94-V art. 8(4) statements the counsellor confirms are on the form.
ART_8_4 = ("operator", "third-party-transfer", "cross-border", "public-dissemination")


def parent_asking(stage: Stage) -> SceneResult:
    """Timur (20) and Erlan are registered; Timur's mother calls to ask if he comes here."""
    stage.at(3, "09:30")
    subject = register(stage, "timur")
    register(stage, "erlan")
    kit = stage.as_(caseworker("almaty"))
    grant = kit.grant_consent(
        subject, recipients=[NARKOSTOP], purposes=["referral"], categories=["identity", "substance-use"],
        valid_until=stage.clock.now() + timedelta(days=180), form="written", attest=ART_8_4,
        evidence_sha256=evidence_of("timur 94-V"), notice_version="narkostop-2026-01", notice_language="kk")
    stage.consents["timur-referral"] = grant.grant.consent_id
    issue_receipt(stage, kit, "timur-referral", "Timur: consent to the counselling referral")
    stage.at(3, "10:00")
    asked = {"recipient": "family-member:mother", "purpose": "family-support", "categories": ["identity"]}
    decision = kit.check(subject, recipient="family-member:mother", purpose="family-support", categories=["identity"])
    mother = decision.outward()
    stranger = kit.check_outward(str(uuid.uuid4()), recipient="family-member:mother", purpose="family-support",
                                 categories=["identity"])
    same = "the same answer" if mother == stranger else "a DIFFERENT answer"
    return SceneResult(
        f"Almaty · Timur (20) consents to counselling; his mother calls to ask if he comes here → "
        f"{verdict(decision)}; she hears {mother.decode()}, {same} as for someone who was never a client",
        details=[f"consent {grant.grant.consent_id} with the 94-V art. 8(4) statements, term 180 days",
                 f"staff view of the mother's question: {verdict(decision)} (audit entry {decision.audit_id})",
                 f"answer about Timur: {mother.decode()}; about an unknown person: {stranger.decode()}"],
        data={"request": asked, "decision": decision.to_json(), "outward": mother.decode(),
              "same_as_stranger": mother == stranger})


def investigator_request(stage: Stage) -> SceneResult:
    """An investigator's written request: answered by a supervisor, approved, minimum set only."""
    stage.at(3, "15:30")
    kit = stage.as_(supervisor("almaty"))
    subject = stage.subjects["timur"]
    decision = kit.check(
        subject, recipient="police:almaty-investigation-department", purpose="law-enforcement",
        categories=["identity", "criminal-justice", "substance-use", "contact"], override="investigator-request",
        justification=FREE_TEXT["investigator-justification"], reference=FREE_TEXT["investigator-reference"],
        approver=supervisor("almaty", second=True))
    kit.hold_subject(subject, reason=FREE_TEXT["hold-reason"])
    return SceneResult(
        f"Almaty · an investigator's written request about Timur, answered by a supervisor with a second one's "
        f"approval (override investigator-request) → {verdict(decision)}; his file is put under a legal hold",
        details=[f"basis: {decision.basis.override} ({decision.basis.citation})",
                 f"decision: {verdict(decision)} (audit entry {decision.audit_id})",
                 "legal hold placed: erasure is refused until it is released", *duties(decision)],
        data={"decision": decision.to_json()})

"""Novgorod social support service for people who use drugs (pack ``ru``).

A social service that is not a medical organisation needs a WRITTEN consent for health and
drug-use data, with the contents of 152-FZ art. 9(4) (legal-rules §4.1-4.2); a consent
over the phone cannot cover them. When a client collapses in the office and cannot express
his will, 323-FZ art. 13(4)(1) lets the service tell the ambulance without consent: a
break-glass use, time-limited and queued for the DPO's review.
"""

from __future__ import annotations

from datetime import timedelta

from consentkit.demo.cast import FREE_TEXT
from consentkit.demo.scenes.steps import caseworker, duties, evidence_of, issue_receipt, register, verdict
from consentkit.demo.stage import SceneResult, Stage
from consentkit.errors import ValidationError

__all__ = ["break_glass", "written_consent"]

NARCOLOGY = "treatment-provider:novgorod-narcology"
#: The 152-FZ art. 9(4) contents the caseworker confirms are on the signed form.
ART_9_4 = ("identity-document", "operator", "processor", "actions", "withdrawal-method", "signature")


def written_consent(stage: Stage) -> SceneResult:
    """A consent by phone is refused for drug-use data; the signed written consent is recorded."""
    stage.at(2, "09:30")
    subject = register(stage, "dmitry")
    kit = stage.as_(caseworker("novgorod"))
    until = stage.clock.now() + timedelta(days=365)
    try:
        kit.grant_consent(subject, recipients=[NARCOLOGY], purposes=["referral"],
                          categories=["identity", "substance-use"], valid_until=until, form="verbal",
                          witness="duty social worker", attest=ART_9_4)
        by_phone = "accepted"
    except ValidationError as error:
        by_phone = f"refused: {error}"
    grant = kit.grant_consent(
        subject, recipients=[NARCOLOGY], purposes=["referral"], categories=["identity", "substance-use", "health"],
        valid_until=until, form="written", evidence_sha256=evidence_of("dmitry 152-FZ"), attest=ART_9_4,
        notice_version="novgorod-2026-01", notice_language="ru")
    stage.consents["dmitry-referral"] = grant.grant.consent_id
    issue_receipt(stage, kit, "dmitry-referral", "Dmitry: written consent under 152-FZ")
    decision = kit.check(subject, recipient=NARCOLOGY, purpose="referral", categories=["identity", "substance-use"])
    return SceneResult(
        f"Novgorod · Dmitry's consent by phone {by_phone.partition(':')[0]} for drug-use data; his signed "
        f"written consent (152-FZ art. 9(4), valid one year) recorded; referral → {verdict(decision)}",
        details=[f"consent by phone: {by_phone}",
                 f"written consent {grant.grant.consent_id}: valid until {until.date().isoformat()}, "
                 f"confirmed contents {', '.join(ART_9_4)}",
                 f"referral check: {verdict(decision)} (audit entry {decision.audit_id})"],
        data={"by_phone": by_phone, "consent_id": grant.grant.consent_id, "decision": decision.to_json()})


def break_glass(stage: Stage) -> SceneResult:
    """Dmitry collapses in the office; the caseworker tells the ambulance crew (break-glass)."""
    stage.at(2, "16:05")
    kit = stage.as_(caseworker("novgorod"))
    decision = kit.check(
        stage.subjects["dmitry"], recipient="healthcare:novgorod-ambulance", purpose="emergency-care",
        categories=["identity", "health", "substance-use"], override="incapacitated-patient",
        justification=FREE_TEXT["break-glass-justification"])
    stage.facts["break_glass_disclosure"] = decision.disclosure_id
    review_by = decision.review_by.isoformat() if decision.review_by else "no deadline"
    return SceneResult(
        f"Novgorod · Dmitry collapses in the office: break-glass to the ambulance → {verdict(decision)} "
        f"(override incapacitated-patient, review by {review_by[:16]})",
        details=[f"basis: {decision.basis.override} ({decision.basis.citation})",
                 f"decision: {verdict(decision)} (audit entry {decision.audit_id}); time-limited until {review_by}",
                 *duties(decision)],
        data={"decision": decision.to_json(), "review_by": review_by})

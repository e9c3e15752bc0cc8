"""Athens, OKANA's Immediate Social Intervention Service at the arrest stage (pack ``gr``).

The service is called "upon the consent of the person or his/her guardians if he/she is a
minor" (legal-rules §2.3): an arrested 16-year-old needs his guardian's consent (rule
``okana-minor-guardian``), a 22-year-old after a first arrest consents himself. The police
asking the unit about a client get nothing without consent or an override.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consentkit.consent.model import CaptureContext
from consentkit.demo.cast import CLIENTS
from consentkit.demo.scenes.steps import caseworker, duties, evidence_of, issue_receipt, register, verdict
from consentkit.demo.stage import SceneResult, Stage
from consentkit.errors import ValidationError

if TYPE_CHECKING:
    from consentkit.kit import ConsentKit
    from consentkit.kit._consents import ConsentView

__all__ = ["first_arrest", "minor_with_guardian", "police_refused"]

OKANA = "treatment-provider:okana-athens"
NOTICE = "okana-2026-01"
REFERRED = ("identity", "substance-use", "criminal-justice")


def _okana_consent(kit: ConsentKit, subject: str, *, grantor: str = "self", grantor_name: str | None = None,
                   evidence: str | None = None) -> ConsentView:
    """The consent form the unit signs at the police station: referral to OKANA, in custody."""
    return kit.grant_consent(
        subject, recipients=[OKANA], purposes=["referral"], categories=REFERRED, notice_version=NOTICE,
        notice_language="el", form="written", grantor=grantor, grantor_name=grantor_name,
        evidence_sha256=evidence, context=CaptureContext(in_custody=True))


def minor_with_guardian(stage: Stage) -> SceneResult:
    """A 16-year-old in custody: his own signature is refused, his mother's consent is recorded."""
    stage.at(0, "10:15")
    subject = register(stage, "nikos")
    kit = stage.as_(caseworker("athens"))
    try:
        _okana_consent(kit, subject)
        own = "accepted"
    except ValidationError as error:
        own = f"refused: {error}"
    mother = CLIENTS["nikos"].relatives[0]
    grant = _okana_consent(kit, subject, grantor="guardian", grantor_name=mother,
                           evidence=evidence_of("nikos guardian"))
    stage.consents["nikos-referral"] = grant.grant.consent_id
    issue_receipt(stage, kit, "nikos-referral", "Nikos (16): his mother's consent to the OKANA referral")
    decision = kit.check(subject, recipient=OKANA, purpose="referral", categories=REFERRED)
    return SceneResult(
        f"Athens · Nikos (16) arrested: his own signature {own.partition(':')[0]}, his mother's consent "
        f"recorded in custody; referral to OKANA → {verdict(decision)}",
        details=[f"Nikos signing alone: {own}",
                 f"guardian consent {grant.grant.consent_id}: status {grant.state.status.value}, "
                 f"grantor {grant.grant.grantor.value}, form written, in custody, notice {NOTICE} (el)",
                 f"referral check: {verdict(decision)} (audit entry {decision.audit_id})"],
        data={"own_signature": own, "consent_id": grant.grant.consent_id, "decision": decision.to_json()})


def first_arrest(stage: Stage) -> SceneResult:
    """A 22-year-old after a first arrest consents himself; health was not part of it."""
    stage.at(0, "14:40")
    subject = register(stage, "giorgos")
    kit = stage.as_(caseworker("athens"))
    grant = _okana_consent(kit, subject, evidence=evidence_of("giorgos"))
    stage.consents["giorgos-referral"] = grant.grant.consent_id
    issue_receipt(stage, kit, "giorgos-referral", "Giorgos (22): consent to the OKANA referral")
    decision = kit.check(subject, recipient=OKANA, purpose="referral",
                         categories=[*REFERRED, "health"])
    return SceneResult(
        f"Athens · Giorgos (22), first arrest, consents himself; referral asking also for health → "
        f"{verdict(decision)}",
        details=[f"consent {grant.grant.consent_id}: self, written, in custody",
                 f"check: {verdict(decision)} (audit entry {decision.audit_id})", *duties(decision)],
        data={"consent_id": grant.grant.consent_id, "decision": decision.to_json()})


def police_refused(stage: Stage) -> SceneResult:
    """The police ask what Giorgos uses: no consent, no override, so nothing goes out."""
    stage.at(1, "11:30")
    kit = stage.as_(caseworker("athens"))
    decision = kit.check(stage.subjects["giorgos"], recipient="police:omonoia-station",
                         purpose="law-enforcement", categories=["identity", "substance-use"])
    stage.facts["refused_audit_id"] = decision.audit_id
    answer = decision.outward().decode()
    return SceneResult(
        f"Athens · the police ask what Giorgos uses → {verdict(decision)}; they are told {answer}",
        details=[f"staff view: {verdict(decision)} (audit entry {decision.audit_id})",
                 f"what the police receive: {answer} (the same bytes for every denial, "
                 "so it does not even reveal that Giorgos is a client)"],
        data={"decision": decision.to_json(), "outward": answer})

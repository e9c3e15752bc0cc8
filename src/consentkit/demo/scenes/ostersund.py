"""Östersund municipal social services, adult addiction unit (pack ``se``).

Secrecy is the rule (OSL 26:1) and consent lifts it (OSL 12:2). A SIP, the coordinated
plan with the region's health care, is drawn up only with the person's consent, and
withdrawing that consent ends further exchange (legal-rules §3.2). A child at risk must be
reported to the social welfare board at once, whatever the parent says (orosanmälan,
old SoL 14:1 with OSL 10:28), and the report is hidden from the parent's access report.
"""

from __future__ import annotations

from consentkit.demo.cast import CLIENTS, FREE_TEXT
from consentkit.demo.scenes.steps import caseworker, duties, evidence_of, issue_receipt, register, verdict
from consentkit.demo.stage import SceneResult, Stage

__all__ = ["asi_interview", "child_welfare_report", "sip_consent", "sip_withdrawn"]

REGION = "healthcare:region-jamtland-harjedalen"
SIP = ("identity", "substance-use", "health", "case-notes")
CHILD_UNIT = "child-protection-unit:ostersund-barn-och-familj"


def asi_interview(stage: Stage) -> SceneResult:
    """Linnea is registered, found again by her personnummer in another spelling, and interviewed."""
    stage.at(1, "09:00")
    subject = register(stage, "linnea")
    kit = stage.as_(caseworker("ostersund"))
    national_id = CLIENTS["linnea"].national_id or ""
    other_spelling = "19" + national_id  # 850709-2388 written with the century
    found = kit.find_subjects(other_spelling, jurisdiction="se")
    return SceneResult(
        f"Östersund · Linnea registered; found again by her personnummer written another way "
        f"({len(found)} match, through the keyed blind index); ASI interview notes written in Swedish",
        details=["the personnummer is stored only sealed under Linnea's own data key; the search compares "
                 "keyed HMACs of the normalised number",
                 f"search with the 12-digit form: {'found her' if subject in found else 'no match'}",
                 "the ASI notes stay in the case file; they are redacted on Friday before they leave the unit"],
        data={"found": subject in found})


def sip_consent(stage: Stage) -> SceneResult:
    """Linnea consents to a SIP with the region, and refuses anything to the children's unit."""
    stage.at(1, "13:30")
    subject = stage.subjects["linnea"]
    kit = stage.as_(caseworker("ostersund"))
    sip = kit.grant_consent(subject, recipients=[REGION], purposes=["care-coordination"], categories=SIP,
                            notice_version="ostersund-sip-2025", notice_language="sv", form="written",
                            evidence_sha256=evidence_of("linnea sip"))
    stage.consents["linnea-sip"] = sip.grant.consent_id
    refusal = kit.grant_consent(subject, recipients=["child-protection-unit"], purposes=["child-protection"],
                                categories=["family", "case-notes"], refuse=True,
                                notice_version="ostersund-sip-2025", notice_language="sv", form="verbal",
                                witness=FREE_TEXT["refusal-witness"])
    stage.consents["linnea-refusal"] = refusal.grant.consent_id
    stage.facts["sip_receipt"] = issue_receipt(stage, kit, "linnea-sip", "Linnea: consent to SIP with the region")
    decision = kit.check(subject, recipient=REGION, purpose="care-coordination", categories=SIP)
    plan = next((o.text for o in decision.obligations if o.id == "sip-plan"), "")
    return SceneResult(
        f"Östersund · Linnea consents to a SIP with Region Jämtland Härjedalen (and refuses anything to "
        f"the children's unit); sharing for the plan → {verdict(decision)}",
        details=[f"SIP consent {sip.grant.consent_id}; refusal {refusal.grant.consent_id} (verbal, witnessed)",
                 f"check: {verdict(decision)} (audit entry {decision.audit_id})", f"must: {plan}"],
        data={"consent_id": sip.grant.consent_id, "refusal_id": refusal.grant.consent_id,
              "decision": decision.to_json()})


def child_welfare_report(stage: Stage) -> SceneResult:
    """At a home visit the caseworker finds the 4-year-old alone: the report is mandatory."""
    stage.at(2, "10:20")
    kit = stage.as_(caseworker("ostersund"))
    decision = kit.check(
        stage.subjects["linnea"], recipient=CHILD_UNIT, purpose="child-protection",
        categories=["identity", "contact", "family", "substance-use", "case-notes", "health"],
        override="child-welfare-report",
        justification=FREE_TEXT["welfare-justification"])
    stage.facts["child_welfare_disclosure"] = decision.disclosure_id
    return SceneResult(
        f"Östersund · home visit, the 4-year-old alone: mandatory orosanmälan (override child-welfare-report) "
        f"to the children's unit despite Linnea's refusal → {verdict(decision)}",
        details=[f"basis: {decision.basis.override} ({decision.basis.citation})",
                 f"decision: {verdict(decision)} (audit entry {decision.audit_id}); the justification is "
                 "stored encrypted under Linnea's key", *duties(decision)],
        data={"decision": decision.to_json()})


def sip_withdrawn(stage: Stage) -> SceneResult:
    """Linnea withdraws the SIP consent; the next request to the region is denied."""
    stage.at(3, "11:00")
    kit = stage.as_(caseworker("ostersund"))
    withdrawal = kit.withdraw_consent(stage.consents["linnea-sip"], reason=FREE_TEXT["sip-withdrawal-reason"],
                                      form="verbal")
    decision = kit.check(stage.subjects["linnea"], recipient=REGION, purpose="care-coordination",
                         categories=["identity", "substance-use"])
    told = ", ".join(f"{r['recipient_type']}:{r['recipient_id']}" for r in withdrawal.recipients_to_tell)
    receipt = kit.verify_receipt(str(stage.facts["sip_receipt"]))
    return SceneResult(
        f"Östersund · Linnea withdraws the SIP consent (forward only; tell: {told or 'nobody'}); "
        f"the next request to the region → {verdict(decision)}",
        details=[f"withdrawn at {withdrawal.at.isoformat()}; recipients to tell: {told or 'none'}",
                 f"check after the withdrawal: {verdict(decision)} (audit entry {decision.audit_id})",
                 f"her receipt, verified again: {receipt.summary}"],
        data={"recipients_to_tell": list(withdrawal.recipients_to_tell), "decision": decision.to_json(),
              "receipt": receipt.summary})

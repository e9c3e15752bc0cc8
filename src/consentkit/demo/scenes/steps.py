"""The small steps the scenes are made of: register a client, issue a receipt, word a decision."""

from __future__ import annotations

import hashlib

from consentkit.demo.cast import CLIENTS, SERVICES, STAFF, birth_date
from consentkit.demo.stage import Group, Stage
from consentkit.disclosure.model import ACCOUNTING_OBLIGATION, Decision
from consentkit.kit import ConsentKit

__all__ = ["caseworker", "duties", "evidence_of", "issue_receipt", "register", "supervisor", "verdict"]


def _staff(service: str, role: str) -> list[str]:
    return [s.actor for s in STAFF if s.service == service and role in s.roles]


def caseworker(service: str) -> str:
    """The actor id of the service's caseworker."""
    return _staff(service, "caseworker")[0]


def supervisor(service: str, *, second: bool = False) -> str:
    """The actor id of the service's supervisor (or of a second one, who can approve the first's overrides)."""
    return _staff(service, "supervisor")[1 if second else 0]


def register(stage: Stage, key: str) -> str:
    """Register a client as their service's caseworker; returns the subject id."""
    client = CLIENTS[key]
    service = SERVICES[client.service]
    kit = stage.as_(caseworker(client.service))
    record = kit.add_subject(
        jurisdiction=service.jurisdiction, name=client.name, birth_date=birth_date(client, stage.monday.date()),
        national_id=client.national_id, language=client.language, other_names=client.aliases)
    stage.subjects[key] = record.subject_id
    return record.subject_id


def evidence_of(what: str) -> str:
    """SHA-256 standing for the scan of a signed paper form (the demo has no scanner)."""
    return hashlib.sha256(f"consentkit demo: scanned signed form: {what}".encode()).hexdigest()


def issue_receipt(stage: Stage, kit: ConsentKit, consent_key: str, label: str) -> str:
    """Issue the signed receipt of a consent into ``receipts/<consent_key>/``; returns the token."""
    folder = stage.folder("receipts", consent_key)
    receipt = kit.consent_receipt(stage.consents[consent_key], out_dir=folder)
    for path in receipt.files:
        stage.wrote(path, f"{label} ({path.suffix[1:]})", Group.RECEIPTS)
    return receipt.token


def duties(decision: Decision) -> list[str]:
    """The decision's obligations as detail lines; the accounting entry consentkit made itself
    is shown as done, not as a duty."""
    lines = []
    for obligation in decision.obligations:
        if obligation.id != ACCOUNTING_OBLIGATION:
            lines.append(f"must: {obligation.text}")
        elif decision.disclosure_id:
            lines.append(f"recorded: disclosure {decision.disclosure_id} in the accounting of disclosures")
    return lines


def verdict(decision: Decision) -> str:
    """A decision in a few words: ``PARTIAL identity, health; denied contact (override-minimum)``."""
    text = decision.decision.value.upper()
    if decision.permitted:
        text += " " + ", ".join(decision.permitted)
    if decision.denied:
        text += "; denied " + ", ".join(f"{c} ({d.reason.value})" for c, d in decision.denied.items())
    return text

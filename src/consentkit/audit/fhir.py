"""A FHIR R4 ``AuditEvent`` view of the trail, for systems that collect IHE audit records.

An export only: the integrity substrate stays our own envelope. Following IHE BALP:
disclosure decisions use the AuthZconsent pattern (Security Alert / AuthZ-Consent),
disclosures made use PrivacyDisclosure (Export / ISO 21089 ``disclose``), record access
uses the RESTful read pattern. Events are minimal (identifiers only, one subject each), as
BALP recommends "to limit the privacy impact"; sealed personal details are never included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from consentkit.audit.verify import RawRow

__all__ = ["fhir_bundle", "to_audit_event"]

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_REST = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_INTERACTION = "http://hl7.org/fhir/restful-interaction"
_AUTHZ = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType"
_LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
_OUTCOME = {"ok": "0", "permit": "0", "partial": "4", "deny": "8", "refused": "4"}
_CRUD = {"added": ("C", "create"), "viewed": ("R", "read"), "searched": ("E", "search"),
         "erased": ("D", "delete"), "granted": ("C", "create"), "withdrawn": ("U", "update"),
         "revoked": ("U", "update")}


def _type(action: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    if action.startswith("disclosure.check"):
        return ({"system": _DCM, "code": "110113", "display": "Security Alert"},
                [{"system": _AUTHZ, "code": "AuthZ-Consent"}], "E")
    if action.startswith("disclosure.made") or action == "pseudonym.exported":
        return ({"system": _DCM, "code": "110106", "display": "Export"},
                [{"system": _LIFECYCLE, "code": "disclose"}], "R")
    verb = action.rsplit(".", 1)[-1]
    code, interaction = _CRUD.get(verb, ("E", "operation"))
    return ({"system": _REST, "code": "rest", "display": "Restful Operation"},
            [{"system": _INTERACTION, "code": interaction}], code)


def to_audit_event(origin: str, row: RawRow) -> dict[str, Any]:
    """One stored entry as a FHIR R4 AuditEvent resource."""
    seq, ts, actor, action, subject, obj, outcome, details, _sealed, _prev, digest = row
    event_type, subtype, crud = _type(action)
    entities: list[dict[str, Any]] = [{
        "what": {"identifier": {"system": f"urn:consentkit:audit:{origin}", "value": str(seq)}},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "4",
                 "display": "Other"},
        "description": f"consentkit entry {seq}, hash {digest.hex()}",
    }]
    if subject:
        entities.append({
            "what": {"reference": f"Patient/{subject}"},
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"},
        })
    if obj and obj.startswith("consent:"):
        entities.append({"what": {"reference": f"Consent/{obj.split(':', 1)[1]}"},
                         "type": {"system": "http://hl7.org/fhir/resource-types", "code": "Consent"}})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": f"ck-{seq}",
        "type": event_type,
        "subtype": subtype,
        "action": crud,
        "recorded": ts,
        "outcome": _OUTCOME.get(outcome, "4"),
        "outcomeDesc": f"{action}: {outcome}",
        "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                        "code": "IRCP"}]},
                   "who": {"identifier": {"value": actor}}, "requestor": True}],
        "source": {"observer": {"display": origin},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                             "code": "4", "display": "Application Server"}]},
        "entity": entities,
    }
    purpose = json.loads(details).get("purpose")
    if isinstance(purpose, str):
        event["purposeOfEvent"] = [{"coding": [{"system": "urn:consentkit:purpose", "code": purpose}]}]
    return event


def fhir_bundle(origin: str, rows: Iterable[RawRow]) -> dict[str, Any]:
    """A FHIR R4 ``collection`` Bundle of AuditEvents."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:consentkit:audit:{origin}:{row[0]}", "resource": to_audit_event(origin, row)}
                  for row in rows],
    }

"""HL7 FHIR R5 ``Consent``: export a consent, and read one back as ``grant_consent`` arguments.

Validation uses a documented JSON Schema of the subset consentkit understands
(``fhir_consent.schema.json`` beside this module) plus the code checks below, not the
``fhir.resources`` models: jsonschema is already a dependency, a closed schema refuses
exactly the elements consentkit cannot honour (a record-level ``provision.data`` ignored on
import would broaden the consent), and every problem is reported with its JSON path and
without echoing values (which may be names).

Mapping (R5 semantics: ``decision`` is the base rule and each ``provision`` level negates the
level above it, so an opt-in reads "deny, except this scope"):

* permit consent → ``decision: deny`` + one provision holding the scope (so: permitted);
* refusal → ``decision: deny`` + the scope provision + a nested provision with the same scope
  (denied again): everything is denied and the refused scope is named. On import,
  ``decision: permit`` + one provision (the R5 opt-out) is also read as a refusal of that
  scope: an import never infers a permission beyond a scope it names.

Elements FHIR has no place for travel as ``urn:consentkit:fhir:extension:*`` extensions (form,
notice version and language, irrevocable-until, attested elements, status, event history);
a document without the form extension is imported as ``electronic``. Capture context
(in custody, interpreter, capacity assessed) is ``verification``; the evidence SHA-256 is an
RFC 6920 ``ni:///sha-256;...`` URI in ``sourceAttachment`` (``Attachment.hash`` is SHA-1).

Codes live in consentkit code systems (``urn:consentkit:purpose``, ``urn:consentkit:data-category``,
``urn:consentkit:recipient-type``; named recipients as identifiers ``urn:consentkit:recipient``),
as in the audit export. Names (grantor, witness) are never exported; the subject is
``Patient/<uuid>``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from consentkit.clock import parse_instant
from consentkit.consent.model import CaptureContext, ConsentEvent, ConsentGrant, Effect, Grantor
from consentkit.consent.state import ConsentState, Status
from consentkit.errors import InvalidInputError, ValidationError
from consentkit.policy.model import Pack

__all__ = [
    "CODE_SYSTEMS",
    "MAX_DOCUMENT_BYTES",
    "from_fhir_r5",
    "parse_fhir_json",
    "schema",
    "subject_of",
    "to_fhir_r5",
]

#: A Consent is a few kilobytes; anything near this is not one.
MAX_DOCUMENT_BYTES = 1024 * 1024
_MAX_DEPTH = 32

CODE_SYSTEMS = {
    "purpose": "urn:consentkit:purpose",
    "category": "urn:consentkit:data-category",
    "recipient-type": "urn:consentkit:recipient-type",
    "recipient": "urn:consentkit:recipient",
    "pack": "urn:consentkit:pack",
    "capture-context": "urn:consentkit:capture-context",
    "installation": "urn:consentkit:installation",
}
_EXT = "urn:consentkit:fhir:extension:"
EXT_GRANTOR, EXT_FORM, EXT_STATUS, EXT_EVENT = (_EXT + n for n in ("grantor-kind", "form", "status", "event"))
EXT_NOTICE_VERSION, EXT_NOTICE_LANGUAGE = _EXT + "notice-version", _EXT + "notice-language"
EXT_IRREVOCABLE, EXT_ATTESTED = _EXT + "irrevocable-until", _EXT + "attested"
#: HL7's R5 Consent witness extension (a Reference; its display is the witness).
EXT_WITNESS = "http://hl7.org/fhir/StructureDefinition/consent-Witness"
_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_BCP47 = "urn:ietf:bcp:47"
# HL7 v3 information-sensitivity codes exported beside ours, for systems that filter on them.
_SENSITIVITY = {"substance-use": "ETH", "mental-health": "PSY"}
_CONTEXT_CODES = ("in-custody", "interpreter", "capacity-assessed")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PATIENT = re.compile(rf"Patient/({_UUID})")
_VOCAB_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_NI_SHA256 = re.compile(r"ni:///sha-256;([A-Za-z0-9_-]{43})")
_REFUSED = "FHIR Consent refused"
_UNSUPPORTED = {
    "modifierExtension": "modifier extensions change the meaning and are not understood",
    "implicitRules": "implicit rules change the meaning and are not understood",
    "contained": "contained resources are not supported",
    "data": "consents about single records are not supported (consentkit consents cover data categories)",
    "dataPeriod": "consents limited to a data period are not supported",
    "code": "consents limited to content codes are not supported",
    "resourceType": "consents limited to resource types are not supported",
    "documentType": "consents limited to document types are not supported",
    "expression": "computable provision expressions are not supported",
}


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the FHIR R5 Consent subset consentkit reads and writes."""
    text = resources.files("consentkit.consent").joinpath("fhir_consent.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# -- export --------------------------------------------------------------------------------


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _coding(system: str, code: str) -> dict[str, str]:
    return {"system": system, "code": code}


def _ext(url: str, kind: str, value: object) -> dict[str, object]:
    return {"url": url, f"value{kind}": value}


def to_fhir_r5(grant: ConsentGrant, events: Sequence[ConsentEvent], state: ConsentState, pack: Pack, *,
               organisation: str) -> dict[str, Any]:
    """The consent as a FHIR R5 ``Consent``; ``organisation`` (the log origin) manages and controls it."""
    organisation_ref = {"type": "Organization",
                        "identifier": {"system": CODE_SYSTEMS["installation"], "value": organisation}}
    period = {"start": _instant(grant.valid_from),
              **({"end": _instant(grant.valid_until)} if grant.valid_until else {})}
    scope = _provision(grant)
    if grant.effect is Effect.REFUSE:
        scope["provision"] = [_provision(grant)]
    doc: dict[str, Any] = {
        "resourceType": "Consent",
        "id": grant.consent_id,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{grant.consent_id}"}],
        "status": "active" if state.status in (Status.ACTIVE, Status.NOT_YET_VALID) else "inactive",
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]}],
        "subject": {"reference": f"Patient/{grant.subject_id}"},
        "date": grant.recorded_at.date().isoformat(),
        "period": period,
        "grantor": [{"reference": f"Patient/{grant.subject_id}"} if grant.grantor is Grantor.SELF else
                     {"type": "RelatedPerson", "extension": [_ext(EXT_GRANTOR, "Code", grant.grantor.value)]}],
        "manager": [organisation_ref],
        "controller": [organisation_ref],
        "regulatoryBasis": [{"coding": [_coding(CODE_SYSTEMS["pack"], grant.pack_ref)],
                             "text": pack.consent.forms_cited.citation}],
        "decision": "deny",
        "provision": [scope],
        "extension": _extensions(grant, events, state),
    }
    if grant.evidence_sha256:
        # Attachment.hash is SHA-1 by definition; the SHA-256 goes in an RFC 6920 ni URI.
        digest = base64.urlsafe_b64encode(bytes.fromhex(grant.evidence_sha256)).rstrip(b"=").decode()
        doc["sourceAttachment"] = [{"title": "signed consent form", "url": f"ni:///sha-256;{digest}"}]
    verification = _verification(grant)
    if verification:
        doc["verification"] = verification
    return doc


def _provision(grant: ConsentGrant) -> dict[str, Any]:
    actors = []
    for recipient in grant.scope.recipients:
        actor: dict[str, Any] = {"role": {"coding": [_coding(_PARTICIPATION, "IRCP"),
                                                     _coding(CODE_SYSTEMS["recipient-type"], recipient.type)]}}
        if recipient.id:
            actor["reference"] = {"identifier": {"system": CODE_SYSTEMS["recipient"], "value": recipient.id}}
        actors.append(actor)
    labels = [_coding(CODE_SYSTEMS["category"], c) for c in sorted(grant.scope.categories)]
    labels += [_coding(_ACT_CODE, _SENSITIVITY[c]) for c in sorted(grant.scope.categories) if c in _SENSITIVITY]
    return {
        "actor": actors,
        "action": [{"coding": [_coding(_ACTION, "disclose")]}],
        "securityLabel": labels,
        "purpose": [_coding(CODE_SYSTEMS["purpose"], p) for p in sorted(grant.scope.purposes)],
    }


def _extensions(grant: ConsentGrant, events: Sequence[ConsentEvent], state: ConsentState) -> list[dict[str, Any]]:
    out = [_ext(EXT_FORM, "Code", grant.form.value), _ext(EXT_STATUS, "Code", state.status.value)]
    if grant.notice_version:
        out.append(_ext(EXT_NOTICE_VERSION, "String", grant.notice_version))
    if grant.notice_language:
        out.append(_ext(EXT_NOTICE_LANGUAGE, "Code", grant.notice_language))
    if grant.irrevocable_until:
        out.append(_ext(EXT_IRREVOCABLE, "DateTime", _instant(grant.irrevocable_until)))
    out += [_ext(EXT_ATTESTED, "Code", element) for element in sorted(grant.attested)]
    for event in sorted(events, key=lambda e: e.at):
        parts = [_ext("kind", "Code", event.kind.value), _ext("at", "DateTime", _instant(event.at))]
        if event.by:
            parts.append(_ext("by", "Code", event.by))
        out.append({"url": EXT_EVENT, "extension": parts})
    return out


def _verification(grant: ConsentGrant) -> list[dict[str, Any]]:
    context, when = grant.context, [_instant(grant.recorded_at)]
    entries = []
    for code, present in (("in-custody", context.in_custody), ("capacity-assessed", context.capacity_assessed),
                          ("interpreter", context.interpreter_language is not None)):
        if present:
            coding = [_coding(CODE_SYSTEMS["capture-context"], code)]
            if code == "interpreter":
                coding.append(_coding(_BCP47, str(context.interpreter_language)))
            entries.append({"verified": True, "verificationType": {"coding": coding}, "verificationDate": when})
    return entries


# -- import --------------------------------------------------------------------------------


def parse_fhir_json(raw: bytes | str) -> dict[str, Any]:
    """Parse a FHIR JSON document safely: size and depth capped, duplicate keys and NaN refused."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(f"FHIR Consent: larger than {MAX_DOCUMENT_BYTES // 1024} KiB; not a Consent")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise InvalidInputError("FHIR Consent: not valid JSON (a key appears twice in one object)")
        return dict(pairs)

    def no_constants(_name: str) -> None:
        raise InvalidInputError("FHIR Consent: not valid JSON (NaN or Infinity)")

    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except UnicodeDecodeError:
        raise InvalidInputError("FHIR Consent: not UTF-8 text") from None
    except RecursionError:
        raise InvalidInputError(f"FHIR Consent: nested deeper than {_MAX_DEPTH} levels; not a Consent") from None
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"FHIR Consent: not valid JSON (line {error.lineno}, column {error.colno})") from None
    if not isinstance(doc, dict):
        raise InvalidInputError("FHIR Consent: expected a JSON object with resourceType Consent")
    if _depth(doc) > _MAX_DEPTH:
        raise InvalidInputError(f"FHIR Consent: nested deeper than {_MAX_DEPTH} levels; not a Consent")
    return doc


def from_fhir_r5(doc: object, *, vocabulary: Pack | None = None) -> dict[str, Any]:
    """``grant_consent`` keyword arguments (plus ``subject_id``, or ``None``) from a FHIR R5 Consent.

    With ``vocabulary`` (the subject's pack) every code is also checked against it. Raises
    :class:`ValidationError` listing every problem with its JSON path.
    """
    if not isinstance(doc, Mapping) or _depth(doc) > _MAX_DEPTH:
        raise ValidationError(_REFUSED, ("$: expected a JSON object with resourceType Consent",))
    problems = _schema_problems(doc)
    if problems:
        raise ValidationError(_REFUSED, tuple(problems))
    reader = _Reader(vocabulary)
    kwargs = reader.read(doc)
    if reader.problems:
        raise ValidationError(_REFUSED, tuple(reader.problems))
    return kwargs


def subject_of(doc: object) -> str | None:
    """The subject id in ``subject.reference`` (``Patient/<uuid>``), if there is a well-formed one."""
    subject = doc.get("subject") if isinstance(doc, Mapping) else None
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    match = _PATIENT.fullmatch(reference) if isinstance(reference, str) else None
    return match.group(1) if match else None


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > _MAX_DEPTH:
            break
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _path(parts: Sequence[object]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _safe_name(name: object) -> str:
    text = str(name)
    return text if re.fullmatch(r"[A-Za-z0-9_]{1,40}", text) else "(a field)"


def _schema_problems(doc: Mapping[str, Any]) -> list[str]:
    import jsonschema  # noqa: PLC0415 - deferred, as in policy.loader

    validator = jsonschema.Draft202012Validator(schema())
    problems: list[str] = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path, kind, expected = _path(list(error.absolute_path)), error.validator, error.validator_value
        instance = error.instance
        if kind == "required":
            problems += [f"{path}.{name}: missing" for name in expected if name not in instance]
        elif kind == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            problems += [f"{path}.{_safe_name(k)}: {_UNSUPPORTED.get(str(k), 'not part of a consentkit FHIR Consent')}"
                         for k in sorted(set(instance) - allowed, key=str)]
        elif kind == "const":
            problems.append(f"{path}: must be {expected}")
        elif kind == "enum":
            problems.append(f"{path}: must be one of {', '.join(map(str, expected))}")
        elif kind == "type":
            problems.append(f"{path}: expected {'an' if str(expected)[:1] in 'aeiou' else 'a'} {expected}")
        elif kind == "pattern":
            problems.append(f"{path}: not a valid {_pattern_name(str(expected))}")
        elif kind in ("minItems", "maxItems", "minLength", "maxLength"):
            problems.append(f"{path}: {kind} is {expected}")
        else:
            problems.append(f"{path}: invalid ({kind})")
    return list(dict.fromkeys(problems))


def _pattern_name(pattern: str) -> str:
    defs = schema()["$defs"]
    return next((name for name, d in defs.items() if d.get("pattern") == pattern), "value")


class _Reader:
    """Reads a schema-valid Consent into ``grant_consent`` arguments, collecting problems."""

    def __init__(self, vocabulary: Pack | None) -> None:
        self.vocabulary = vocabulary
        self.problems: list[str] = []

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path}: {text}")

    def read(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        if doc["status"] != "active":
            self.problem("$.status", f"only an active consent can be imported (this one is {doc['status']})")
        subject_id = self._subject(doc)
        provision = doc["provision"][0]
        scope = self._scope(provision, "$.provision[0]")
        refuse = doc["decision"] == "permit"
        inner = provision.get("provision")
        if inner:
            if refuse:
                self.problem("$.provision[0].provision", "nested exceptions under decision permit are not supported")
            elif self._scope(inner[0], "$.provision[0].provision[0]") != scope or any(
                    inner[0].get(k) != provision.get(k) for k in ("period", "action")):
                self.problem("$.provision[0].provision[0]", "a nested provision must repeat its parent's scope "
                             "(the refusal form); other nested exceptions are not supported")
            refuse = True
        self._action(provision)
        valid_from, valid_until = self._period(doc, provision)
        grantor, grantor_name = self._grantor(doc, subject_id)
        extensions = self._extensions(doc.get("extension", []))
        recipients, purposes, categories = scope
        return {
            "subject_id": subject_id, "recipients": sorted(recipients), "purposes": sorted(purposes),
            "categories": sorted(categories), "valid_from": valid_from, "valid_until": valid_until,
            "grantor": grantor, "grantor_name": grantor_name, "evidence_sha256": self._evidence(doc),
            "context": self._context(doc.get("verification", [])), "refuse": refuse, **extensions,
        }

    def _subject(self, doc: Mapping[str, Any]) -> str | None:
        subject = doc.get("subject")
        if subject is None:
            return None
        match = _PATIENT.fullmatch(str(subject.get("reference", "")))
        if match is None:
            self.problem("$.subject.reference", "expected Patient/<consentkit subject id (a UUID)>")
            return None
        return match.group(1)

    def _scope(self, provision: Mapping[str, Any], path: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        recipients = []
        for i, actor in enumerate(provision["actor"]):
            types = self._codes(actor["role"].get("coding", []), f"{path}.actor[{i}].role.coding", "recipient-type",
                                ignore=(_PARTICIPATION,))
            if len(types) != 1:
                self.problem(f"{path}.actor[{i}].role", f"give exactly one code of {CODE_SYSTEMS['recipient-type']}")
                continue
            ident = self._recipient_id(actor.get("reference"), f"{path}.actor[{i}].reference")
            recipients.append(f"{types[0]}:{ident}" if ident else types[0])
        purposes = self._codes(provision["purpose"], f"{path}.purpose", "purpose")
        categories = self._codes(provision["securityLabel"], f"{path}.securityLabel", "category", ignore=(_ACT_CODE,))
        if not categories:
            self.problem(f"{path}.securityLabel", f"give at least one code of {CODE_SYSTEMS['category']}")
        return frozenset(recipients), frozenset(purposes), frozenset(categories)

    def _codes(self, codings: Sequence[Mapping[str, Any]], path: str, kind: str,
               ignore: tuple[str, ...] = ()) -> list[str]:
        system, found = CODE_SYSTEMS[kind], []
        known = {"purpose": "purposes", "category": "categories", "recipient-type": "recipients"}[kind]
        for i, coding in enumerate(codings):
            if coding.get("system") in ignore:
                continue
            code = str(coding.get("code", ""))
            if coding.get("system") != system:
                self.problem(f"{path}[{i}].system", f"expected {system}")
            elif not _VOCAB_CODE.fullmatch(code):
                self.problem(f"{path}[{i}].code", f"not a consentkit {kind} code")
            elif self.vocabulary is not None and code not in getattr(self.vocabulary, known):
                self.problem(f"{path}[{i}].code", f"unknown {kind} {code} (not in pack {self.vocabulary.id})")
            else:
                found.append(code)
        return found

    def _recipient_id(self, reference: Mapping[str, Any] | None, path: str) -> str | None:
        if reference is None:
            return None
        ident = reference.get("identifier") or {}
        value = str(ident.get("value", ""))
        if set(reference) - {"identifier", "display"} or ident.get("system") != CODE_SYSTEMS["recipient"]:
            self.problem(path, f"name a recipient by identifier system {CODE_SYSTEMS['recipient']}")
        elif len(value) > 100 or any(ord(ch) < 32 or ch == ":" for ch in value):
            self.problem(f"{path}.identifier.value", "at most 100 printable characters, no colon")
        else:
            return value
        return None

    def _action(self, provision: Mapping[str, Any]) -> None:
        actions = provision.get("action")
        if actions is None:
            return  # no action element: the provision covers every action, disclosure included
        codes = {(c.get("system"), c.get("code")) for a in actions for c in a.get("coding", [])}
        if (_ACTION, "disclose") not in codes:
            self.problem("$.provision[0].action", "consentkit consents are about disclosure: include "
                         f"{_ACTION}#disclose (or leave action out)")

    def _period(self, doc: Mapping[str, Any], provision: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        period = doc.get("period")
        if "period" in provision and period is not None and provision["period"] != period:
            self.problem("$.provision[0].period", "must equal Consent.period (a different period is not supported)")
        period = period or provision.get("period") or {}
        start = self._instant(period.get("start"), "$.period.start")
        end = self._instant(period.get("end"), "$.period.end", end_of_day=True)
        return start, end

    def _instant(self, text: str | None, path: str, *, end_of_day: bool = False) -> datetime | None:
        """A FHIR date or dateTime; an end given as a date includes that day (FHIR Period.end)."""
        if text is None:
            return None
        try:
            return parse_instant(text, end_of_day=end_of_day)
        except InvalidInputError:
            self.problem(path, "give a full date (YYYY-MM-DD) or a date-time with offset")
            return None

    def _grantor(self, doc: Mapping[str, Any], subject_id: str | None) -> tuple[str, str | None]:
        grantors = doc.get("grantor") or []
        if not grantors:
            return "self", None
        grantor, path = grantors[0], "$.grantor[0]"
        patient = _PATIENT.fullmatch(str(grantor.get("reference", "")))
        if patient is not None:
            if subject_id is not None and patient.group(1) != subject_id:
                self.problem(f"{path}.reference", "a Patient grantor must be the subject (else use RelatedPerson)")
            return "self", None
        kinds = [e.get("valueCode") for e in grantor.get("extension", []) if e.get("url") == EXT_GRANTOR]
        related = grantor.get("type") == "RelatedPerson" \
            or str(grantor.get("reference", "")).startswith("RelatedPerson/")
        if not related or kinds not in (["guardian"], ["representative"]):
            self.problem(path, f"expected the subject (Patient/<id>) or a RelatedPerson with extension {EXT_GRANTOR} "
                         "guardian or representative")
            return "self", None
        return str(kinds[0]), grantor.get("display")

    def _extensions(self, extensions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"form": "electronic", "notice_version": None, "notice_language": None,
                               "irrevocable_until": None, "attest": [], "witness": None}
        for i, ext in enumerate(extensions):
            url, path = ext["url"], f"$.extension[{i}]"
            if url == EXT_FORM:
                if ext.get("valueCode") not in ("written", "electronic", "verbal"):
                    self.problem(f"{path}.valueCode", "must be written, electronic or verbal")
                out["form"] = ext.get("valueCode")
            elif url in (EXT_NOTICE_VERSION, EXT_NOTICE_LANGUAGE):
                key, value = ("notice_version", "valueString") if url == EXT_NOTICE_VERSION else \
                    ("notice_language", "valueCode")
                if value not in ext:
                    self.problem(path, f"expected {value}")
                out[key] = ext.get(value)
            elif url == EXT_IRREVOCABLE:
                out["irrevocable_until"] = self._instant(ext.get("valueDateTime", ""), f"{path}.valueDateTime",
                                                         end_of_day=True)
            elif url == EXT_ATTESTED:
                if not _VOCAB_CODE.fullmatch(str(ext.get("valueCode", ""))):
                    self.problem(f"{path}.valueCode", "expected an element id, e.g. signature")
                out["attest"].append(ext.get("valueCode"))
            elif url == EXT_WITNESS:
                witness = (ext.get("valueReference") or {}).get("display")
                if witness is None:
                    self.problem(f"{path}.valueReference.display", "missing (the witness)")
                out["witness"] = witness
            # Other extensions (ours: status, event history) do not change the consent's meaning.
        return out

    def _evidence(self, doc: Mapping[str, Any]) -> str | None:
        for attachment in doc.get("sourceAttachment", []):
            url = attachment.get("url", "")
            if url.startswith("ni:///sha-256;"):
                match = _NI_SHA256.fullmatch(url)
                try:
                    return base64.urlsafe_b64decode(match.group(1) + "=").hex() if match else None
                except (binascii.Error, ValueError):
                    pass
                self.problem("$.sourceAttachment[0].url", "not an RFC 6920 ni:///sha-256 URI")
        return None

    def _context(self, verifications: Sequence[Mapping[str, Any]]) -> CaptureContext:
        flags: dict[str, Any] = {}
        for i, entry in enumerate(verifications):
            codings = entry.get("verificationType", {}).get("coding", [])
            for j, coding in enumerate(codings):
                if coding.get("system") != CODE_SYSTEMS["capture-context"]:
                    continue
                if coding.get("code") not in _CONTEXT_CODES:
                    self.problem(f"$.verification[{i}].verificationType.coding[{j}].code",
                                 f"must be one of {', '.join(_CONTEXT_CODES)}")
                elif entry["verified"]:
                    language = next((c.get("code") for c in codings if c.get("system") == _BCP47), "und")
                    flags[coding["code"]] = language if coding["code"] == "interpreter" else True
        return CaptureContext(in_custody=bool(flags.get("in-custody")),
                              interpreter_language=flags.get("interpreter"),
                              capacity_assessed=bool(flags.get("capacity-assessed")))

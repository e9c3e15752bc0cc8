"""Use cases that take consents outside: signed receipts, and FHIR R5 export and import.

Permissions: issuing or verifying a receipt and exporting FHIR need ``subject.read``: a
receipt only states what the database holds (its signature cannot make a false statement
true), so the question is who may read the consent, and the DPO answering a subject-access
request may need to re-issue one. Importing needs ``consent.write`` (it records a consent
through :meth:`grant_consent`, so the pack's rules apply exactly as at the desk).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from consentkit.access import Permission
from consentkit.audit.events import AuditEvent, Outcome
from consentkit.clock import format_instant
from consentkit.consent import fhir, receipts
from consentkit.consent.model import ConsentGrant
from consentkit.consent.receipts import ReceiptCheck, ReceiptSource
from consentkit.consent.state import Status
from consentkit.errors import InvalidInputError, OperationRefusedError, ReceiptError
from consentkit.kit._consents import ConsentOps, ConsentView
from consentkit.kit._files import atomic_write
from consentkit.policy.model import Pack
from consentkit.reports.receipt import receipt_page, render_receipt
from consentkit.storage import Tx
from consentkit.types import check_subject_id

__all__ = ["InteropOps", "Receipt"]

RECEIPT_FILES = ("receipt.jwt", "receipt.html", "receipt.txt")


@dataclass(frozen=True)
class Receipt:
    """A signed receipt (compact JWT) and its human-readable HTML and text."""

    receipt_id: str
    consent_id: str
    kid: str
    language: str
    token: str
    html: str
    text: str
    files: tuple[Path, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Ids, key id, language, token and the files written."""
        return {"receipt_id": self.receipt_id, "consent_id": self.consent_id, "kid": self.kid,
                "language": self.language, "token": self.token, "files": [str(f) for f in self.files]}


class InteropOps(ConsentOps):
    """Receipts (Kantara CR v1.1 as an EdDSA JWT) and FHIR R5 Consent export/import."""

    # -- receipts ------------------------------------------------------------------------

    def consent_receipt(self, consent_id: str, *, out_dir: Path | None = None) -> Receipt:
        """Issue a signed receipt in the subject's language; with ``out_dir`` also write
        ``receipt.jwt``, ``receipt.html`` and ``receipt.txt`` there (each atomically)."""
        now = self.clock.now()
        if out_dir is not None and not out_dir.is_dir():
            raise InvalidInputError(f"--out: the folder {out_dir} does not exist")
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            stored, subject = self._consent(tx, consent_id)
            view = self._views(tx, subject, [stored], now, decrypt=True)[0]
            grant = view.grant
            if grant.valid_until is not None and grant.valid_until <= now:
                raise OperationRefusedError(f"this consent expired on {grant.valid_until.date().isoformat()}; "
                                            "a receipt for it would not verify")
            pack = self.packs.get(subject.jurisdiction)
            signer = self.keys.signer
            receipt_id = str(uuid.uuid4())
            source = ReceiptSource(grant, view.state, pack, subject.language)
            token = receipts.issue_receipt(source, signer, now, receipt_id=receipt_id)
            claims = receipts.verify_receipt(token, {signer.kid: signer.public_key}, signer.name, now)
            html, text = self._render(claims, signer.kid, pack, grant.grantor_name)
            self._audit(tx, AuditEvent("consent.receipt-issued", subject.subject_id, f"consent:{consent_id}",
                                       details={"receipt_id": receipt_id, "kid": signer.kid,
                                                "status": view.state.status.value, "language": subject.language}))
            files: tuple[Path, ...] = ()
            if out_dir is not None:
                # Written inside the transaction: a failed write rolls the audit event back.
                files = tuple(out_dir / name for name in RECEIPT_FILES)
                for path, content in zip(files, (token + "\n", html, text), strict=True):
                    atomic_write(path, [content])
        return Receipt(receipt_id, consent_id, signer.kid, str(claims["language"]), token, html, text, files)

    def verify_receipt(self, token: str) -> ReceiptCheck:
        """Check a receipt's signature with this installation's keys (old ones too) and read
        the consent's current status: ``check.summary`` says e.g. "valid, but withdrawn on DATE".

        Raises :class:`ReceiptError` (exit code 4) if it does not verify; the rejection is audited.
        """
        now = self.clock.now()
        keys = {s.kid: s.public_key for s in self.keys.signers}
        try:
            claims = receipts.verify_receipt(token, keys, self.keys.origin, now)
        except ReceiptError as error:
            with self.store.write() as tx:
                self._require(tx, Permission.SUBJECT_READ)
                self._audit(tx, AuditEvent("consent.receipt-rejected", outcome=Outcome.REFUSED,
                                           details={"reason": str(error)}))
            raise
        check = receipts.check_of(claims, receipts.token_kid(token))
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            check = self._current(tx, check, claims, now)
            self._audit(tx, AuditEvent("consent.receipt-verified", check.subject_id, f"consent:{check.consent_id}",
                                       details={"receipt_id": check.receipt_id, "kid": check.kid,
                                                "status": check.status}))
        return check

    def _current(self, tx: Tx, check: ReceiptCheck, claims: Mapping[str, Any], now: datetime) -> ReceiptCheck:
        stored = tx.consents.get(check.consent_id)
        subject = tx.subjects.get(check_subject_id(check.subject_id))
        if stored is None or subject is None or stored.grant.subject_id != check.subject_id \
                or not _matches(stored.grant, claims):
            # Signed by this installation but not what its database holds: the record was altered.
            raise ReceiptError("receipt does not verify (it does not match the consent record)")
        if subject.erased_at:
            return replace(check, status="erased", status_since=datetime.fromisoformat(subject.erased_at))
        pack = self.packs.get(subject.jurisdiction)
        events = [e for e, _ in tx.consents.events([check.consent_id])[check.consent_id]]
        state = self._state(stored.grant, events, now, self._birth_date(subject, self._data_key(subject)), pack)
        since = state.since if state.status is not Status.NOT_YET_VALID else stored.grant.valid_from
        return replace(check, status=state.status.value, status_since=since)

    def _render(self, claims: Mapping[str, Any], kid: str, pack: Pack, grantor_name: str | None) -> tuple[str, str]:
        cited = pack.consent.withdrawal_cited
        page = receipt_page(claims, kid=kid, withdrawal_form=pack.consent.withdrawal_form,
                            withdrawal_citation=cited.citation if cited else None, grantor_name=grantor_name)
        folder = self.settings.templates_dir if self.settings is not None else None
        return render_receipt(page, "html", templates_dir=folder), render_receipt(page, "text", templates_dir=folder)

    # -- FHIR R5 -------------------------------------------------------------------------

    def export_consent_fhir(self, consent_id: str) -> dict[str, Any]:
        """The consent as a FHIR R5 ``Consent`` resource (no names; subject as Patient/<uuid>)."""
        now = self.clock.now()
        with self.store.write() as tx:
            self._require(tx, Permission.SUBJECT_READ)
            stored, subject = self._consent(tx, consent_id)
            view = self._views(tx, subject, [stored], now, decrypt=False)[0]
            doc = fhir.to_fhir_r5(view.grant, view.events, view.state, self.packs.get(subject.jurisdiction),
                                  organisation=self.keys.origin)
            self._audit(tx, AuditEvent("consent.exported", subject.subject_id, f"consent:{consent_id}",
                                       details={"format": "fhir-r5", "status": view.state.status.value}))
        return doc

    def import_consent_fhir(self, doc: Mapping[str, Any], *, subject_id: str | None = None) -> ConsentView:
        """Record the consent a FHIR R5 ``Consent`` describes, through :meth:`grant_consent`.

        The subject is ``subject.reference`` (``Patient/<uuid>``) or ``subject_id``; both given
        must agree. Every problem is listed with its JSON path; nothing is written unless all pass.
        """
        named = fhir.subject_of(doc)
        if named is not None and subject_id is not None and named != check_subject_id(subject_id):
            raise InvalidInputError("--subject differs from the document's subject.reference")
        chosen = subject_id or named
        pack = None
        if chosen is not None:
            with self.store.read() as tx:
                self._require(tx, Permission.CONSENT_WRITE)
                pack = self.packs.get(self._subject(tx, chosen).jurisdiction)
        kwargs = fhir.from_fhir_r5(doc, vocabulary=pack)
        kwargs.pop("subject_id")
        if chosen is None:
            raise InvalidInputError("subject: the document has no subject.reference; give --subject ID")
        return self.grant_consent(chosen, **kwargs)


def _matches(grant: ConsentGrant, claims: Mapping[str, Any]) -> bool:
    ck = claims["ck"]
    scope = ck.get("scope") or {}
    return (ck.get("effect") == grant.effect.value
            and sorted(scope.get("recipients", [])) == sorted(str(r) for r in grant.scope.recipients)
            and sorted(scope.get("purposes", [])) == sorted(grant.scope.purposes)
            and sorted(scope.get("categories", [])) == sorted(grant.scope.categories)
            and ck.get("valid_from") == format_instant(grant.valid_from)
            and ck.get("valid_until") == (format_instant(grant.valid_until) if grant.valid_until else None))


"""A policy pack as frozen values, built from validated and merged pack data."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Cited",
    "ConsentPolicy",
    "ConsentRule",
    "NeverByConsent",
    "Obligation",
    "Override",
    "Pack",
    "Retention",
    "SubjectAccessDeadline",
    "split_ref",
]

Texts = Mapping[str, str]


@dataclass(frozen=True)
class Cited:
    """Where a rule comes from, and whether the citation was checked against the source."""

    citation: str
    verified: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Cited:
        """Read ``citation`` and ``verified`` from a rule's data."""
        return cls(str(data["citation"]), bool(data["verified"]))


def _set(data: Mapping[str, Any], key: str) -> frozenset[str]:
    return frozenset(data.get(key) or ())


@dataclass(frozen=True)
class ConsentRule:
    """A conditional consent requirement (e.g. written form for health data in Russia)."""

    id: str
    categories: frozenset[str]
    purposes: frozenset[str]
    recipients: frozenset[str]
    age_below: int | None
    forms: frozenset[str] | None
    grantors: frozenset[str] | None
    elements: frozenset[str]
    cited: Cited
    text: Texts

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ConsentRule:
        """Build from pack data."""
        when = data["when"]
        return cls(
            id=data["id"], categories=_set(when, "categories"), purposes=_set(when, "purposes"),
            recipients=_set(when, "recipients"), age_below=when.get("age_below"),
            forms=frozenset(data["forms"]) if "forms" in data else None,
            grantors=frozenset(data["grantors"]) if "grantors" in data else None,
            elements=_set(data, "elements"), cited=Cited.of(data), text=data.get("text", {}),
        )

    def applies(self, categories: AbstractSet[str], purposes: AbstractSet[str], recipients: AbstractSet[str],
                age: int | None) -> bool:
        """Whether the rule's conditions hold for a consent with this scope and subject age."""
        if self.categories and not self.categories & categories:
            return False
        if self.purposes and not self.purposes & purposes:
            return False
        if self.recipients and not self.recipients & recipients:
            return False
        return not (self.age_below is not None and (age is None or age >= self.age_below))


@dataclass(frozen=True)
class ConsentPolicy:
    """What a valid consent needs in this jurisdiction."""

    forms: frozenset[str]
    forms_cited: Cited
    required_elements: tuple[tuple[str, Cited], ...]
    self_consent_age: int | None
    self_consent_cited: Cited | None
    guardian_grantors: frozenset[str]
    at_self_consent_age: str
    guardian_cited: Cited | None
    rules: tuple[ConsentRule, ...]
    withdrawal_form: str
    withdrawal_cited: Cited | None
    irrevocable_allowed: bool
    irrevocable_cited: Cited | None
    max_validity_days: int | None
    #: Recipient types an irrevocable consent may name (``None``: any the pack allows).
    irrevocable_recipients: frozenset[str] | None = None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ConsentPolicy:
        """Build from the merged ``consent`` section."""
        forms = data.get("forms", {"allowed": ["written", "electronic", "verbal"], "citation": "(none)",
                                   "verified": False})
        age = data.get("self_consent_age")
        guardian = data.get("guardian")
        withdrawal = data.get("withdrawal")
        irrevocable = data.get("irrevocable")
        validity = data.get("max_validity_days")
        return cls(
            forms=frozenset(forms["allowed"]), forms_cited=Cited.of(forms),
            required_elements=tuple((e["id"], Cited.of(e)) for e in data.get("required_elements", ())),
            self_consent_age=age["age"] if age else None, self_consent_cited=Cited.of(age) if age else None,
            guardian_grantors=frozenset(guardian["grantors"]) if guardian else frozenset(),
            at_self_consent_age=guardian["at_self_consent_age"] if guardian else "reaffirm",
            guardian_cited=Cited.of(guardian) if guardian else None,
            rules=tuple(ConsentRule.of(r) for r in data.get("rules", ())),
            withdrawal_form=withdrawal["form"] if withdrawal else "any",
            withdrawal_cited=Cited.of(withdrawal) if withdrawal else None,
            irrevocable_allowed=bool(irrevocable and irrevocable["allowed"]),
            irrevocable_cited=Cited.of(irrevocable) if irrevocable else None,
            irrevocable_recipients=frozenset(irrevocable["recipients"])
            if irrevocable and "recipients" in irrevocable else None,
            max_validity_days=validity["days"] if validity else None,
        )


@dataclass(frozen=True)
class Override:
    """A statutory basis for disclosure without consent."""

    id: str
    title: Texts
    cited: Cited
    mandatory: bool
    recipients: frozenset[str]
    purposes: frozenset[str]
    minimum_categories: frozenset[str]
    required_fields: frozenset[str]
    roles: frozenset[str]
    notify_subject: str
    notify_days: int | None
    notify_dpo: bool
    break_glass_hours: int | None
    review: bool
    subject_access: str

    @classmethod
    def of(cls, override_id: str, data: Mapping[str, Any]) -> Override:
        """Build from pack data; a justification is always required."""
        notify = data["notify_subject"]
        glass = data.get("break_glass")
        return cls(
            id=override_id, title=data["title"], cited=Cited.of(data), mandatory=bool(data["mandatory"]),
            recipients=frozenset(data["recipients"]), purposes=frozenset(data["purposes"]),
            minimum_categories=frozenset(data["minimum_categories"]),
            required_fields=frozenset(data.get("required_fields", ())) | {"justification"},
            roles=frozenset(data["roles"]), notify_subject=notify["rule"], notify_days=notify.get("days"),
            notify_dpo=bool(data["notify_dpo"]), break_glass_hours=glass["hours"] if glass else None,
            review=bool(data.get("review", False)) or glass is not None,
            subject_access=data.get("subject_access", "show"),
        )


@dataclass(frozen=True)
class NeverByConsent:
    """Recipients (for some or all purposes) that consent alone can never authorise."""

    id: str
    recipients: frozenset[str]
    purposes: frozenset[str]
    cited: Cited
    text: Texts

    def matches(self, recipient: str, purpose: str) -> bool:
        """Whether a request to ``recipient`` for ``purpose`` falls under this rule."""
        return recipient in self.recipients and (not self.purposes or purpose in self.purposes)


@dataclass(frozen=True)
class Obligation:
    """Something the discloser must do with a permitted disclosure."""

    id: str
    basis: str
    kind: str
    recipients: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    text: Texts
    cited: Cited

    def applies(self, basis: str, recipient: str, purpose: str, categories: AbstractSet[str]) -> bool:
        """Whether this obligation attaches to a disclosure of this kind."""
        if self.basis not in ("any", basis):
            return False
        if self.recipients and recipient not in self.recipients:
            return False
        if self.purposes and purpose not in self.purposes:
            return False
        return not (self.categories and not self.categories & categories)


@dataclass(frozen=True)
class SubjectAccessDeadline:
    """How long a controller has to answer a subject-access request."""

    amount: int
    unit: str
    extension_amount: int | None
    extension_unit: str | None
    cited: Cited


@dataclass(frozen=True)
class Retention:
    """A retention rule."""

    id: str
    categories: frozenset[str]
    years: int | None
    days: int | None
    start: str
    text: Texts
    cited: Cited


@dataclass(frozen=True)
class Pack:
    """A merged, validated policy pack."""

    id: str
    version: str
    name: str
    chain: tuple[str, ...]
    content_hash: str
    languages: tuple[str, ...]
    national_id_types: tuple[str, ...]
    purposes: frozenset[str]
    categories: frozenset[str]
    recipients: frozenset[str]
    consent: ConsentPolicy
    overrides: Mapping[str, Override]
    never_by_consent: tuple[NeverByConsent, ...]
    obligations: tuple[Obligation, ...]
    subject_access: SubjectAccessDeadline | None
    breach_hours: int | None
    retention: tuple[Retention, ...]
    supervisory_authority: Mapping[str, str]
    dpo_contact: Mapping[str, str]
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def ref(self) -> str:
        """``id@version`` for decisions and audit details."""
        return f"{self.id}@{self.version}"

    @classmethod
    def of(cls, data: Mapping[str, Any], chain: tuple[str, ...], content_hash: str) -> Pack:
        """Build from merged pack data."""
        vocab = data.get("vocabulary", {})
        deadlines = data.get("deadlines", {})
        sar = deadlines.get("subject_access")
        extension = sar.get("extension") if sar else None
        return cls(
            id=data["id"], version=str(data["version"]), name=data["name"], chain=chain,
            content_hash=content_hash, languages=tuple(data.get("languages", ("en",))),
            national_id_types=tuple(data.get("national_id_types", ())),
            purposes=_set(vocab, "purposes"), categories=_set(vocab, "categories"),
            recipients=_set(vocab, "recipients"), consent=ConsentPolicy.of(data.get("consent", {})),
            overrides={k: Override.of(k, v) for k, v in data.get("overrides", {}).items()},
            never_by_consent=tuple(
                NeverByConsent(n["id"], frozenset(n["recipients"]), _set(n, "purposes"), Cited.of(n),
                               n.get("text", {})) for n in data.get("never_by_consent", ())),
            obligations=tuple(
                Obligation(o["id"], o["basis"], o["kind"], _set(o, "recipients"), _set(o, "purposes"),
                           _set(o, "categories"), o["text"], Cited.of(o)) for o in data.get("obligations", ())),
            subject_access=SubjectAccessDeadline(
                sar["amount"], sar["unit"], extension["amount"] if extension else None,
                extension["unit"] if extension else None, Cited.of(sar)) if sar else None,
            breach_hours=deadlines["breach"]["hours"] if "breach" in deadlines else None,
            retention=tuple(
                Retention(r["id"], _set(r, "categories"), r.get("period", {}).get("years"),
                          r.get("period", {}).get("days"), r["from"], r["text"], Cited.of(r))
                for r in data.get("retention", ())),
            supervisory_authority=data.get("supervisory_authority", {}),
            dpo_contact=data.get("dpo_contact", {}),
            data=data,
        )


def split_ref(ref: str) -> tuple[str, str]:
    """``(id, version)`` of a pack ref as :attr:`Pack.ref` writes it (``se@2026.11``)."""
    pack_id, _, version = ref.partition("@")
    return pack_id, version


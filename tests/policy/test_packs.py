"""The shipped policy packs: they load, they carry the overrides DESIGN.md requires, every id they
use is in their vocabulary, every rule is cited, and spot facts match shared/reference/legal-rules.md."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from consentkit.config import shipped_dir
from consentkit.policy import Pack, PackLibrary

PACKS = ("eu-gdpr", "gr", "se", "ru", "kz", "us-42cfr2")
REQUIRED_OVERRIDES = {
    "se": {"child-welfare-report", "crime-against-child", "serious-crime", "vital-interests",
           "health-social-exchange"},
    "gr": {"child-abuse-report", "crime-report", "vital-interests"},
    "ru": {"investigator-request", "court-order", "police-notice", "child-at-risk"},
    "kz": {"investigator-request", "court-order", "dangerous-disease"},
    "us-42cfr2": {"medical-emergency", "child-abuse-report", "court-order"},
}
SHARED = {
    "purposes": {"treatment", "referral", "care-coordination", "family-support", "child-protection",
                 "crime-prevention", "law-enforcement", "legal-proceedings", "emergency-care", "research",
                 "statistics", "service-evaluation"},
    "categories": {"identity", "contact", "substance-use", "health", "mental-health", "criminal-justice",
                   "family", "housing-employment", "case-notes"},
    "recipients": {"treatment-provider", "healthcare", "social-services", "child-protection-unit", "police",
                   "prosecutor", "court", "family-member", "guardian", "researcher", "supervisory-authority",
                   "other-agency"},
}
NATIONAL_IDS = {"gr": ("GR_AMKA", "GR_AFM"), "se": ("SE_PERSONNUMMER",),
                "ru": ("RU_SNILS", "RU_INN", "RU_PASSPORT", "RU_OMS"), "kz": ("KZ_IIN",), "us-42cfr2": ()}
STATEMENT_1_OPENING = ("This record which has been disclosed to you is protected by Federal confidentiality "
                       "rules (42 CFR part 2).")


@pytest.fixture(scope="module")
def library() -> PackLibrary:
    return PackLibrary([shipped_dir("policies")])


def _pack(library: PackLibrary, pack_id: str) -> Pack:
    return library.get(pack_id)


def _cited_rules(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping in the merged pack data that carries a ``verified`` flag, with its path."""
    if isinstance(node, Mapping):
        if "verified" in node:
            yield path, node
        for key, value in node.items():
            yield from _cited_rules(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _cited_rules(item, f"{path}[{index}]")


def _flags(pack: Pack) -> list[bool]:
    return [rule["verified"] for _, rule in _cited_rules(pack.data)]


# --- every pack ------------------------------------------------------------------------------------


def test_every_pack_is_shipped(library: PackLibrary) -> None:
    assert set(PACKS) <= set(library.ids())


@pytest.mark.parametrize("pack_id", PACKS)
def test_pack_loads_with_its_own_id(library: PackLibrary, pack_id: str) -> None:
    pack = _pack(library, pack_id)
    assert pack.id == pack_id
    assert pack.content_hash.startswith("sha256:") and len(pack.content_hash) == 7 + 64
    assert pack.ref == f"{pack_id}@{pack.version}"


@pytest.mark.parametrize(("pack_id", "chain"), [("gr", ("gr", "eu-gdpr")), ("se", ("se", "eu-gdpr")),
                                                ("ru", ("ru",)), ("kz", ("kz",)), ("us-42cfr2", ("us-42cfr2",))])
def test_extends_chain(library: PackLibrary, pack_id: str, chain: tuple[str, ...]) -> None:
    assert _pack(library, pack_id).chain == chain


@pytest.mark.parametrize(("pack_id", "required"), sorted(REQUIRED_OVERRIDES.items()))
def test_required_overrides_are_present(library: PackLibrary, pack_id: str, required: set[str]) -> None:
    missing = required - set(_pack(library, pack_id).overrides)
    assert not missing, f"{pack_id} lacks overrides {sorted(missing)}"


@pytest.mark.parametrize("pack_id", PACKS)
def test_pack_has_the_shared_vocabulary(library: PackLibrary, pack_id: str) -> None:
    pack = _pack(library, pack_id)
    assert SHARED["purposes"] <= pack.purposes
    assert SHARED["categories"] <= pack.categories
    assert SHARED["recipients"] <= pack.recipients


@pytest.mark.parametrize("pack_id", ["ru", "kz", "us-42cfr2"])
def test_standalone_packs_list_the_vocabulary_themselves(library: PackLibrary, pack_id: str) -> None:
    source = library.source(pack_id)
    assert "extends" not in source.data
    vocabulary = source.data["vocabulary"]
    for kind, ids in SHARED.items():
        assert ids <= set(vocabulary[kind]), kind


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_id_a_rule_uses_is_in_the_vocabulary(library: PackLibrary, pack_id: str) -> None:
    pack = _pack(library, pack_id)
    for override in pack.overrides.values():
        assert override.recipients <= pack.recipients, override.id
        assert override.purposes <= pack.purposes, override.id
        assert override.minimum_categories <= pack.categories, override.id
    for never in pack.never_by_consent:
        assert never.recipients <= pack.recipients and never.purposes <= pack.purposes, never.id
    for obligation in pack.obligations:
        assert obligation.recipients <= pack.recipients, obligation.id
        assert obligation.purposes <= pack.purposes, obligation.id
        assert obligation.categories <= pack.categories, obligation.id
    for rule in pack.consent.rules:
        assert rule.categories <= pack.categories and rule.purposes <= pack.purposes, rule.id
        assert rule.recipients <= pack.recipients, rule.id
    for retention in pack.retention:
        assert retention.categories <= pack.categories, retention.id


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_rule_has_a_citation(library: PackLibrary, pack_id: str) -> None:
    pack = _pack(library, pack_id)
    rules = list(_cited_rules(pack.data))
    assert len(rules) >= 10
    for path, rule in rules:
        assert isinstance(rule["verified"], bool), path
        assert str(rule.get("citation", "")).strip(), f"{pack_id}: {path} has no citation"
    for override in pack.overrides.values():
        assert override.cited.citation.strip()
        assert override.title["en"].strip()


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_override_is_accountable(library: PackLibrary, pack_id: str) -> None:
    for override in _pack(library, pack_id).overrides.values():
        assert "justification" in override.required_fields, override.id
        assert override.notify_dpo, override.id
        assert override.review, override.id
        assert override.roles <= {"caseworker", "supervisor", "dpo", "admin"}, override.id
        if override.notify_subject == "within-days":
            assert override.notify_days is not None, override.id
        if override.break_glass_hours is not None:
            assert "emergency-care" in override.purposes, f"{override.id}: break-glass outside an emergency"


@pytest.mark.parametrize(("pack_id", "ids"), sorted(NATIONAL_IDS.items()))
def test_national_id_types(library: PackLibrary, pack_id: str, ids: tuple[str, ...]) -> None:
    assert _pack(library, pack_id).national_id_types == ids


@pytest.mark.parametrize(("pack_id", "language"), [("gr", "el"), ("se", "sv"), ("ru", "ru"), ("kz", "kk"),
                                                   ("us-42cfr2", "en")])
def test_languages(library: PackLibrary, pack_id: str, language: str) -> None:
    pack = _pack(library, pack_id)
    assert language in pack.languages and "en" in pack.languages


# --- honesty: verified only where the reference says so ------------------------------------------------


@pytest.mark.parametrize("pack_id", ["gr", "se", "ru", "kz", "us-42cfr2"])
def test_packs_mark_unverified_rules(library: PackLibrary, pack_id: str) -> None:
    flags = _flags(_pack(library, pack_id))
    assert flags.count(False) > 0, f"{pack_id}: the reference lists unverified items for this pack"
    assert flags.count(True) > 0, f"{pack_id}: the reference verifies some rules for this pack"


def test_sweden_marks_every_sol_citation_unverified(library: PackLibrary) -> None:
    pack = _pack(library, "se")
    sol = [(path, rule) for path, rule in _cited_rules(pack.data) if "SoL (2001:453)" in rule["citation"]]
    assert len(sol) >= 4
    for path, rule in sol:
        assert rule["verified"] is False, path
        assert "2025:400" in rule["citation"] + rule.get("note", ""), path
    assert pack.data["overrides"]["child-welfare-report"]["verified"] is False


def test_sweden_has_more_unverified_than_the_base(library: PackLibrary) -> None:
    assert _flags(_pack(library, "se")).count(False) > _flags(_pack(library, "eu-gdpr")).count(False)


# --- spot checks against the reference ---------------------------------------------------------------


def test_subject_access_deadlines(library: PackLibrary) -> None:
    eu = _pack(library, "eu-gdpr").subject_access
    assert eu is not None
    assert (eu.amount, eu.unit, eu.extension_amount, eu.extension_unit) == (1, "months", 2, "months")
    ru = _pack(library, "ru").subject_access
    assert ru is not None
    assert (ru.amount, ru.unit, ru.extension_amount, ru.extension_unit) == (10, "working_days", 5, "working_days")
    assert ru.cited.verified
    kz = _pack(library, "kz").subject_access
    assert kz is not None
    assert (kz.amount, kz.unit) == (3, "working_days")
    assert kz.cited.verified is False
    for pack_id in ("gr", "se"):
        inherited = _pack(library, pack_id).subject_access
        assert inherited is not None and (inherited.amount, inherited.unit) == (1, "months")


@pytest.mark.parametrize(("pack_id", "hours"), [("eu-gdpr", 72), ("gr", 72), ("se", 72), ("ru", 24), ("kz", 24),
                                                ("us-42cfr2", 60 * 24)])
def test_breach_hours(library: PackLibrary, pack_id: str, hours: int) -> None:
    assert _pack(library, pack_id).breach_hours == hours


def test_greece_self_consent_from_15_and_guardian_for_arrested_minors(library: PackLibrary) -> None:
    consent = _pack(library, "gr").consent
    assert consent.self_consent_age == 15
    assert consent.self_consent_cited is not None and consent.self_consent_cited.verified
    assert "4624/2019 art. 21" in consent.self_consent_cited.citation
    okana = next(rule for rule in consent.rules if rule.id == "okana-minor-guardian")
    scope = (frozenset({"criminal-justice", "identity"}), frozenset({"referral"}), frozenset({"treatment-provider"}))
    assert okana.applies(*scope, 16)
    assert not okana.applies(*scope, 19)
    assert okana.grantors is not None and "self" not in okana.grantors


def test_greece_inherits_the_gdpr_base(library: PackLibrary) -> None:
    gr = _pack(library, "gr")
    eu = _pack(library, "eu-gdpr")
    assert gr.overrides["vital-interests"] == eu.overrides["vital-interests"]
    assert {o.id for o in eu.obligations} <= {o.id for o in gr.obligations}
    assert gr.overrides["crime-report"].mandatory
    assert gr.overrides["crime-report"].cited.verified


def test_russia_written_consent_for_health_and_substance_use(library: PackLibrary) -> None:
    consent = _pack(library, "ru").consent
    assert "verbal" in consent.forms  # ordinary data: any provable form (art. 9(1))
    written = next(rule for rule in consent.rules if rule.id == "written-special-categories")
    for category in ("health", "substance-use"):
        assert written.applies(frozenset({category}), frozenset({"referral"}), frozenset({"social-services"}), 30)
    assert not written.applies(frozenset({"contact"}), frozenset({"referral"}), frozenset({"social-services"}), 30)
    assert written.forms == frozenset({"written", "electronic"})
    assert {"identity-document", "operator", "actions", "withdrawal-method", "signature"} <= written.elements


def test_russia_guardian_for_substance_use_under_18(library: PackLibrary) -> None:
    consent = _pack(library, "ru").consent
    rule = next(rule for rule in consent.rules if rule.id == "narcological-minor-guardian")
    scope = (frozenset({"substance-use"}), frozenset({"treatment"}), frozenset({"treatment-provider"}))
    assert rule.applies(*scope, 17)
    assert not rule.applies(*scope, 18)
    assert not rule.applies(frozenset({"contact"}), scope[1], scope[2], 17)
    assert rule.grantors == frozenset({"guardian", "representative"})
    assert rule.cited.verified
    assert consent.self_consent_age == 15 and not consent.irrevocable_allowed


def test_russia_subject_access_contents_has_the_eleven_items(library: PackLibrary) -> None:
    contents = _pack(library, "ru").data["subject_access_contents"]
    assert len(contents["items"]) == 11
    assert "14(7)" in contents["citation"]


def test_russia_police_notice_and_investigators(library: PackLibrary) -> None:
    ru = _pack(library, "ru")
    assert ru.overrides["police-notice"].recipients == frozenset({"police"})
    assert ru.overrides["police-notice"].cited.verified
    investigator = ru.overrides["investigator-request"]
    assert {"reference", "approver"} <= investigator.required_fields
    assert investigator.subject_access == "restricted"
    assert ru.overrides["child-at-risk"].cited.verified is False


def test_kazakhstan_consent(library: PackLibrary) -> None:
    consent = _pack(library, "kz").consent
    assert consent.irrevocable_allowed
    assert consent.irrevocable_cited is not None and "8(2)" in consent.irrevocable_cited.citation
    elements = {element for element, _ in consent.required_elements}
    assert {"operator", "validity", "third-party-transfer", "cross-border", "public-dissemination",
            "categories"} <= elements


def test_us_consent_is_written_and_revoked_in_writing(library: PackLibrary) -> None:
    consent = _pack(library, "us-42cfr2").consent
    assert "verbal" not in consent.forms
    assert consent.withdrawal_form == "written"
    assert consent.irrevocable_allowed  # § 2.35 criminal-justice referrals only
    elements = {element for element, _ in consent.required_elements}
    assert {"grantor", "authorised-discloser", "categories", "recipients", "purposes", "withdrawal-method",
            "validity", "signature", "signature-date", "redisclosure-statement",
            "refusal-consequences"} <= elements


def test_us_police_law_enforcement_is_never_by_consent(library: PackLibrary) -> None:
    pack = _pack(library, "us-42cfr2")
    assert any(rule.matches("police", "law-enforcement") for rule in pack.never_by_consent)
    assert not any(rule.matches("healthcare", "treatment") for rule in pack.never_by_consent)
    assert not any(rule.matches("court", "legal-proceedings") for rule in pack.never_by_consent)
    court = pack.overrides["court-order"]
    assert "police" in court.recipients and {"reference", "approver"} <= court.required_fields


def test_us_redisclosure_notice_and_copy_of_consent(library: PackLibrary) -> None:
    pack = _pack(library, "us-42cfr2")
    obligations = {o.id: o for o in pack.obligations}
    notice = obligations["redisclosure-notice"]
    assert notice.kind == "attach-notice"
    assert " ".join(notice.text["en"].split()).startswith(STATEMENT_1_OPENING)
    assert "UNVERIFIED" in notice.text["en"] and notice.cited.verified is False
    scope = ("treatment-provider", "treatment", frozenset({"substance-use"}))
    assert notice.applies("consent", *scope) and not notice.applies("override", *scope)
    copy = obligations["copy-of-consent"]
    assert copy.kind == "attach-consent" and copy.applies("consent", *scope) and copy.cited.verified


def test_us_medical_emergency_is_break_glass_with_the_251_record(library: PackLibrary) -> None:
    pack = _pack(library, "us-42cfr2")
    emergency = pack.overrides["medical-emergency"]
    assert emergency.break_glass_hours is not None and emergency.review
    assert {"justification", "reference"} <= emergency.required_fields
    assert emergency.purposes == frozenset({"emergency-care"})
    record = pack.data["overrides"]["medical-emergency"]["record"]
    assert {"recipient-name-and-affiliation", "discloser-name", "date-and-time", "nature-of-emergency"} <= set(record)
    assert any(o.id == "medical-emergency-record" and o.applies("override", "healthcare", "emergency-care",
                                                                 frozenset({"health"}))
               for o in pack.obligations)


def test_us_child_abuse_report_is_the_initial_report_only(library: PackLibrary) -> None:
    report = _pack(library, "us-42cfr2").overrides["child-abuse-report"]
    assert report.mandatory
    assert not report.minimum_categories & {"substance-use", "health", "mental-health", "case-notes"}


def test_sweden_child_welfare_report(library: PackLibrary) -> None:
    se = _pack(library, "se")
    report = se.overrides["child-welfare-report"]
    assert report.mandatory
    assert report.notify_subject == "unless-endangers-child"
    assert report.subject_access == "restricted"
    assert "child-protection-unit" in report.recipients and "child-protection" in report.purposes
    assert not se.overrides["crime-against-child"].mandatory
    assert se.overrides["crime-against-child"].cited.verified
    exchange = se.overrides["health-social-exchange"]
    assert "substance-use" in exchange.minimum_categories and exchange.cited.citation.startswith("OSL 26 kap. 9")


def test_sweden_guardian_consent_lapses_and_sip_is_care_coordination(library: PackLibrary) -> None:
    se = _pack(library, "se")
    assert se.consent.at_self_consent_age == "lapse"
    assert se.purposes == SHARED["purposes"]  # SIP is care-coordination with healthcare, no extra purpose
    sip = next(o for o in se.obligations if o.id == "sip-plan")
    assert sip.applies("consent", "healthcare", "care-coordination", frozenset({"health"}))
    assert not sip.applies("consent", "police", "care-coordination", frozenset({"health"}))


def test_sweden_retention(library: PackLibrary) -> None:
    rules = {r.id: r for r in _pack(library, "se").retention}
    assert (rules["social-file-gallring"].years, rules["social-file-gallring"].start) == (5, "last-entry")
    assert (rules["child-file-30-years"].years, rules["child-file-30-years"].start) == (30, "birth")


# --- the content hash ---------------------------------------------------------------------------------


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(Path(str(shipped_dir("policies"))), folder)
    return folder


@pytest.mark.parametrize("pack_id", PACKS)
def test_content_hash_is_stable(library: PackLibrary, copied: Path, pack_id: str) -> None:
    again = PackLibrary([shipped_dir("policies")]).get(pack_id)
    assert again.content_hash == _pack(library, pack_id).content_hash
    assert PackLibrary([copied]).get(pack_id).content_hash == again.content_hash


def test_content_hash_changes_when_a_field_changes(library: PackLibrary, copied: Path) -> None:
    path = copied / "se.yaml"
    text = path.read_text("utf-8")
    assert text.count("hours: 72") == 1
    path.write_text(text.replace("hours: 72", "hours: 48"), "utf-8")
    changed = PackLibrary([copied]).get("se")
    assert changed.breach_hours == 48
    assert changed.content_hash != _pack(library, "se").content_hash


def test_content_hash_follows_the_parent(library: PackLibrary, copied: Path) -> None:
    path = copied / "eu-gdpr.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["overrides"]["vital-interests"]["title"]["en"] += " (edited)"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    fresh = PackLibrary([copied])
    assert fresh.get("gr").overrides["vital-interests"].title["en"].endswith("(edited)")
    assert fresh.get("gr").content_hash != _pack(library, "gr").content_hash
    assert fresh.get("ru").content_hash == _pack(library, "ru").content_hash  # ru does not extend the base

"""The shortcuts of the decision hot path give exactly what the plain code gives.

decide() folds a consent's status without building its state and memoises grantor
validity per pack; storage builds grants and the kit copies decisions without running the
frozen ``__init__``; batches mint disclosure ids themselves and skip the UUID round trip for
canonical subject ids; a check reads only the birth date out of the sealed personal data;
the audit append restores the head's compact range without re-checking each peak and MACs
it with the one-shot HMAC. Each is checked here against the code it stands in for.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentkit.audit.merkle import CompactRange
from consentkit.config import shipped_dir
from consentkit.consent.model import (
    CaptureContext,
    ConsentEvent,
    ConsentGrant,
    Effect,
    EventKind,
    Form,
    Grantor,
    RecipientRef,
    Scope,
)
from consentkit.consent.validate import grantor_problem
from consentkit.disclosure.decide import _state, _status, decide
from consentkit.disclosure.model import ConsentHistory, Decision, DisclosureRequest, SubjectFacts
from consentkit.disclosure.pack_index import pack_index
from consentkit.errors import InvalidInputError
from consentkit.keys import KeyRing
from consentkit.kit import ConsentKit
from consentkit.kit._disclosure import _new_ids, _subject_id, _with_ids
from consentkit.policy import PackLibrary
from consentkit.storage.consents import _grant, _history_grant
from consentkit.subjects import PersonalData
from consentkit.types import check_subject_id

LIBRARY = PackLibrary([shipped_dir("policies")])
PACKS = ["eu-gdpr", "gr", "se", "ru", "kz", "us-42cfr2"]
START = datetime(2020, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> tuple[str, ConsentHistory, date | None, datetime]:
    pack = LIBRARY.get(draw(st.sampled_from(PACKS)))
    start = START + timedelta(days=draw(st.integers(0, 2000)))
    until = draw(st.one_of(st.none(), st.integers(1, 900).map(lambda d: start + timedelta(days=d))))
    grant = ConsentGrant(
        consent_id="c1", subject_id="s1", jurisdiction=pack.id, effect=draw(st.sampled_from(list(Effect))),
        scope=Scope((RecipientRef(draw(st.sampled_from(sorted(pack.recipients)))),),
                    frozenset(draw(st.lists(st.sampled_from(sorted(pack.purposes)), min_size=1, max_size=3))),
                    frozenset(draw(st.lists(st.sampled_from(sorted(pack.categories)), min_size=1, max_size=3)))),
        valid_from=start, valid_until=until, grantor=draw(st.sampled_from(list(Grantor))), form=Form.WRITTEN,
        recorded_at=start, recorded_by="ada", pack_ref=pack.ref)
    kinds = st.sampled_from(list(EventKind))
    events = tuple(ConsentEvent("c1", kind, start + timedelta(days=day), "ada")
                   for kind, day in draw(st.lists(st.tuples(kinds, st.integers(0, 1500)), max_size=3)))
    birth = draw(st.one_of(st.none(), st.dates(date(1995, 1, 1), date(2019, 12, 31))))
    at = start + timedelta(days=draw(st.integers(-30, 3000)))
    return pack.id, ConsentHistory(grant, events), birth, at


@settings(max_examples=600, deadline=None)
@given(histories())
def test_status_is_the_folded_state(case: tuple[str, ConsentHistory, date | None, datetime]) -> None:
    pack_id, history, birth, at = case
    pack = LIBRARY.get(pack_id)
    state = _state(history, birth, pack, at)
    assert _status(history, birth, pack_index(pack), at) == (None if state is None else state.status)
    assert pack_index(pack).grantor_valid(history.grant, birth) == (
        grantor_problem(pack, history.grant, birth) is None)


@settings(max_examples=200, deadline=None)
@given(histories(), st.booleans())
def test_decisions_are_the_constructed_value(case: tuple[str, ConsentHistory, date | None, datetime],
                                             explain: bool) -> None:
    pack_id, history, birth, at = case
    pack = LIBRARY.get(pack_id)
    grant = history.grant
    request = DisclosureRequest("s1", grant.scope.recipients[0].type, min(grant.scope.purposes),
                                tuple(sorted(grant.scope.categories)), at, "ada")
    decision = decide(request, SubjectFacts("s1", pack_id, birth), [history], pack, explain=explain)
    rebuilt = Decision(**{f.name: getattr(decision, f.name) for f in fields(Decision)})
    assert vars(decision) == vars(rebuilt)  # every field set, none extra


def test_decision_copy_equals_replace() -> None:
    pack = LIBRARY.get("eu-gdpr")
    request = DisclosureRequest("s1", "treatment-provider", "treatment", ("identity",), START, "ada")
    decision = decide(request, SubjectFacts("s1", "eu-gdpr", None), [], pack)
    assert _with_ids(decision, 7, "d1") == replace(decision, audit_id=7, disclosure_id="d1")
    assert _with_ids(decision, 7, None).disclosure_id is None
    assert decision.audit_id is None  # the original is untouched


def test_minted_ids_are_time_ordered_version_7_uuids() -> None:
    before = time.time_ns() // 1_000_000
    ids = list(_new_ids(5000))  # more than one 12-bit batch counter
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 5000
    assert ids == sorted(ids)  # one batch lands in key order: right-most B-tree page
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
        assert before <= parsed.int >> 80 <= after + 1
    # rand_b is random: two ids minted in the same millisecond with the same counter differ
    assert len({value[19:] for value in ids}) == 5000
    assert list(_new_ids(0)) == []


@pytest.mark.parametrize("value", [
    "3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b", "3F2B6C1E-8A4D-4E0F-9B1A-2C3D4E5F6A7B",
    " 3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b ", "3f2b6c1e8a4d4e0f9b1a2c3d4e5f6a7b",
    "{3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b}", "urn:uuid:3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b",
])
def test_subject_id_shortcut_matches_check_subject_id(value: str) -> None:
    assert _subject_id(value) == check_subject_id(value)


@pytest.mark.parametrize("value", ["", "nope", "3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7", "3f2b6c1e-8a4d-4e0f-9b1a"])
def test_subject_id_shortcut_rejects_what_check_subject_id_rejects(value: str) -> None:
    with pytest.raises(InvalidInputError):
        _subject_id(value)


_ROW = {
    "consent_id": "c1", "subject_id": "s1", "jurisdiction": "gr", "effect": "refuse",
    "scope": '{"categories": ["health", "identity"], "purposes": ["treatment"], '
             '"recipients": [{"id": "okana", "type": "treatment-provider"}, {"id": null, "type": "healthcare"}]}',
    "valid_from": "2026-01-02T03:04:05.000006Z", "valid_until": "2027-01-02T03:04:05.000006Z",
    "grantor": "guardian", "form": "written", "recorded_at": "2026-01-02T03:04:05.000007Z", "recorded_by": "ada",
    "pack_ref": "gr@1", "evidence_sha256": "ab" * 32, "notice_version": "v2", "notice_language": "el",
    "context": '{"capacity_assessed": true, "in_custody": false, "interpreter_language": "ru"}',
    "irrevocable_until": "2026-02-01T00:00:00.000000Z", "attested": '["witness"]', "supersedes": "c0",
}
_HISTORY_COLUMNS = ("consent_id", "subject_id", "jurisdiction", "effect", "scope", "valid_from", "valid_until",
                    "grantor", "form", "recorded_at", "recorded_by", "pack_ref", "evidence_sha256", "notice_version",
                    "notice_language", "context", "irrevocable_until", "attested", "supersedes")


def test_history_grant_equals_the_constructed_grant() -> None:
    row = (*(_ROW[c] for c in _HISTORY_COLUMNS), None, None, None, None)
    built = _history_grant(row)
    expected = _grant(SimpleNamespace(**_ROW, personal=None)).grant
    assert built == expected
    assert vars(built) == vars(expected)  # every field set, none extra
    assert built.context == CaptureContext(in_custody=False, interpreter_language="ru", capacity_assessed=True)


def test_histories_read_back_what_the_repositories_read(kit: ConsentKit) -> None:
    subject = kit.add_subject(name="Ada Example", birth_date=date(1980, 1, 1), jurisdiction="eu-gdpr")
    first = kit.grant_consent(subject.subject_id, recipients=["treatment-provider"], purposes=["treatment"],
                              categories=["identity", "health"], notice_version="v1")
    kit.grant_consent(subject.subject_id, recipients=["social-services"], purposes=["care-coordination"],
                      categories=["identity"], notice_version="v1")
    kit.withdraw_consent(first.grant.consent_id, reason="changed my mind")
    with kit.store.read() as tx:
        joined = tx.consents.histories([subject.subject_id])[subject.subject_id]
        stored = tx.consents.for_subjects([subject.subject_id])[subject.subject_id]
        events = tx.consents.events([c.grant.consent_id for c in stored])
    assert [grant for grant, _ in joined] == [c.grant for c in stored]
    assert [list(history) for _, history in joined] == [[e for e, _ in events[c.grant.consent_id]] for c in stored]
    assert any(history for _, history in joined)


@settings(max_examples=200, deadline=None)
@given(st.dates(date(1900, 1, 1), date(2030, 12, 31)),
       st.text(st.characters(min_codepoint=32, blacklist_categories=("Cs",)), min_size=1, max_size=40)
       .filter(str.strip),
       st.one_of(st.none(), st.text(st.characters(min_codepoint=32, blacklist_categories=("Cs",)), max_size=40)))
def test_birth_date_shortcut_equals_the_full_parse(birth: date, name: str, contact: str | None) -> None:
    raw = PersonalData(name=name, birth_date=birth, contact=contact, other_names=("Other",)).to_bytes()
    assert PersonalData.birth_date_from_bytes(raw) == PersonalData.from_bytes(raw).birth_date == birth


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=40))
def test_compact_range_bytes_round_trip(leaves: list[bytes]) -> None:
    compact = CompactRange()
    compact.extend(leaves)
    restored = CompactRange.from_bytes(compact.to_bytes())
    assert restored == CompactRange.from_peaks(compact.size, compact.peaks) == compact
    assert all(type(peak) is bytes for peak in restored.peaks)
    restored.append(bytes(32))  # an independent range: the original is unchanged
    assert compact.size == len(leaves)


def test_head_mac_is_hmac_sha256_and_checks() -> None:
    keys = KeyRing.generate("example.org/log")
    message = b"consentkit/audit-head/v1|example.org/log|1|00|00"
    tag = keys.head_tag(message)
    kid, _, digest = tag.partition(":")
    derived = keys._derived(keys.master, b"consentkit/audit-head/v1")
    assert kid == keys.master.kid
    assert digest == hmac.new(derived, message, hashlib.sha256).hexdigest()
    assert keys.check_head_tag(message, tag)

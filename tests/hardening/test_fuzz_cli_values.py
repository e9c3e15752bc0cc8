"""Dates, times and ids typed on the command line: a valid result or a clean error, and a
refused command writes nothing (row counts and audit head unchanged)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening.cleanliness import assert_clean
from tests.hardening.conftest import Installation
from tests.hardening.strategies import NASTY, mutated_text

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Examples that get past parsing open the installation and load the packs (~0.3 s each).
DB_FUZZ = settings(FUZZ, max_examples=25)

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
iso_instants = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                 timezones=offsets).map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # no offset: refused with a hint
)
#: Things people type, valid ISO 8601 and near misses (extreme years, odd offsets, garbage).
instants = st.one_of(iso_instants, mutated_text("2026-03-01T14:30:00+01:00", max_changes=2),
                     st.sampled_from(NASTY), st.text(max_size=30))
ids = st.one_of(st.uuids().map(str), mutated_text("3f2b6c1e-8a4d-4e0f-9b1a-2c3d4e5f6a7b", max_changes=2),
                st.sampled_from(NASTY), st.text(max_size=40))


def _refused_cleanly(inst: Installation, *args: str, ok: frozenset[int]) -> None:
    """Run; a result with an exit code outside ``ok`` must be a clean error that wrote nothing."""
    before = inst.state.snapshot()
    result = inst(*args)
    assert_clean(result)
    if result.exit_code not in ok:
        inst.state.assert_unchanged(before)


def _arg(value: str) -> str:
    # A NUL cannot be passed in argv at all; everything else reaches consentkit as typed.
    return value.replace("\x00", "")


@DB_FUZZ
@given(at=instants)
def test_check_at(installation: Installation, at: str) -> None:
    _refused_cleanly(installation, "check", "--subject", installation.subject_id, "--recipient",
                     "treatment-provider", "--purpose", "treatment", "--category", "identity", "--at", _arg(at),
                     ok=frozenset({0, 3}))


@DB_FUZZ
@given(until=instants)
def test_grant_valid_until(installation: Installation, until: str) -> None:
    _refused_cleanly(installation, "consent", "grant", "--subject", installation.subject_id, "--recipient",
                     "healthcare", "--purpose", "treatment", "--category", "identity", "--notice-version", "v1",
                     "--valid-until", _arg(until), ok=frozenset({0}))


@DB_FUZZ
@given(born=st.one_of(st.dates().map(lambda d: d.isoformat()), instants))
def test_subject_birth_date(installation: Installation, born: str) -> None:
    _refused_cleanly(installation, "subject", "add", "--jurisdiction", "se", "--name", "Test Person",
                     "--birth-date", _arg(born), ok=frozenset({0}))


@DB_FUZZ
@given(command=st.sampled_from(("show", "list", "check", "erase", "hold")), subject=ids)
def test_subject_ids(installation: Installation, command: str, subject: str) -> None:
    value = _arg(subject)
    args = {
        "show": ("subject", "show", value),
        "list": ("consent", "list", "--subject", value),
        "check": ("check", "--subject", value, "--recipient", "healthcare", "--purpose", "treatment",
                  "--category", "identity"),
        "erase": ("subject", "erase", value, "--yes"),
        "hold": ("subject", "hold", value, "--reason", "court case"),
    }[command]
    # Only the installation's own subject exists, and ids are random UUIDs: every one is refused.
    _refused_cleanly(installation, *args, ok=frozenset())


@DB_FUZZ
@given(command=st.sampled_from(("show", "withdraw", "history", "receipt", "export")), consent=ids)
def test_consent_ids(installation: Installation, command: str, consent: str) -> None:
    value = _arg(consent)
    args = {"withdraw": ("consent", "withdraw", value, "--reason", "changed mind")}.get(
        command, ("consent", command, value))
    _refused_cleanly(installation, *args, ok=frozenset())


@DB_FUZZ
@given(seq=st.one_of(st.integers(-5, 2**80).map(str), st.sampled_from(NASTY), st.text(max_size=12)))
def test_audit_prove_seq(installation: Installation, seq: str) -> None:
    out = installation.workdir / "proof.tlog-proof"
    out.unlink(missing_ok=True)
    before = installation.state.snapshot()
    result = installation("audit", "prove", _arg(seq), "--out", str(out))
    assert_clean(result, frozenset({0, 1, 2}))
    if result.exit_code:
        assert not out.exists()
        after = installation.state.snapshot()
        # A proof may sign a checkpoint first; a refused one writes nothing at all.
        assert after == before


#: Valid identifiers of each type (checksums included) to mutate: a digit changed or a dash moved
#: must be refused, never half-accepted.
NATIONAL_IDS = {"se": ("SE_PERSONNUMMER", "19121212-1212"), "gr": ("GR_AMKA", "01017001234"),
                "ru": ("RU_SNILS", "112-233-445 95"), "kz": ("KZ_IIN", "900101300129")}


@settings(DB_FUZZ, max_examples=12)  # two commands per example, and valid ids add a client
@given(jurisdiction=st.sampled_from(sorted(NATIONAL_IDS)), data=st.data())
def test_national_ids(installation: Installation, jurisdiction: str, data: st.DataObject) -> None:
    kind, genuine = NATIONAL_IDS[jurisdiction]
    value = data.draw(st.one_of(mutated_text(genuine, max_changes=2), st.text(max_size=30),
                                st.from_regex(r"[0-9 \-]{6,16}", fullmatch=True)), label="national id")
    given_type = data.draw(st.sampled_from((None, kind, "GR_AFM", "RU_INN", "RU_PASSPORT", "RU_OMS", "XX_NONE")),
                           label="type")
    args = ["subject", "add", "--jurisdiction", jurisdiction, "--name", "Test Person", "--birth-date", "1990-01-01",
            "--national-id", _arg(value)]
    _refused_cleanly(installation, *args, *(["--national-id-type", given_type] if given_type else []),
                     ok=frozenset({0}))
    before = installation.state.snapshot()
    found = installation("subject", "find", "--national-id", _arg(value), "--jurisdiction", jurisdiction)
    if found.exit_code == 1 and found.stderr == "consentkit: error: no client with this national ID\n":
        return  # a well-formed number nobody has: `find` answers with exit 1, like grep
    assert_clean(found, frozenset({0, 1}))
    if found.exit_code:
        installation.state.assert_unchanged(before)


days = st.one_of(st.dates().map(lambda d: d.isoformat()), st.sampled_from(("0001-01-01", "9999-12-31")),
                 mutated_text("2026-03-01", max_changes=2), st.sampled_from(NASTY))


@settings(DB_FUZZ, max_examples=20)  # a report reads the whole period
@given(start=days, end=days)
def test_report_period(installation: Installation, start: str, end: str) -> None:
    out = installation.workdir / "dpo.json"
    out.unlink(missing_ok=True)
    before = installation.state.snapshot()
    result = installation("report", "dpo", "--from", _arg(start), "--to", _arg(end), "--format", "json", "-o", str(out))
    assert_clean(result, frozenset({0, 1, 2}))
    if result.exit_code:
        assert not out.exists()
        installation.state.assert_unchanged(before)


@DB_FUZZ
@given(received=days)
def test_access_request_received(installation: Installation, received: str) -> None:
    _refused_cleanly(installation, "sar", "open", installation.subject_id, "--received", _arg(received),
                     ok=frozenset({0}))


def test_extreme_offsets_at_the_ends_of_the_calendar(installation: Installation) -> None:
    for at in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        _refused_cleanly(installation, "check", "--subject", installation.subject_id, "--recipient",
                         "treatment-provider", "--purpose", "treatment", "--category", "identity", "--at", at,
                         ok=frozenset({0, 3}))


def test_huge_sequence_number(installation: Installation) -> None:
    result = installation("audit", "prove", str(2**64), "--out", str(installation.workdir / "p"))
    assert_clean(result, frozenset({1, 2}))


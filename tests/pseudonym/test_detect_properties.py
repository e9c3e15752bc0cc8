"""Property tests for the detector (hypothesis): every generated valid identifier, in any of its
written forms and behind its usual label, is found as its kind; a variant that fails the check
is never reported as that kind.

The identifiers come from ``strategies.py``, which computes check digits on its own from
``pii-and-identifiers.md`` §5.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from consentkit.pseudonym.detect import Detector
from consentkit.pseudonym.identifiers import KINDS, is_valid

from .strategies import CHECKSUM_KINDS, TODAY, valid_ids

DETECTOR = Detector(today=TODAY)

# A label and a language per kind, as a caseworker writes them; a phrase before and after.
LABELS = {
    "GR_AMKA": ("el", "Ο ΑΜΚΑ του ωφελούμενου είναι {} σύμφωνα με την αίτηση."),
    "GR_AFM": ("el", "ΑΦΜ: {} (ΔΟΥ Πειραιά)."),
    "SE_PERSONNUMMER": ("sv", "Klientens personnummer {} har kontrollerats."),
    "RU_SNILS": ("ru", "СНИЛС {} приложен к заявлению."),
    "RU_INN": ("ru", "ИНН {} указан в справке."),
    "RU_PASSPORT": ("ru", "Паспорт {} выдан ОВД района."),
    "RU_OMS": ("ru", "Полис ОМС {} действителен."),
    "KZ_IIN": ("kk", "ИИН {}, обратилась во фронт-офис."),
}


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_valid_identifier_is_found_as_its_kind(kind: str, data: st.DataObject) -> None:
    _canonical, written = data.draw(valid_ids(kind))
    written = written.strip()
    lang, sentence = LABELS[kind]
    text = sentence.format(written)
    start = text.index(written)
    entities = DETECTOR.analyze(text, lang=lang)
    assert any(e.type == kind and e.start <= start and e.end >= start + len(written) for e in entities), (
        kind, written, entities)


@st.composite
def one_digit_changed(draw: st.DrawFn, written: str) -> str:
    positions = [i for i, ch in enumerate(written) if ch.isdigit()]
    index = draw(st.sampled_from(positions))
    new = draw(st.sampled_from([d for d in "0123456789" if d != written[index]]))
    return written[:index] + new + written[index + 1:]


@pytest.mark.parametrize("kind", CHECKSUM_KINDS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_variant_failing_the_check_is_never_reported_as_that_kind(kind: str, data: st.DataObject) -> None:
    _canonical, written = data.draw(valid_ids(kind))
    variant = data.draw(one_digit_changed(written.strip()))
    assume(not is_valid(kind, variant, today=TODAY))
    lang, sentence = LABELS[kind]
    entities = DETECTOR.analyze(sentence.format(variant), lang=lang)
    assert kind not in {e.type for e in entities}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"0123456789", " ", "-", "+", "(", ")", "/", ".", ",", "@", "a", "Ж", "Σ"]),
               max_size=60),
       st.sampled_from(("en", "el", "sv", "ru", "kk")))
def test_any_text_gives_sorted_non_overlapping_entities_inside_it(text: str, lang: str) -> None:
    entities = DETECTOR.analyze(text, lang=lang, known_names=("Anna Berg",))
    assert all(0 <= e.start < e.end <= len(text) and 0.4 <= e.score <= 1.0 for e in entities)
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))

"""The presidio engine and the fast engine report the same entities: on the sample notes, on the
other phrasings, and on generated identifiers. Also: the analyzer is built offline as documented
(blank tokenizers, Kazakh through the multi-language fallback, whole-word context, no NER)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consentkit.pseudonym.detect import Detector

from .strategies import TODAY
from .test_detect_phrasings import NOTES

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii-dev.jsonl"


@pytest.fixture(scope="module")
def engines() -> tuple[Detector, Detector]:
    return Detector(today=TODAY), Detector(engine="presidio", today=TODAY)


def _sample() -> list[dict[str, Any]]:
    with SAMPLE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.mark.skipif(not SAMPLE.exists(), reason="the shared sample notes are not beside this checkout")
def test_both_engines_agree_on_the_sample_notes(engines: tuple[Detector, Detector]) -> None:
    fast, presidio = engines
    notes = _sample()
    differing = [n["id"] for n in notes
                 if fast.analyze(n["text"], lang=n["lang"], known_names=n["known_names"])
                 != presidio.analyze(n["text"], lang=n["lang"], known_names=n["known_names"])]
    assert differing == []
    assert len(notes) == 200


def test_both_engines_agree_on_other_phrasings(engines: tuple[Detector, Detector]) -> None:
    fast, presidio = engines
    for note in NOTES:
        lang, names, text, expected, _decoys = note.values
        assert fast.analyze(text, lang=lang, known_names=names) == presidio.analyze(text, lang=lang,
                                                                                  known_names=names)
        assert [(e.type, text[e.start:e.end]) for e in presidio.analyze(text, lang=lang, known_names=names)] \
            == expected


def test_the_analyzer_is_built_offline_as_documented() -> None:
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    from consentkit.pseudonym.detect_presidio import BlankSpacyNlpEngine, build_presidio_analyzer

    analyzer = build_presidio_analyzer(["sv", "kk"])
    engine = analyzer.nlp_engine
    assert isinstance(engine, BlankSpacyNlpEngine)
    assert {lang: nlp.lang for lang, nlp in engine.nlp.items()} == {"sv": "sv", "kk": "xx"}
    assert all(not nlp.pipe_names for nlp in engine.nlp.values())  # tokenizers only: no model
    assert isinstance(analyzer.context_aware_enhancer, LemmaContextAwareEnhancer)
    assert analyzer.context_aware_enhancer.context_matching_mode == "whole_word"
    assert sorted(analyzer.get_supported_entities("kk")) == sorted(
        ["GR_AMKA", "GR_AFM", "SE_PERSONNUMMER", "RU_SNILS", "RU_INN", "RU_PASSPORT", "RU_OMS", "KZ_IIN",
         "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE"])
    results = analyzer.analyze("ЖСН 900101312348", language="kk")
    assert [(r.entity_type, r.start, r.end) for r in results] == [("KZ_IIN", 4, 16)]

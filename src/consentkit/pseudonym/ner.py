"""Optional NER plug-ins for the detector: natasha (Russian) and locally installed spaCy models.

Neither is a dependency of consentkit. natasha ships its Russian NER weights inside its
wheel and runs offline (``pii-and-identifiers.md`` §4.5); a spaCy pipeline is loaded from
a package or a folder that is already on the machine and never downloaded. Both report
``PERSON`` entities (natasha ``PER``; spaCy ``PERSON``/``PER``), which then compete with the
detector's other readings on score. :func:`available_backends` returns the plug-ins this
machine can run: natasha when it is installed, and a spaCy pipeline named by
``CONSENTKIT_SPACY_NER`` (``lang=model-or-path``, comma-separated) when that is set.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from consentkit.errors import ConfigurationError
from consentkit.pseudonym.detect import Entity, NerBackend

__all__ = ["NatashaNer", "SpacyNer", "available_backends"]

#: Score of a PERSON found by a statistical model: below a known name's, above the threshold.
NER_SCORE = 0.6
_PERSON_LABELS = frozenset({"PERSON", "PER"})


class SpacyNer:
    """PERSON entities from a spaCy pipeline already installed (package name) or on disk (folder)."""

    def __init__(self, model: str, languages: Iterable[str]) -> None:
        if importlib.util.find_spec(model) is None and not Path(model).is_dir():
            # Never spacy.cli.download: the model must be on this machine already.
            raise ConfigurationError("spaCy NER model: not installed and not a folder here; install it first")
        import spacy  # noqa: PLC0415 - optional, heavy

        self._nlp: Any = spacy.load(model)
        self.languages = frozenset(languages)

    def find(self, text: str, lang: str) -> Iterable[Entity]:
        """Entities labelled PERSON or PER."""
        return [Entity("PERSON", ent.start_char, ent.end_char, NER_SCORE)
                for ent in self._nlp(text).ents if ent.label_ in _PERSON_LABELS]


class NatashaNer:
    """PERSON entities from natasha's Russian NER (its weights ship in the wheel)."""

    languages = frozenset({"ru"})

    def __init__(self) -> None:
        # One thread: natasha on numpy oversubscribes small machines (§4.5 measured 4x slower).
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        natasha: Any = importlib.import_module("natasha")  # optional extra, not a dependency
        self._segmenter = natasha.Segmenter()
        self._tagger = natasha.NewsNERTagger(natasha.NewsEmbedding())
        self._doc = natasha.Doc

    def find(self, text: str, lang: str) -> Iterable[Entity]:
        """Spans natasha tags PER."""
        doc = self._doc(text)
        doc.segment(self._segmenter)
        doc.tag_ner(self._tagger)
        return [Entity("PERSON", span.start, span.stop, NER_SCORE) for span in doc.spans if span.type == "PER"]


def available_backends() -> list[NerBackend]:
    """The NER plug-ins this machine can run (possibly none)."""
    backends: list[NerBackend] = []
    if importlib.util.find_spec("natasha") is not None:
        backends.append(NatashaNer())
    for entry in filter(None, (part.strip() for part in os.environ.get("CONSENTKIT_SPACY_NER", "").split(","))):
        lang, _, model = entry.partition("=")
        if not model:
            raise ConfigurationError("CONSENTKIT_SPACY_NER: expected lang=model-or-path entries, comma-separated")
        backends.append(SpacyNer(model, [lang]))
    return backends

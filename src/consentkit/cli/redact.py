"""``consentkit redact``: personal data out of free text, offline.

Uses the fast detector (``consentkit.pseudonym.detect``), which reports the same entities
as the presidio engine (``--engine presidio``) at several times its speed. Needs no
database or keys unless ``--subject`` or ``--pseudonymise`` is given (both are audited).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from consentkit.cli._app import App, common_options, pass_app

if TYPE_CHECKING:
    from consentkit.pseudonym.detect import Detector, Entity, NerBackend

__all__ = ["redact"]

LANGS = ("en", "el", "sv", "ru", "kk")


@click.command()
@click.argument("source", metavar="[FILE|-]", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--lang", type=click.Choice(LANGS),
              help="Language of the text [default: guessed from its script; in --jsonl each line's \"lang\"].")
@click.option("--known-name", "known_names", multiple=True,
              help="A name to redact in any case and inflected form (repeatable).")
@click.option("--jsonl", is_flag=True,
              help='Read lines {"id", "lang", "text", "known_names"}; write one result line per input line.')
@click.option("--subject", "subject_id", help="Also redact the names recorded for this subject (an audited read).")
@click.option("--pseudonymise", "domain", metavar="DOMAIN",
              help="Replace entities with keyed pseudonyms of DOMAIN instead of <TYPE> placeholders "
                   "(an export domain's pseudonyms: needs the export role; audited).")
@click.option("--engine", type=click.Choice(("fast", "presidio")), default="fast", show_default=True,
              help="Detector engine; both report the same entities.")
@click.option("--ner", is_flag=True, help="Also run the optional NER plug-ins installed here (natasha for ru).")
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write here, atomically, instead of stdout.")
@common_options
@pass_app
def redact(app: App, source: str, lang: str | None, known_names: tuple[str, ...], jsonl: bool,
           subject_id: str | None, domain: str | None, engine: str, ner: bool, out: str | None) -> None:
    """Redact names, national IDs, phones, e-mail addresses and IBANs in FILE (or stdin).

    Prints the redacted text, or with --json the text and the entities (type, start, end,
    score; offsets into the input). With --jsonl a malformed line stops the run with its
    line number (with --out nothing is written then).
    """
    names = list(known_names)
    if subject_id:
        names += app.kit().redaction_names(subject_id)
    detector = _detector(engine, ner)
    replace = _pseudonymiser(app, domain) if domain else None
    with _input(source) as stream:
        if jsonl:
            lines = _jsonl(detector, stream, lang, names, replace)
            if out:
                _write(out, lines)
            else:
                for line in lines:
                    click.echo(line, nl=False)
            return
        text = stream.read()
    from consentkit.pseudonym.detect import guess_language

    note_lang = lang or guess_language(text)
    result = detector.redact(text, lang=note_lang, known_names=names,
                             replace=_bind(replace, note_lang, names) if replace else None)
    data = {"text": result.text, "entities": [_entity(e) for e in result.entities]}
    rendered = json.dumps(data, ensure_ascii=False, indent=2) + "\n" if app.as_json else result.text
    if out:
        _write(out, [rendered])
    else:
        click.echo(rendered, nl=False)


def _detector(engine: str, ner: bool) -> Detector:
    from consentkit.pseudonym.detect import Detector, get_detector

    if engine == "fast" and not ner:
        return get_detector()
    backends: Sequence[NerBackend] = ()
    if ner:
        from consentkit.pseudonym.ner import available_backends

        backends = available_backends()
    return Detector(engine="presidio" if engine == "presidio" else "fast", ner=backends)


@contextmanager
def _input(source: str) -> Iterator[TextIO]:
    """FILE as UTF-8 text, or stdin for ``-``."""
    from consentkit.errors import InvalidInputError

    if source == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        try:
            yield stream
        except UnicodeDecodeError:
            raise InvalidInputError("stdin: not UTF-8 text") from None
        finally:
            stream.detach()  # leave stdin itself open
        return
    try:
        handle = open(source, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        raise InvalidInputError(f"{source}: cannot read ({error.strerror or 'I/O error'})") from None
    with handle:
        try:
            yield handle
        except UnicodeDecodeError:
            raise InvalidInputError(f"{source}: not UTF-8 text") from None


Replace = Callable[["Entity", str, str, Sequence[str]], str]


def _bind(replace: Replace, lang: str, names: Sequence[str]) -> Callable[[Entity, str], str]:
    return lambda entity, original: replace(entity, original, lang, names)


def _jsonl(detector: Detector, stream: TextIO, lang: str | None, names: list[str],
           replace: Replace | None) -> Iterator[str]:
    from consentkit.errors import InvalidInputError
    from consentkit.pseudonym.detect import check_language, guess_language

    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        item = _parse_line(raw, number)
        note_lang = item.get("lang") or lang or guess_language(item["text"])
        try:
            check_language(note_lang)
        except InvalidInputError as error:
            raise InvalidInputError(f"line {number}: \"lang\": {error}") from None
        line_names = [*names, *item.get("known_names", [])]
        result = detector.redact(item["text"], lang=note_lang, known_names=line_names,
                                 replace=_bind(replace, note_lang, line_names) if replace else None)
        yield json.dumps({"id": item.get("id"), "text": result.text,
                          "entities": [_entity(e) for e in result.entities]}, ensure_ascii=False) + "\n"


def _parse_line(raw: str, number: int) -> dict[str, Any]:
    from consentkit.errors import InvalidInputError
    from consentkit.pseudonym.records import LONE_SURROGATE, has_lone_surrogate

    try:
        item = json.loads(raw)
    except ValueError:
        raise InvalidInputError(f"line {number}: not valid JSON") from None
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise InvalidInputError(f'line {number}: expected an object with a string "text"')
    if has_lone_surrogate(raw, item):
        raise InvalidInputError(f"line {number}: {LONE_SURROGATE}")
    if item.get("lang") is not None and not isinstance(item["lang"], str):
        raise InvalidInputError(f'line {number}: "lang" must be a string')
    found = item.get("known_names", [])
    if not isinstance(found, list) or not all(isinstance(name, str) for name in found):
        raise InvalidInputError(f'line {number}: "known_names" must be a list of strings')
    return item


def _entity(entity: Entity) -> dict[str, Any]:
    return {"type": entity.type, "start": entity.start, "end": entity.end, "score": entity.score}


def _write(out: str, chunks: Iterator[str] | list[str]) -> None:
    from consentkit.kit._files import atomic_write

    atomic_write(Path(out), chunks)


def _pseudonymiser(app: App, domain: str) -> Replace:
    """Consistent pseudonyms: identifiers normalised, phones as E.164, names as the given name."""
    from consentkit.errors import InvalidInputError
    from consentkit.pseudonym._names import known_name_of
    from consentkit.pseudonym._phones import e164
    from consentkit.pseudonym.identifiers import KINDS
    from consentkit.pseudonym.keyed import TEXT

    pseudonymiser = app.kit().text_pseudonymiser(domain)  # the export permission, audited

    def replace(entity: Entity, original: str, lang: str, names: Sequence[str]) -> str:
        if entity.type in KINDS:
            try:
                return pseudonymiser.pseudonym(entity.type, original)
            except InvalidInputError:
                pass  # not normalisable after all: pseudonymise the text as written
        value = original
        if entity.type == "PHONE_NUMBER":
            value = e164(original, lang) or original
        elif entity.type == "PERSON":
            value = known_name_of(original, names) or original
        # The MAC is over "TEXT:<canonical value>"; the label shows what was replaced.
        return entity.type + pseudonymiser.pseudonym(TEXT, value).removeprefix(TEXT)

    return replace


"""The exporter without a database: every column action, both formats, malformed input.

The kit-level behaviour (atomic files, k-anonymity gate, audit) is in
``test_export_kit.py``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentkit.errors import InvalidInputError, ValidationError
from consentkit.keys import SecretKey
from consentkit.pseudonym import memo
from consentkit.pseudonym.export import Counts, Exporter
from consentkit.pseudonym.keyed import Pseudonymiser, Tokeniser
from consentkit.pseudonym.records import format_of, read_csv, read_jsonl
from consentkit.pseudonym.schema import parse_schema
from tests.pseudonym.strategies import TODAY

KEY = SecretKey.from_material("pseudonym", bytes(32))
PNR_FORMS = ("850709-2388", "8507092388", "19850709-2388")
AMKA = "15038512347"


@dataclass
class FakeRedaction:
    text: str


@dataclass
class FakeDetector:
    """Stands in for consentkit.pseudonym.detect: replaces each known name, records the calls."""

    calls: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def redact(self, text: str, *, lang: str, known_names: list[str]) -> FakeRedaction:
        self.calls.append((text, lang, tuple(known_names)))
        for name in known_names:
            text = text.replace(name, "<PERSON>")
        return FakeRedaction(text)


def exporter(columns: dict[str, Any], detector: FakeDetector | None = None, **top: Any) -> Exporter:
    schema = parse_schema({"version": 1, "domain": "research-a", **top, "columns": columns})
    return Exporter(schema, [KEY], today=TODAY, detector=(lambda: detector) if detector else None)


def run_csv(ex: Exporter, text: str) -> list[list[Any]]:
    return list(ex.transform(read_csv(io.StringIO(text), "in.csv", ex.columns), Counts()))


def run_jsonl(ex: Exporter, lines: list[Any]) -> list[list[Any]]:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return list(ex.transform(read_jsonl(io.StringIO(text), "in.jsonl", ex.columns), Counts()))


def test_keep_and_drop() -> None:
    ex = exporter({"a": "keep", "b": "drop", "c": {"keep": True}})
    assert ex.output_names == ("a", "c")
    assert run_csv(ex, "c,b,a\n3,2,1\n") == [["1", "3"]]


def test_the_three_personnummer_spellings_give_one_pseudonym() -> None:
    ex = exporter({"pnr": {"pseudonym": {"kind": "SE_PERSONNUMMER"}}})
    rows = run_csv(ex, "pnr\n" + "\n".join(PNR_FORMS) + "\n")
    expected = Pseudonymiser([KEY], "research-a").pseudonym("SE_PERSONNUMMER", "198507092388", today=TODAY)
    assert rows == [[expected]] * 3


def test_different_domains_are_unlinkable() -> None:
    ex = exporter({"a": {"pseudonym": {"kind": "GR_AMKA", "domain": "study-a"}},
                   "b": {"pseudonym": {"kind": "GR_AMKA", "domain": "study-b"}}})
    [[first, second]] = run_csv(ex, f"a,b\n{AMKA},{AMKA}\n")
    assert first.startswith("GR_AMKA_") and second.startswith("GR_AMKA_")
    assert first.rsplit("_", 1)[1] != second.rsplit("_", 1)[1]
    assert first == Pseudonymiser([KEY], "study-a").pseudonym("GR_AMKA", AMKA, today=TODAY)


def test_text_pseudonyms_are_case_and_space_insensitive() -> None:
    ex = exporter({"email": "pseudonym"})
    [[a], [b]] = run_csv(ex, "email\nAnna@Example.se\n  anna@example.se \n")
    assert a == b and a.startswith("TEXT_")


def test_tokens_normalise_identifiers_and_reveal() -> None:
    ex = exporter({"pnr": {"token": {"kind": "SE_PERSONNUMMER"}}, "phone": {"token": {"kind": "PHONE"}}})
    rows = run_csv(ex, "pnr,phone\n850709-2388,+46 70 123 45 67\n19850709-2388,+46 70 123 45 67\n")
    assert rows[0] == rows[1]
    tokeniser = Tokeniser([KEY], "research-a")
    assert tokeniser.reveal(rows[0][0]) == ("SE_PERSONNUMMER", "198507092388")
    assert tokeniser.reveal(rows[0][1]) == ("PHONE", "+46 70 123 45 67")


@pytest.mark.parametrize(("rule", "value", "expected"), [
    ({"date": "year"}, "1985-07-09", "1985"),
    ({"date": "month"}, "1985-07-09", "1985-07"),
    ({"date": "month"}, "1985-07-09T10:00:00+02:00", "1985-07"),
    ({"age": 10}, "47", "40-49"),
    ({"age": 5}, "0", "0-4"),
    ({"age": 1}, "47", "47"),
    ({"age": 10, "top": 80}, "93", "80+"),
    ({"age": 10, "top": 80}, "79", "70-79"),
    ({"postcode": 3}, "831 30", "831"),
    ({"postcode": 2}, "sw1a 1aa", "SW"),
    ({"postcode": 3}, "", ""),
])
def test_generalise(rule: dict[str, Any], value: str, expected: str) -> None:
    ex = exporter({"x": {"generalise": rule}})
    assert run_csv(ex, f'x\n"{value}"\n') == [[expected]]


@pytest.mark.parametrize(("rule", "value", "message"), [
    ({"date": "year"}, "09/07/1985", "expected a date YYYY-MM-DD"),
    ({"date": "year"}, "1985-02-30", "not a calendar date"),
    ({"age": 10}, "forty", "expected an age in whole years"),
    ({"age": 10}, "151", "an age is 0 to 150 years"),
])
def test_generalise_refuses_what_it_cannot_read(rule: dict[str, Any], value: str, message: str) -> None:
    ex = exporter({"id": "keep", "x": {"generalise": rule}})
    with pytest.raises(InvalidInputError) as caught:
        run_csv(ex, "id,x\n1,ok\n" if False else f"id,x\n1,{value}\n")
    assert str(caught.value) == f"line 2, column 'x': {message}"


def test_redact_calls_the_detector_with_the_rows_names_and_language() -> None:
    detector = FakeDetector()
    ex = exporter({"name": "drop", "lang": "keep", "note": {"redact": {"lang": "en", "lang_column": "lang",
                                                                         "known_names": ["name"]}}}, detector)
    rows = run_csv(ex, "name,lang,note\nAnna Svensson,SV ,Anna Svensson ringde\nNils,,hello Nils\nEva,el,\n")
    assert rows == [["SV ", "<PERSON> ringde"], ["", "hello <PERSON>"], ["el", ""]]
    assert detector.calls == [("Anna Svensson ringde", "sv", ("Anna Svensson",)), ("hello Nils", "en", ("Nils",))]


def test_redact_without_known_names_hides_what_the_export_hides_elsewhere() -> None:
    """A tokenised name must not come back through the note of the same row: by default the
    pseudonym, token and dropped values of the row are known names; ``known_names: []`` opts out."""
    detector = FakeDetector()
    columns = {"name": "token", "client": "pseudonym", "old_id": "drop", "sex": "keep", "note": "redact"}
    ex = exporter(columns, detector)
    [row] = run_csv(ex, "name,client,old_id,sex,note\nAnna Lindqvist,C-17,X9,F,Anna Lindqvist ringde\n")
    assert row[-1] == "<PERSON> ringde"
    assert detector.calls == [("Anna Lindqvist ringde", "en", ("Anna Lindqvist", "C-17", "X9"))]
    bare = exporter({**columns, "note": {"redact": {"known_names": []}}}, FakeDetector())
    [row] = run_csv(bare, "name,client,old_id,sex,note\nAnna Lindqvist,C-17,X9,F,Anna Lindqvist ringde\n")
    assert row[-1] == "Anna Lindqvist ringde"


def test_empty_cells_stay_empty_under_every_action() -> None:
    ex = exporter({"a": "pseudonym", "b": "token", "c": {"generalise": {"date": "year"}},
                   "d": {"pseudonym": {"kind": "KZ_IIN"}}})
    assert run_csv(ex, "a,b,c,d\n,,,\n") == [["", "", "", ""]]
    assert run_jsonl(ex, [{"a": None}, {}]) == [[None, None, None, None]] * 2


def test_jsonl_rows_in_schema_order_with_integers() -> None:
    ex = exporter({"id": "keep", "age": {"generalise": {"age": 10}}, "amka": {"pseudonym": {"kind": "GR_AMKA"}}})
    [[kept, band, pseudonym]] = run_jsonl(ex, [{"amka": AMKA, "age": 42, "id": 7}])
    assert (kept, band) == (7, "40-49")
    assert pseudonym == Pseudonymiser([KEY], "research-a").pseudonym("GR_AMKA", AMKA, today=TODAY)
    rendered = "".join(ex.render([[kept, band, pseudonym]], "jsonl"))
    assert json.loads(rendered) == {"id": 7, "age": "40-49", "amka": pseudonym}


def test_csv_render_has_a_header_and_quotes_when_needed() -> None:
    ex = exporter({"a": "keep", "b": "keep"})
    assert "".join(ex.render([["x,y", 'say "hi"']], "csv")) == 'a,b\n"x,y","say ""hi"""\n'


# -- refused input ----------------------------------------------------------------------------


def test_unknown_csv_column_is_refused_not_passed_through() -> None:
    ex = exporter({"a": "keep"})
    with pytest.raises(ValidationError, match=r"in.csv: header column 2 not in the schema \(names not shown; "
                                              r"the schema has 'a'\); every input") as raised:
        run_csv(ex, "a,diagnosis\n1,F10.2\n")
    assert "diagnosis" not in str(raised.value)


def test_a_file_without_its_header_line_is_named_so_and_its_first_row_not_shown() -> None:
    ex = exporter({"pnr": "keep", "name": "drop"})
    with pytest.raises(ValidationError, match=r"header columns 1, 2 not in the schema .*is the header line missing\?"
                       ) as raised:
        run_csv(ex, "990416-8656,Karin Berg\n")
    assert "Karin" not in str(raised.value) and "8656" not in str(raised.value)


def test_missing_csv_column_is_refused() -> None:
    ex = exporter({"a": "keep", "b": "drop"})
    with pytest.raises(ValidationError, match="schema columns missing from the input: 'b'"):
        run_csv(ex, "a\n1\n")


def test_duplicate_header_is_refused() -> None:
    with pytest.raises(ValidationError, match="header columns 1 and 2 have the same name"):
        run_csv(exporter({"a": "keep"}), "a,a\n1,2\n")


def test_unknown_jsonl_key_is_refused_with_its_line() -> None:
    ex = exporter({"a": "keep"})
    with pytest.raises(ValidationError, match=r"in.jsonl line 2: 1 key not in the schema \(keys not shown; "
                                              r"the schema has 'a'\)") as raised:
        run_jsonl(ex, [{"a": 1}, {"a": 2, "Anna Svensson 0701234567": "x"}])
    assert "Anna" not in str(raised.value)


@pytest.mark.parametrize(("lines", "message"), [
    ([{"a": "1"}, "{not json"], "in.jsonl line 2: not valid JSON (Expecting property name enclosed in double quotes)"),
    (["[1, 2]"], "in.jsonl line 1: expected a JSON object"),
    ([{"a": "1"}, "", {"a": ["x"]}], "line 3, column 'a': expected a text or integer value"),
    ([{"a": True}], "line 1, column 'a': expected a text or integer value"),
])
def test_malformed_jsonl(lines: list[Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_jsonl(exporter({"a": "pseudonym"}), lines)
    assert str(caught.value) == message


def test_wrong_field_count_names_the_line() -> None:
    with pytest.raises(InvalidInputError, match=r"^in.csv line 3: expected 2 fields, got 3$"):
        run_csv(exporter({"a": "keep", "b": "keep"}), "a,b\n1,2\n1,2,3\n")


def test_broken_quoting_names_the_line() -> None:
    with pytest.raises(InvalidInputError, match=r"^in.csv line 3: not valid CSV"):
        run_csv(exporter({"a": "keep", "b": "keep"}), 'a,b\n1,2\n"1"x,2\n')


def test_invalid_identifier_names_line_and_column_never_the_value() -> None:
    ex = exporter({"id": "keep", "pnr": {"pseudonym": {"kind": "SE_PERSONNUMMER"}}})
    with pytest.raises(InvalidInputError) as caught:
        run_csv(ex, "id,pnr\n1,850709-2388\n2,850709-2389\n")
    message = str(caught.value)
    assert message == "line 3, column 'pnr': SE_PERSONNUMMER is not valid: check digit does not match"
    assert "2389" not in message


def test_quoted_newlines_keep_line_numbers_right() -> None:
    ex = exporter({"note": "keep", "d": {"generalise": {"date": "year"}}})
    with pytest.raises(InvalidInputError, match=r"^line 5, column 'd'"):
        run_csv(ex, 'note,d\n"two\nlines",1985-01-01\nok,1985-01-01\nbad,1985\n')


def test_blank_lines_are_skipped() -> None:
    ex = exporter({"a": "keep"})
    assert run_csv(ex, "a\n1\n\n2\n") == [["1"], ["2"]]
    assert run_jsonl(ex, [{"a": 1}, "   ", {"a": 2}]) == [[1], [2]]


def test_suppressed_rows_are_counted_not_written() -> None:
    ex = exporter({"sex": "keep", "y": {"generalise": {"date": "year"}}}, quasi_identifiers=["sex", "y"], k=2)
    counts = Counts()
    text = "sex,y\nF,1985-01-01\nF,1985-06-01\nM,1990-01-01\n"
    rows = list(ex.transform(read_csv(io.StringIO(text), "in.csv", ex.columns), counts,
                             frozenset({("M", "1990")})))
    assert rows == [["F", "1985"], ["F", "1985"]]
    assert (counts.read, counts.written, counts.suppressed) == (3, 2, 1)


def test_first_pass_counts_generalised_groups() -> None:
    ex = exporter({"sex": "keep", "y": {"generalise": {"date": "year"}}, "n": "drop"},
                  quasi_identifiers=["y", "sex"], k=2)
    text = "sex,y,n\nF,1985-01-01,a\nF,1985-06-01,b\nM,1990-01-01,c\n"
    report = ex.count_groups(read_csv(io.StringIO(text), "in.csv", ex.columns)).report(2, suppress=False)
    assert report.groups == 2 and report.k_reached == 1
    assert [(g.values, g.rows) for g in report.listed] == [(("1990", "M"), 1)]


@pytest.mark.parametrize(("path", "given", "expected"), [
    ("a.csv", None, "csv"), ("a.CSV", None, "csv"), ("a.jsonl", None, "jsonl"), ("a.ndjson", None, "jsonl"),
    ("a.txt", "csv", "csv"),
])
def test_format_of(path: str, given: str | None, expected: str) -> None:
    assert format_of(path, given) == expected


def test_format_needs_an_extension_or_option() -> None:
    with pytest.raises(InvalidInputError, match="give --format csv or jsonl"):
        format_of("export.txt")


@given(st.lists(st.sampled_from([f"v{i}" for i in range(12)] + ["", None, 7]), max_size=200),
       st.lists(st.integers(1, 40), min_size=1), st.sampled_from([0, 1, 3]))
def test_memo_gives_what_compute_gives_and_saves_repeats(values: list[Any], sizes: list[int], rest: int) -> None:
    calls: list[str] = []

    def compute(texts: list[str]) -> list[str]:
        assert len(set(texts)) == len(texts)  # a chunk's new values, each once
        calls.extend(texts)
        return [text.upper() for text in texts]

    expected = [v if v is None else str(v).upper() for v in values]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memo, "MEMO_SIZE", 4)  # generations of 4: values switch generations often
        patch.setattr(memo, "MEMO_REST", rest)  # chunks without lookups after one of new values
        apply = memo.memoised(compute)
        got: list[Any] = []
        start = 0
        for size in sizes * (len(values) + 1):  # the values in chunks of the drawn sizes
            if start >= len(values):
                break
            got += apply(values[start:start + size])
            start += size
        assert got == expected
    distinct = {str(v) for v in values if v}
    assert "" not in calls and set(calls) == distinct and len(calls) <= len([v for v in values if v])
    if len(distinct) <= 4 and not rest:  # everything fits in one generation: each value is computed once
        assert len(calls) == len(distinct)


def test_memo_rests_after_a_chunk_of_new_values_and_comes_back_when_values_repeat() -> None:
    calls: list[list[str]] = []

    def compute(texts: list[str]) -> list[str]:
        calls.append(texts)
        return [text.upper() for text in texts]

    apply = memo.memoised(compute)
    first = [f"v{i}" for i in range(16)]
    assert apply(first) == [v.upper() for v in first]
    for _ in range(memo.MEMO_REST):  # resting: repeats are computed again, and remembered
        assert apply(first) == [v.upper() for v in first]
    assert len(calls) == 1 + memo.MEMO_REST
    assert apply(first) == [v.upper() for v in first]  # looking again: all remembered
    assert len(calls) == 1 + memo.MEMO_REST


def test_memo_refuses_structured_values_and_floats() -> None:
    apply = memo.memoised(lambda texts: [t.upper() for t in texts])
    assert apply(["a", 5, None, ""]) == ["A", "5", None, ""]
    for bad in (["a", ["x"]], [{"k": "v"}], [1.5], [True]):
        with pytest.raises(InvalidInputError, match="expected a text or integer value"):
            apply(bad)


@pytest.mark.parametrize("value", [["a", "b"], {"district": "Valdai"}])
def test_a_structured_quasi_identifier_is_refused_with_its_line(value: Any) -> None:
    ex = exporter({"sex": "keep", "district": "keep"}, quasi_identifiers=["sex", "district"], k=2)
    lines = [{"sex": "F", "district": "Valdai"}, {"sex": "M", "district": value}]
    text = "".join(json.dumps(line) + "\n" for line in lines)
    with pytest.raises(InvalidInputError, match=r"line 2: a quasi-identifier must be text, a number or empty"):
        ex.count_groups(read_jsonl(io.StringIO(text), "in.jsonl", ex.columns))

"""Loading policy packs: errors name file, line and field; extends merges and fails loudly;
a user folder adds packs or replaces shipped ones by id."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from consentkit.config import shipped_dir
from consentkit.errors import NotFoundError, ValidationError
from consentkit.policy import PackLibrary

SCHEMA = shipped_dir("policies").joinpath("schema.json").read_text("utf-8")

BASE = """\
id: base
version: "1"
name: Base
vocabulary:
  purposes: [treatment, child-protection, law-enforcement]
  categories: [identity, health, family]
  recipients: [healthcare, police, child-protection-unit]
consent:
  forms: {allowed: [written, verbal], citation: Base art. 1, verified: true}
  self_consent_age: {age: 16, citation: Base art. 2, verified: false}
  rules:
    - id: written-health
      when: {categories: [health]}
      forms: [written]
      citation: Base art. 3
      verified: true
overrides:
  emergency:
    title: {en: Emergency}
    citation: Base art. 4
    verified: false
    mandatory: false
    recipients: [healthcare]
    purposes: [treatment]
    minimum_categories: [identity, health]
    roles: [caseworker]
    notify_subject: {rule: within-days, days: 30}
    notify_dpo: true
obligations:
  - id: record
    basis: any
    kind: record
    text: {en: Record it.}
    citation: Base art. 5
    verified: true
deadlines:
  subject_access: {amount: 1, unit: months, citation: Base art. 6, verified: true}
  breach: {hours: 72, citation: Base art. 7, verified: true}
"""

OVERRIDE = """\
  {name}:
    title: {{en: Report}}
    citation: Child law art. 1
    verified: true
    mandatory: true
    recipients: [{recipient}]
    purposes: [child-protection]
    minimum_categories: [identity, family]
    roles: [caseworker]
    notify_subject: {{rule: {rule}}}
    notify_dpo: true
"""


def _folder(path: Path, **packs: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "schema.json").write_text(SCHEMA, "utf-8")
    for name, text in packs.items():
        (path / f"{name}.yaml").write_text(textwrap.dedent(text), "utf-8")
    return path


def _child(body: str, pack_id: str = "child", extends: str = "base") -> str:
    return f'id: {pack_id}\nversion: "2"\nname: Child\nextends: {extends}\n{body}'


def _line(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


def _problems(library: PackLibrary, pack_id: str) -> tuple[str, ...]:
    with pytest.raises(ValidationError) as caught:
        library.get(pack_id)
    return caught.value.problems or (caught.value.message,)


@pytest.fixture
def base_folder(tmp_path: Path) -> Path:
    return _folder(tmp_path / "policies", base=BASE)


# --- YAML and schema errors name file, line and field -----------------------------------------------


def test_yaml_syntax_error_names_file_and_line(base_folder: Path) -> None:
    text = _child("overrides:\n  x: [unclosed\nnotes: here\n")
    _folder(base_folder, child=text)
    with pytest.raises(ValidationError) as caught:
        PackLibrary([base_folder]).get("child")
    # The parser notices the unclosed flow sequence on the next line.
    assert str(caught.value).startswith(f"policies/child.yaml line {_line(text, 'notes')}: not valid YAML (")


def test_not_a_mapping(base_folder: Path) -> None:
    _folder(base_folder, child="- id: child\n")
    with pytest.raises(ValidationError, match=r"policies/child\.yaml: a pack must be a YAML mapping"):
        PackLibrary([base_folder]).get("child")


def test_duplicate_key_names_its_line(base_folder: Path) -> None:
    text = _child("languages: [en]\nlanguages: [sv]\n")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert problem.startswith(f"policies/child.yaml line {_line(text, 'languages', 2)}, languages: duplicate key")


def test_unknown_top_level_key_names_its_line(base_folder: Path) -> None:
    text = _child("languages: [en]\nbogus: 1\n")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert problem.startswith(f"policies/child.yaml line {_line(text, 'bogus')}, bogus: ")
    assert "'bogus' was unexpected" in problem


def test_unknown_nested_key_names_line_and_dotted_path(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="child-protection-unit", rule="never")
    text = _child(f"overrides:\n{override}    colour: red\n")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert problem.startswith(f"policies/child.yaml line {_line(text, 'colour')}, overrides.report.colour: ")


def test_wrong_enum_value_names_line_and_dotted_path(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="child-protection-unit", rule="sometimes")
    text = _child(f"overrides:\n{override}")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert problem.startswith(
        f"policies/child.yaml line {_line(text, 'sometimes')}, overrides.report.notify_subject.rule: 'sometimes'")


def test_within_days_needs_days(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="child-protection-unit", rule="within-days")
    text = _child(f"overrides:\n{override}")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert f"line {_line(text, 'within-days')}, overrides.report.notify_subject: 'days' is a required" in problem


def test_every_schema_problem_is_listed(base_folder: Path) -> None:
    text = _child("languages: [xx]\ndeadlines:\n  breach: {hours: 0, citation: X art. 1, verified: maybe}\n")
    _folder(base_folder, child=text)
    problems = _problems(PackLibrary([base_folder]), "child")
    assert len(problems) == 3
    assert any(f"line {_line(text, 'languages')}, languages[0]" in p for p in problems)
    assert any("deadlines.breach.hours" in p for p in problems)
    assert any("deadlines.breach.verified" in p for p in problems)


def test_a_missing_citation_is_a_schema_error(base_folder: Path) -> None:
    text = _child("consent:\n  withdrawal: {form: any, verified: true}\n")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert "consent.withdrawal: 'citation' is a required property" in problem


# --- vocabulary ---------------------------------------------------------------------------------------


def test_override_recipient_outside_the_vocabulary_names_its_line(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="newspaper", rule="never")
    text = _child(f"overrides:\n{override}")
    _folder(base_folder, child=text)
    (problem,) = _problems(PackLibrary([base_folder]), "child")
    assert problem == (f"policies/child.yaml line {_line(text, 'newspaper')}, overrides.report.recipients[0]: "
                       "'newspaper' is not in the pack's vocabulary.recipients")


def test_vocabulary_error_in_a_merged_list_points_at_the_child_file(base_folder: Path) -> None:
    # The child's obligation is the base's second after merging by id: the line must still be the child's.
    text = _child(textwrap.dedent("""\
        consent:
          rules:
            - id: minors
              when: {categories: [diary], age_below: 18}
              grantors: [guardian]
              citation: Child art. 2
              verified: false
        obligations:
          - id: tell-police
            basis: override
            kind: other
            recipients: [newspaper]
            text: {en: Tell.}
            citation: Child art. 1
            verified: false
        """))
    _folder(base_folder, child=text)
    problems = _problems(PackLibrary([base_folder]), "child")
    assert len(problems) == 2
    assert problems[0].startswith(f"policies/child.yaml line {_line(text, 'newspaper')}, obligations[0].recipients[0]")
    assert problems[1].startswith(f"policies/child.yaml line {_line(text, 'diary')}, consent.rules[0].when.categories")


def test_a_child_may_add_vocabulary_for_its_overrides(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="newspaper", rule="never")
    _folder(base_folder, child=_child(f"vocabulary:\n  recipients: [newspaper]\noverrides:\n{override}"))
    pack = PackLibrary([base_folder]).get("child")
    assert pack.recipients == frozenset({"healthcare", "police", "child-protection-unit", "newspaper"})
    assert pack.overrides["report"].recipients == frozenset({"newspaper"})


# --- extends and merging ------------------------------------------------------------------------------


def test_extends_of_an_unknown_pack(base_folder: Path) -> None:
    _folder(base_folder, child=_child("", extends="nope"))
    with pytest.raises(ValidationError,
                       match=r"child\.yaml line 4, extends: no policy pack 'nope': known packs are base, child"):
        PackLibrary([base_folder]).get("child")


def test_unknown_pack(base_folder: Path) -> None:
    with pytest.raises(NotFoundError, match="no policy pack 'xx'"):
        PackLibrary([base_folder]).get("xx")


def test_circular_extends(base_folder: Path) -> None:
    _folder(base_folder, a=_child("", pack_id="a", extends="b"), b=_child("", pack_id="b", extends="a"))
    with pytest.raises(ValidationError, match=r"policies/[ab]\.yaml line 4, extends: extends is circular"):
        PackLibrary([base_folder]).get("a")


def test_a_pack_extending_itself(base_folder: Path) -> None:
    _folder(base_folder, a=_child("", pack_id="a", extends="a"))
    with pytest.raises(ValidationError, match="circular"):
        PackLibrary([base_folder]).get("a")


def test_file_id_must_match_its_name(base_folder: Path) -> None:
    _folder(base_folder, child=_child("", pack_id="other"))
    with pytest.raises(ValidationError, match=r"policies/child\.yaml line 1, id: the id must be 'child'"):
        PackLibrary([base_folder]).get("child")


def test_merge_rules(base_folder: Path) -> None:
    override = OVERRIDE.format(name="report", recipient="child-protection-unit", rule="never")
    _folder(base_folder, child=_child(textwrap.dedent("""\
        vocabulary:
          purposes: [research, treatment]
        consent:
          self_consent_age: {age: 15, citation: Child art. 1, verified: true}
          rules:
            - id: written-health
              when: {categories: [health]}
              forms: [written, electronic]
              citation: Child art. 2
              verified: true
            - id: minors
              when: {age_below: 18}
              grantors: [guardian]
              citation: Child art. 3
              verified: false
        deadlines:
          breach: {hours: 24, citation: Child art. 4, verified: true}
        obligations:
          - id: record
            basis: consent
            kind: record
            text: {en: Record it here.}
            citation: Child art. 5
            verified: false
        """) + f"overrides:\n{override}"))
    library = PackLibrary([base_folder])
    pack, base = library.get("child"), library.get("base")
    assert pack.chain == ("child", "base") and pack.version == "2"
    assert pack.purposes == base.purposes | {"research"}  # union, no duplicates
    assert list(pack.data["vocabulary"]["purposes"]).count("treatment") == 1
    assert pack.consent.forms == base.consent.forms  # consent keys the child omits are inherited
    assert pack.consent.self_consent_age == 15
    rules = {rule.id: rule for rule in pack.consent.rules}
    assert set(rules) == {"written-health", "minors"}
    assert rules["written-health"].forms == frozenset({"written", "electronic"})  # replaced by id
    assert set(pack.overrides) == {"emergency", "report"}
    assert pack.overrides["emergency"] == base.overrides["emergency"]
    assert pack.breach_hours == 24 and pack.subject_access == base.subject_access  # deadlines key by key
    (record,) = pack.obligations
    assert record.basis == "consent" and record.cited.citation == "Child art. 5"
    assert "extends" not in pack.data
    assert pack.content_hash != base.content_hash


def test_load_file_resolves_extends_from_the_library(base_folder: Path) -> None:
    library = PackLibrary([base_folder])
    pack = library.load_file("draft.yaml", _child("languages: [sv]\n", pack_id="draft"))
    assert pack.chain == ("draft", "base") and pack.languages == ("sv",)
    with pytest.raises(ValidationError, match=r"draft\.yaml line 5, languages\[0\]"):
        library.load_file("draft.yaml", _child("languages: [xx]\n", pack_id="draft"))


def test_no_folder() -> None:
    with pytest.raises(ValidationError):
        PackLibrary([])


# --- shipped and user folders -------------------------------------------------------------------------


def test_user_folder_overrides_a_shipped_pack_by_id(tmp_path: Path) -> None:
    shipped = shipped_dir("policies")
    user = tmp_path / "mine"
    user.mkdir()
    (user / "se.yaml").write_text(_child('country: SE\n', pack_id="se", extends="eu-gdpr")
                                  .replace('version: "2"', 'version: "local-1"'), "utf-8")
    (user / "xx.yaml").write_text(_child("", pack_id="xx", extends="gr"), "utf-8")
    library = PackLibrary([shipped, user])
    assert {"se", "xx", "gr", "ru"} <= set(library.ids())
    local = library.get("se")
    assert local.version == "local-1"
    assert "child-welfare-report" not in local.overrides  # the shipped se.yaml is not read at all
    assert local.chain == ("se", "eu-gdpr")
    assert library.get("xx").chain == ("xx", "gr", "eu-gdpr")  # a user pack may extend a shipped one
    assert library.source("se").name == str(user / "se.yaml")
    assert library.source("ru").name == "policies/ru.yaml"
    assert PackLibrary([shipped]).get("se").version != "local-1"


def test_errors_in_a_user_folder_name_the_user_file(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    text = _child("bogus: 1\n", pack_id="gr", extends="eu-gdpr")
    (user / "gr.yaml").write_text(text, "utf-8")
    (problem,) = _problems(PackLibrary([shipped_dir("policies"), user]), "gr")
    assert problem.startswith(f"{user / 'gr.yaml'} line {_line(text, 'bogus')}, bogus: ")


def test_packs_are_cached(base_folder: Path) -> None:
    library = PackLibrary([base_folder])
    assert library.get("base") is library.get("base")


def test_the_shipped_pack_schema_is_a_valid_json_schema() -> None:
    import json

    from jsonschema import Draft202012Validator

    from consentkit.config import shipped_dir

    Draft202012Validator.check_schema(json.loads(shipped_dir("policies").joinpath("schema.json").read_text("utf-8")))

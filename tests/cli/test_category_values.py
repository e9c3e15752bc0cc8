"""``--category C...`` as DESIGN.md writes it: several values after one flag, the flag repeated,
comma lists, or any mix; and ``check``'s override details refused without ``--override``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Run

#: Ways of naming identity, contact and health: all must give the same three categories.
FORMS = {
    "one flag": ("--category", "identity", "contact", "health"),
    "repeated": ("--category", "identity", "--category", "contact", "--category", "health"),
    "commas": ("--category", "identity,contact,health"),
    "mixed": ("--category", "identity", "contact", "--category", "health"),
    "mixed commas": ("--category", "identity,contact", "health"),
    "attached": ("--category=identity", "contact,health"),
}
ALL = {"identity", "contact", "health"}


@pytest.fixture
def run(db_url: str, keys_dir: Path) -> Run:
    runner = Run(db_url, keys_dir)
    assert runner("init", "--role", "caseworker", "--role", "supervisor").exit_code == 0
    return runner


@pytest.fixture
def subject(run: Run) -> str:
    return str(run.json("subject", "add", "--jurisdiction", "eu-gdpr", "--name", "Anna Test",
                        "--birth-date", "1995-04-01")["subject_id"])


def _grant(run: Run, subject: str, *categories: str) -> str:
    granted = run.json("consent", "grant", "--subject", subject, "--recipient", "healthcare",
                       *categories, "--purpose", "treatment", "--notice-version", "v1")
    return str(granted["consent_id"])


@pytest.mark.parametrize("form", sorted(FORMS))
def test_grant_and_check_take_every_form(run: Run, subject: str, form: str) -> None:
    consent_id = _grant(run, subject, *FORMS[form])
    assert set(run.json("consent", "show", consent_id)["categories"]) == ALL
    permit = run.json("check", "--subject", subject, "--recipient", "healthcare", *FORMS[form],
                      "--purpose", "treatment")
    assert permit["decision"] == "permit" and set(permit["permitted_categories"]) == ALL


@pytest.mark.parametrize("order", ["values first", "values last", "values between"])
def test_the_option_after_the_values_is_still_parsed(run: Run, subject: str, order: str) -> None:
    _grant(run, subject, "--category", "identity", "contact")
    values = ("--category", "identity", "contact")
    rest = {"--subject": subject, "--recipient": "healthcare", "--purpose": "treatment"}
    flat = [token for pair in rest.items() for token in pair]
    args = {"values first": [*values, *flat], "values last": [*flat, *values],
            "values between": [*flat[:2], *values, *flat[2:]]}[order]
    permit = run.json("check", *args)
    assert permit["decision"] == "permit" and set(permit["permitted_categories"]) == {"identity", "contact"}


def test_check_denies_a_category_named_after_one_flag(run: Run, subject: str) -> None:
    _grant(run, subject, "--category", "identity")
    partial = run.json("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                       "--category", "identity", "contact", code=3)
    assert partial["permitted_categories"] == ["identity"] and "contact" in partial["denied"]


@pytest.mark.parametrize("command", ["grant", "check"])
def test_an_unknown_category_among_several_is_one_line(run: Run, subject: str, command: str) -> None:
    head = ("consent", "grant", "--notice-version", "v1") if command == "grant" else ("check",)
    result = run(*head, "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity", "nonsense", "contact")
    assert result.exit_code == 1
    assert "nonsense not in pack eu-gdpr" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["grant", "check"])
@pytest.mark.parametrize("tail", [("--category",), ("--category", "--purpose", "treatment")])
def test_category_without_a_value_is_a_usage_error(run: Run, subject: str, command: str,
                                                   tail: tuple[str, ...]) -> None:
    head = ("consent", "grant") if command == "grant" else ("check",)
    purpose = () if "--purpose" in tail else ("--purpose", "treatment")
    result = run(*head, "--subject", subject, "--recipient", "healthcare", *purpose, *tail)
    assert result.exit_code == 2
    assert "Option '--category' requires an argument." in result.stderr


@pytest.mark.parametrize("flag", ["--justification", "--reference", "--approver"])
def test_override_details_without_override_are_a_usage_error(run: Run, subject: str, flag: str) -> None:
    result = run("check", "--subject", subject, "--recipient", "healthcare", "--purpose", "treatment",
                 "--category", "identity", "contact", flag, "collapsed in the waiting room")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"consentkit: error: {flag} goes with --override O: "
                                     "name the override, or leave it out")
    assert result.stdout == ""


def test_help_shows_the_values(run: Run) -> None:
    for head in (("consent", "grant"), ("check",)):
        shown = run(*head, "--help")
        assert shown.exit_code == 0
        text = " ".join(shown.output.split())
        assert "--category C..." in text and "several after one flag" in text and "(identity,contact)" in text

"""Policy pack YAML (``consentkit policy validate FILE``): any file gives a verdict or a clean error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentkit.cli import cli
from consentkit.config import shipped_dir
from consentkit.errors import ConsentKitError
from consentkit.policy import PackLibrary
from tests.hardening.cleanliness import assert_clean, assert_clean_text
from tests.hardening.strategies import json_values, mutated_json, mutated_text, raw_bytes

POLICIES = Path(__file__).parents[2] / "policies"
SE_TEXT = (POLICIES / "se.yaml").read_text("utf-8")
SE_DATA = yaml.safe_load(SE_TEXT)
CLI_MAIN = "from consentkit.cli import main; main()"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Validating a whole pack against the schema takes ~0.4 s: fewer examples keep the suite in budget.
SLOW_FUZZ = settings(FUZZ, max_examples=20)
CLI_FUZZ = settings(FUZZ, max_examples=30)  # each CLI call also loads the schema afresh
LIBRARY = PackLibrary([shipped_dir("policies")])


def _validate(tmp_path: Path, content: bytes) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_bytes(content)
    result = CliRunner().invoke(cli, ["policy", "validate", str(pack)], catch_exceptions=False)
    assert_clean(result, frozenset({0, 1}))


def _load(text: str) -> None:
    """Through the library (the parser behind `policy validate`), one schema load for every example."""
    try:
        LIBRARY.load_file("pack.yaml", text)
    except ConsentKitError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, message
        assert_clean_text(message)


@SLOW_FUZZ
@given(mutated_text(SE_TEXT))
def test_mutated_pack_text(text: str) -> None:
    _load(text)


@SLOW_FUZZ
@given(mutated_json(SE_DATA, max_changes=2))
def test_mutated_pack_structure(data: object) -> None:
    _load(yaml.safe_dump(data, allow_unicode=False))


@CLI_FUZZ
@given(mutated_text(SE_TEXT[:SE_TEXT.index("overrides:")]))
def test_mutated_pack_head_through_the_cli(tmp_path: Path, text: str) -> None:
    _validate(tmp_path, text.encode("utf-8", "surrogatepass"))


@CLI_FUZZ
@given(st.one_of(raw_bytes, json_values.map(lambda v: yaml.safe_dump(v).encode())))
def test_arbitrary_files(tmp_path: Path, content: bytes) -> None:
    _validate(tmp_path, content)


def test_not_utf8_is_a_clean_error(tmp_path: Path) -> None:
    _validate(tmp_path, SE_TEXT.encode("utf-8") + b"\n# \xff\xfe\n")


def test_self_referencing_alias_is_a_clean_error(tmp_path: Path) -> None:
    _validate(tmp_path, b"id: x\nversion: '1'\nnotes: &loop [*loop]\n")


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    # "Billion laughs": nine levels of nine aliases is 9**9 nodes to walk if aliases are expanded.
    lines = ["id: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    pack = tmp_path / "bomb.yaml"
    pack.write_text("\n".join(lines) + "\n", "utf-8")
    # A subprocess, so that a hang fails the test instead of stalling the suite.
    result = subprocess.run([sys.executable, "-c", CLI_MAIN, "policy", "validate", str(pack)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1, result.stderr[-500:]
    assert len(result.stderr.strip().splitlines()) == 1 and "Error" not in result.stderr, result.stderr[-500:]


def test_deep_nesting_is_a_clean_error(tmp_path: Path) -> None:
    _validate(tmp_path, b"id: deep\nnotes: " + b"[" * 5000 + b"]" * 5000 + b"\n")

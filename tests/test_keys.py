"""The key directory and environment keys: permissions, corruption, rotation, wrapping."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from consentkit.errors import ErasedError, KeyStoreError, WrongKeyError
from consentkit.keys import KeyRing, open_sealed, seal


@pytest.fixture
def saved(tmp_path: Path) -> tuple[KeyRing, Path]:
    ring = KeyRing.generate("test.local/log")
    directory = tmp_path / "keys"
    ring.save_dir(directory)
    return ring, directory


def _key_file(directory: Path, kind: str) -> Path:
    return next(directory.glob(f"{kind}-*.key"))


def test_round_trip_and_file_modes(saved: tuple[KeyRing, Path]) -> None:
    ring, directory = saved
    loaded = KeyRing.load_dir(directory)
    assert loaded.origin == ring.origin
    assert loaded.master.kid == ring.master.kid and loaded.master.material == ring.master.material
    assert loaded.signer.kid == ring.signer.kid
    for path in directory.glob("*.key"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "keyring.json").stat().st_mode) == 0o600


def test_world_readable_key_file_is_refused(saved: tuple[KeyRing, Path]) -> None:
    _, directory = saved
    path = _key_file(directory, "master")
    os.chmod(path, 0o644)
    with pytest.raises(KeyStoreError, match=r"chmod 600") as caught:
        KeyRing.load_dir(directory)
    assert "mode 644" in str(caught.value)


def test_group_readable_signing_key_is_refused(saved: tuple[KeyRing, Path]) -> None:
    _, directory = saved
    os.chmod(_key_file(directory, "signing"), 0o640)
    with pytest.raises(KeyStoreError, match="group or others"):
        KeyRing.load_dir(directory)


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_a_key_directory_others_may_write_to_is_refused(saved: tuple[KeyRing, Path], mode: int) -> None:
    # Whoever can add a file there could add a signing key of their own and forge checkpoints with it.
    _, directory = saved
    os.chmod(directory, mode)
    with pytest.raises(KeyStoreError, match=r"writable by group or others .*chmod 700"):
        KeyRing.load_dir(directory)
    os.chmod(directory, 0o755)  # noqa: S103 - readable is fine: every key file in it is private (0600)
    assert KeyRing.load_dir(directory).origin


def test_corrupt_key_files_are_refused_without_showing_content(saved: tuple[KeyRing, Path]) -> None:
    ring, directory = saved
    path = _key_file(directory, "master")
    path.write_text("this is not base64!!\n")
    with pytest.raises(KeyStoreError, match="corrupt") as caught:
        KeyRing.load_dir(directory)
    assert "not base64" not in str(caught.value)
    path.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    with pytest.raises(KeyStoreError, match="does not match its key id"):
        KeyRing.load_dir(directory)
    assert base64.b64encode(ring.master.material).decode() not in repr(ring)


def test_unreadable_key_file_is_refused(saved: tuple[KeyRing, Path]) -> None:
    _, directory = saved
    path = _key_file(directory, "pseudonym")
    path.unlink()
    path.mkdir(mode=0o700)  # even root cannot read a directory as a file
    with pytest.raises(KeyStoreError, match="cannot read key file"):
        KeyRing.load_dir(directory)


def test_corrupt_signing_key_is_refused(saved: tuple[KeyRing, Path]) -> None:
    _, directory = saved
    bogus = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    _key_file(directory, "signing").write_bytes(bogus)
    with pytest.raises(KeyStoreError, match="corrupt"):
        KeyRing.load_dir(directory)


def test_missing_directory_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="consentkit init"):
        KeyRing.load_dir(tmp_path / "nowhere")


def test_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {name: base64.b64encode(os.urandom(32)).decode()
              for name in ("CONSENTKIT_MASTER_KEY", "CONSENTKIT_SIGNING_KEY", "CONSENTKIT_PSEUDONYM_KEY")}
    env = {**values, "CONSENTKIT_LOG_ORIGIN": "env.local/log"}
    ring = KeyRing.from_env(env)
    assert ring is not None and ring.origin == "env.local/log"
    again = KeyRing.from_env(env)
    assert again is not None and again.master.kid == ring.master.kid
    assert KeyRing.from_env({}) is None
    with pytest.raises(KeyStoreError, match="CONSENTKIT_PSEUDONYM_KEY"):
        KeyRing.from_env({k: v for k, v in env.items() if k != "CONSENTKIT_PSEUDONYM_KEY"})
    with pytest.raises(KeyStoreError, match="corrupt"):
        KeyRing.from_env({**env, "CONSENTKIT_MASTER_KEY": "short"})


def test_wrap_unwrap_and_rotation(saved: tuple[KeyRing, Path]) -> None:
    ring, directory = saved
    data_key = os.urandom(32)
    wrapped = ring.wrap("subject-1", data_key)
    rotated = ring.rotated(["master", "signing"])
    rotated.save_dir(directory)
    reloaded = KeyRing.load_dir(directory)
    assert reloaded.master.kid != ring.master.kid
    assert reloaded.signer.kid != ring.signer.kid
    assert reloaded.unwrap("subject-1", wrapped) == data_key  # old key still unwraps
    assert reloaded.signer_by_kid(ring.signer.kid) is not None  # old signatures still verify
    with pytest.raises(WrongKeyError):
        reloaded.unwrap("subject-2", wrapped)  # bound to its subject
    with pytest.raises(ErasedError):
        reloaded.unwrap("subject-1", None)


def test_blind_index_is_keyed_and_deterministic(saved: tuple[KeyRing, Path]) -> None:
    ring, _ = saved
    other = KeyRing.generate("test.local/log")
    assert ring.blind_index("SE:198507092388") == ring.blind_index("SE:198507092388")
    assert ring.blind_index("SE:198507092388") != other.blind_index("SE:198507092388")
    assert ring.blind_index("SE:198507092388") != ring.blind_index("SE:198803200016")


def test_seal_detects_tampering() -> None:
    key = os.urandom(32)
    blob = bytearray(seal(key, b"secret", b"aad"))
    assert open_sealed(key, bytes(blob), b"aad") == b"secret"
    blob[-1] ^= 1
    with pytest.raises(ValueError, match="does not open"):
        open_sealed(key, bytes(blob), b"aad")


@pytest.mark.parametrize("where", ["a-file", "a-file/keys"])
def test_init_with_an_unwritable_key_folder_is_one_line_and_leaves_no_database(tmp_path: Path, where: str) -> None:
    from click.testing import CliRunner

    from consentkit.cli import cli

    (tmp_path / "a-file").write_text("not a folder\n", "utf-8")
    database = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{database}", "--keys", str(tmp_path / where),
                                      "--actor", "alice", "init"])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"consentkit: error: --keys {tmp_path / where}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]

"""Build hook: compile consentkit's optional C hashing core into the wheel.

``src/consentkit/audit/_treehash.c`` hashes the leaves and nodes of the audit log's Merkle
tree a chunk per call (audit verification's fast path) through OpenSSL. It needs a C
compiler, the Python headers and OpenSSL's headers (Debian: ``gcc python3-dev libssl-dev``).
Without them the wheel is built without it and verification computes the same hashes with
hashlib, more slowly: the build says so and goes on.

An editable install (``pip install -e``) compiles the module next to its source, where the
checkout is imported from; a wheel carries it as a platform wheel.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/consentkit/audit/_treehash.c")
MODULE = "consentkit/audit/_treehash"


class TreeHashBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"
    _scratch = ""  # where a wheel's copy of the module is compiled

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        source = Path(self.root) / SOURCE
        if version == "editable":
            target = source.with_name(f"_treehash{suffix}")
        else:
            self._scratch = tempfile.mkdtemp(prefix="consentkit-build-")
            target = Path(self._scratch) / f"_treehash{suffix}"
        try:
            _compile(source, target)
        except (OSError, subprocess.CalledProcessError) as exc:
            self.app.display_warning(
                f"consentkit: the C hashing core was not built ({_why(exc)}); audit verification will use "
                "hashlib (same results, slower). Install a C compiler, Python headers and OpenSSL headers "
                "to build it.")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"{MODULE}{suffix}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _compile(source: Path, target: Path) -> None:
    """Compile ``source`` into the extension module ``target`` (written whole, then moved in place)."""
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    staged = target.with_name(f".{target.name}.{os.getpid()}")
    command = [*compiler, "-O2", "-fPIC", "-shared", "-Wall", f"-I{include}", str(source), "-o", str(staged),
               "-lcrypto"]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our own compiler command
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _why(exc: OSError | subprocess.CalledProcessError) -> str:
    """The compiler's last line of complaint, or what stopped it from running."""
    if isinstance(exc, subprocess.CalledProcessError):
        lines = (exc.stderr or "").strip().splitlines()
        errors = [line for line in lines if "error" in line.lower()]  # "fatal error: openssl/evp.h: No such file"
        return (errors or lines or [f"the compiler exited with status {exc.returncode}"])[0]
    return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)

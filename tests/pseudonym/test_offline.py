"""The detector never touches the network: both engines are built and run in a fresh interpreter
whose sockets refuse every connection and name lookup, and any attempt fails the test.

presidio's defaults download a spaCy model and tldextract fetches the public-suffix list
(``pii-and-identifiers.md`` §3); the guard records every try, so a silent fallback after a
refused connection is caught as well as a crash.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

GUARD = r'''
import json, socket, sys
attempts = []
def refuse(name):
    def blocked(*args, **kwargs):
        attempts.append(name)
        raise OSError("network disabled by the offline test")
    return blocked
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.create_connection = refuse("create_connection")
socket.getaddrinfo = refuse("getaddrinfo")
socket.gethostbyname = refuse("gethostbyname")

from consentkit.pseudonym.detect import Detector, get_detector
notes = [
    ("el", "ΑΜΚΑ 15038512347, τηλ. +30 691 234 5678, email maria@example.co.uk", ("Μαρία",)),
    ("sv", "Karin Berg 850709-2388 ring 070-123 45 67 karin@post.example.se", ("Karin Berg",)),
    ("ru", "СНИЛС 112-233-445 95, паспорт 4506 123456, тел. 8 (916) 123-45-67", ("Иван Петров",)),
    ("kk", "ИИН 900101312348, +7 701 234 56 78, a@mail.kz", ("Айгүл",)),
    ("en", "IBAN GR16 0110 1250 0000 0001 2300 695, j.m@example.com", ("John Miller",)),
]
fast = [[e.type for e in get_detector().analyze(t, lang=l, known_names=n)] for l, t, n in notes]
presidio = Detector(engine="presidio")
slow = [[e.type for e in presidio.analyze(t, lang=l, known_names=n)] for l, t, n in notes]
# presidio's own e-mail recognizer validates through tldextract: the trap of presidio#1205.
from presidio_analyzer.predefined_recognizers import EmailRecognizer
stock = EmailRecognizer().analyze("mail maria@example.co.uk", ["EMAIL_ADDRESS"])
print(json.dumps({"attempts": attempts, "fast": fast, "presidio": slow, "stock_email": len(stock)}))
'''


def test_both_engines_build_and_run_with_the_network_disabled(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TLDEXTRACT", "HF_", "SPACY"))}
    env["HOME"] = str(tmp_path)  # no cached public-suffix list or model from earlier runs
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    done = subprocess.run([sys.executable, "-c", GUARD], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["fast"] == report["presidio"]
    assert report["fast"][0] == ["GR_AMKA", "PHONE_NUMBER", "EMAIL_ADDRESS"]
    assert report["stock_email"] == 1


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Sockets that refuse to connect or resolve, recording every attempt."""
    attempts: list[str] = []

    def refuse(*_args: object, **_kwargs: object) -> None:
        attempts.append("network")
        raise OSError("network disabled by the offline test")

    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_the_fast_detector_in_this_process_makes_no_connection(no_network: list[str]) -> None:
    from consentkit.pseudonym.detect import Detector

    detector = Detector()
    entities = detector.analyze("mejl a@example.se, 070-123 45 67", lang="sv")
    assert [e.type for e in entities] == ["EMAIL_ADDRESS", "PHONE_NUMBER"]
    assert no_network == []


def test_the_guard_itself_catches_a_connection(no_network: list[str]) -> None:
    with pytest.raises(OSError, match="network disabled"):
        socket.create_connection(("127.0.0.1", 9))
    assert no_network == ["network"]


def test_the_fast_engine_and_the_cli_never_import_presidio_or_spacy() -> None:
    code = ("import sys, consentkit.cli\n"
            "from consentkit.pseudonym.detect import get_detector\n"
            "get_detector().analyze('ring 070-123 45 67', lang='sv')\n"
            "print(sorted(m for m in ('presidio_analyzer', 'spacy', 'tldextract') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"

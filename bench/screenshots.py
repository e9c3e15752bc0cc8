#!/usr/bin/env python3
"""Render the HTML reports of a small installation and photograph them in headless Chromium.

Usage: .venv/bin/python bench/screenshots.py [--out docs/img] [--chromium /usr/bin/chromium]

Writes ``report-subject.png``, ``report-dpo.png`` and ``report-ropa.png`` (and the HTML they
were taken from, under a temporary folder). A person checks a page by looking at it: these
are the pictures the README shows. Chromium is Debian's ``chromium`` package.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from consentkit.clock import FixedClock
from consentkit.kit import ConsentKit
from consentkit.types import Role

HERE = Path(__file__).resolve().parent
ORGANISATION = """\
controller:
  name: Östersund municipality, social services board
  address: Rådhusgatan 42, 831 82 Östersund
  email: socialtjanst@example.invalid
dpo: {name: Data protection officer, email: dataskydd@example.invalid}
holidays: [2026-04-03, 2026-04-06, 2026-05-01]
office_hours: {start: 7, end: 18, utc_offset_minutes: 60}
anomalies: {overrides_per_actor: 1, reidentifications_per_actor: 5}
security_measures: [Yearly confidentiality training for all staff]
activities:
  - id: addiction-care
    name: Addiction care and support (social services act)
    jurisdiction: se
    purposes: [treatment, care-coordination, child-protection]
    data_subjects: [clients, relatives of clients]
    categories: [identity, contact, substance-use, health, family, case-notes]
    recipients: [treatment-provider, healthcare, child-protection-unit, police]
    retention: Entries are deleted five years after the last entry (gallring), with the statutory exceptions.
"""


def _scenario(directory: Path) -> tuple[ConsentKit, ConsentKit, str, Path]:
    """A week at a Swedish social-services office; returns the supervisor, the DPO, a client, the org file."""
    clock = FixedClock(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    url = f"sqlite:///{directory / 'consentkit.db'}"
    keys = directory / "keys"
    admin, _ = ConsentKit.init(url, keys, actor="admin", clock=clock)
    for actor, role in (("linda", Role.CASEWORKER), ("magnus", Role.SUPERVISOR), ("dpo", Role.DPO)):
        admin.add_actor(actor, [role])
    cas, sup, dpo = (ConsentKit.open(url, keys, actor=a, clock=clock) for a in ("linda", "magnus", "dpo"))
    linnea = cas.add_subject(jurisdiction="se", name="Linnea Andersson", birth_date=date(1991, 6, 14),
                             contact="070-123 45 67", language="sv").subject_id
    others = [cas.add_subject(jurisdiction=j, name=n, birth_date=date(1980 + i, 2, 3), language=lang).subject_id
              for i, (j, n, lang) in enumerate((("se", "Johan Berg", "sv"), ("gr", "Nikos Georgiou", "el"),
                                                ("ru", "Дмитрий Соколов", "ru")))]
    first = cas.grant_consent(linnea, recipients=["treatment-provider:beroendemottagningen"],
                              purposes=["treatment", "care-coordination"],
                              categories=["identity", "substance-use", "health"], notice_version="2026-01")
    cas.consent_receipt(first.grant.consent_id)
    family = cas.grant_consent(linnea, recipients=["family-member"], purposes=["family-support"],
                               categories=["identity", "contact"], notice_version="2026-01", form="verbal",
                               witness="Erik Andersson")
    cas.grant_consent(linnea, recipients=["police"], purposes=["crime-prevention"], categories=["case-notes"],
                      refuse=True, notice_version="2026-01")
    cas.grant_consent(others[0], recipients=["healthcare"], purposes=["treatment"], categories=["identity"],
                      notice_version="2026-01")
    for day, hour in ((3, 9), (4, 13), (5, 10)):
        clock.current = datetime(2026, 3, day, hour, 0, tzinfo=UTC)
        cas.check(linnea, recipient="treatment-provider:beroendemottagningen", purpose="care-coordination",
                  categories=["identity", "substance-use"])
        cas.check(others[0], recipient="healthcare", purpose="treatment", categories=["identity"])
    cas.check(linnea, recipient="police", purpose="crime-prevention", categories=["case-notes"])
    clock.current = datetime(2026, 3, 5, 21, 40, tzinfo=UTC)
    cas.check(linnea, recipient="healthcare", purpose="emergency-care", categories=["identity", "health"],
              override="vital-interests", justification="unconscious in the waiting room; ambulance called")
    clock.current = datetime(2026, 3, 6, 9, 15, tzinfo=UTC)
    cas.withdraw_consent(family.grant.consent_id,
                         reason="Does not want her brother Erik Andersson to receive anything more")
    sup.hold_subject(others[1], reason="court case pending")
    sup.open_access_request(linnea, received=date(2026, 3, 5), channel="electronic")
    sup.open_access_request(others[2], received=date(2026, 2, 9))
    sup.checkpoint()
    org = directory / "organisation.yaml"
    org.write_text(ORGANISATION, "utf-8")
    return sup, dpo, linnea, org


def _shoot(chromium: str, html: Path, png: Path, height: int) -> None:
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--force-device-scale-factor=1", f"--window-size=1100,{height}", f"--screenshot={png}",
                    html.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "img")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        sys.exit("chromium is missing: apt-get install -y chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        sup, dpo, linnea, org = _scenario(directory)
        pages = {
            "report-subject": (sup.report_subject(linnea, lang="sv", organisation=org,
                                                  out=directory / "subject.html"), 4300),
            "report-dpo": (dpo.report_dpo(date(2026, 3, 1), date(2026, 3, 7), organisation=org,
                                          out=directory / "dpo.html"), 2500),
            "report-ropa": (dpo.report_ropa(organisation=org, out=directory / "ropa.html"), 1500),
        }
        for name, (report, height) in pages.items():
            assert report.path is not None
            _shoot(args.chromium, report.path, args.out / f"{name}.png", height)
            print(f"{args.out / f'{name}.png'} from {report.kind} report ({report.lang})", file=sys.stderr)
        for kit in (sup, dpo):
            kit.close()


if __name__ == "__main__":
    main()

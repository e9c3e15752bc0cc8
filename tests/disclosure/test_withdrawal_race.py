"""A withdrawal racing with checks (SQLite and PostgreSQL): decisions and the withdrawal are
serialised, so no permit rests on a consent already withdrawn and the withdrawal names every
recipient that received data under the consent before it."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

from consentkit.clock import SystemClock
from consentkit.kit import ConsentKit
from consentkit.storage.audit_log import AuditFilter
from consentkit.types import Role

CHECKERS = 3


def test_checks_racing_a_withdrawal_never_miss_a_recipient(db_url: str, keys_dir: Path) -> None:
    kit, _ = ConsentKit.init(db_url, keys_dir, actor="ada", roles=(Role.CASEWORKER, Role.SUPERVISOR))
    with kit:
        subject = kit.add_subject(jurisdiction="eu-gdpr", name="Anna Test", birth_date=date(1990, 1, 1)).subject_id
        consent = kit.grant_consent(subject, recipients=["treatment-provider"], purposes=["treatment"],
                                    categories=["identity"], notice_version="2026-01").grant.consent_id
        checkers = [ConsentKit.open(db_url, keys_dir, actor="ada", clock=SystemClock()) for _ in range(CHECKERS)]
        withdrawn = threading.Event()
        errors: list[BaseException] = []

        def check(own: ConsentKit, name: str) -> None:
            try:
                after = 0
                for i in range(400):
                    own.check(subject, recipient=f"treatment-provider:{name}-{i}", purpose="treatment",
                              categories=["identity"])
                    after += withdrawn.is_set()
                    if after > 5:
                        return
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=check, args=(own, f"t{n}")) for n, own in enumerate(checkers)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        withdrawal = kit.withdraw_consent(consent, reason="the client changed her mind")
        withdrawn.set()
        for thread in threads:
            thread.join()
        for own in checkers:
            own.close()
        assert not errors, errors
        [event] = kit.audit_log(AuditFilter(action="consent.withdrawn"))
        permitted = [d for d in kit.disclosures(subject) if consent in d.consent_ids]
        assert permitted, "no check ran before the withdrawal: the race was not exercised"
        assert all(d.audit_seq < event.seq for d in permitted), "a permit was logged after the withdrawal"
        told = {r["recipient_id"] for r in withdrawal.recipients_to_tell}
        assert told == {d.recipient_id for d in permitted}

"""Friday afternoon: the subject-access, DPO and records-of-processing reports (HTML).

Linnea asked on Thursday for everything held about her (GDPR Art. 15): her report is in
Swedish, lists the SIP disclosure and her withdrawn consent, and leaves out the child-welfare
report, which the ``se`` pack restricts (the reporter's identity can be secret even against
her, OSL 26:5). Dmitry's is in Russian under 152-FZ art. 14(7), with its 10-working-day
deadline. Erlan's request gets the plain answer that he was erased. The DPO's report covers
the week; the records of processing (GDPR Art. 30) come from the packs in use.
"""

from __future__ import annotations

from datetime import timedelta

from consentkit.demo.scenes.oversight import DPO
from consentkit.demo.stage import Group, SceneResult, Stage

__all__ = ["reports"]


def reports(stage: Stage) -> SceneResult:
    """Three subject-access reports, the DPO's week and the records of processing."""
    stage.at(4, "14:00")
    kit = stage.as_(DPO)
    folder = stage.folder("reports")
    thursday = (stage.monday + timedelta(days=3)).date()
    lines, due = [], {}
    for key, label in (("linnea", "Linnea's subject-access report (sv)"),
                       ("dmitry", "Dmitry's subject-access report (ru)"),
                       ("erlan", "Erlan's subject-access answer (erased)")):
        path = folder / f"subject-access-{key}.html"
        request = kit.open_access_request(stage.subjects[key], received=thursday)
        report = kit.report_subject(stage.subjects[key], out=path, request_id=request.request_id)
        kit.close_access_request(request.request_id, outcome="answered")
        stage.wrote(path, label, Group.REPORTS)
        due[key] = request.due_on
        lines.append(f"{label}: language {report.lang}, status {report.summary.get('status')}, "
                     f"received {request.received_on}, due {request.due_on} (audit entry {report.audit_id})")
    friday = (stage.monday + timedelta(days=4)).date()
    dpo = kit.report_dpo(stage.monday.date(), friday, out=folder / "dpo-week.html")
    stage.wrote(folder / "dpo-week.html", "the DPO's report of the week", Group.REPORTS)
    ropa = kit.report_ropa(out=folder / "records-of-processing.html")
    stage.wrote(folder / "records-of-processing.html", "records of processing (GDPR Art. 30)", Group.REPORTS)
    lines += [f"DPO report {dpo.summary.get('from')} to {dpo.summary.get('to')}: audit integrity "
              f"{'ok' if dpo.summary.get('integrity_ok') else 'DAMAGED'} (audit entry {dpo.audit_id})",
              f"records of processing: {ropa.summary.get('activities')} activities (audit entry {ropa.audit_id})"]
    return SceneResult(
        f"Reports · subject access for Linnea (sv, due {due['linnea']}), Dmitry (ru, due {due['dmitry']}) and "
        f"Erlan (erased); the DPO's week; the records of processing",
        details=lines,
        data={"subjects": {key: stage.subjects[key] for key in due}, "due": due,
              "dpo_integrity_ok": dpo.summary.get("integrity_ok"),
              "activities": ropa.summary.get("activities")})

"""Audit PDFs: built by the real worker, read back with pypdf, verified by their sha256."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from governance.approvals.models import PromotionRequest, RequestStatus
from governance.audit.models import AuditEvent
from governance.evidence.models import Artifact
from governance.policies.services import policy_publish
from governance.reports.models import Report
from tests.conftest import wait_for
from tests.factories import api_client, attach_full_evidence, grant, make_model, make_team, make_user, make_version

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

POLICY = """
name: credit-regulated
applies_to: {models: [scorecard]}
transitions:
  staging->production:
    gates:
      - {id: auc_not_worse, type: performance, metric: auc, max_drop: 0.05}
      - {id: gender_parity, type: fairness, metric: disparate_impact_ratio, sensitive: [gender], min: 0.8}
      - {id: p95_latency, type: latency, percentile: 95, max_ms: 150}
      - {id: docs_complete, type: documentation}
    approvals: [{role: model_owner}, {role: risk_officer}, {role: compliance_officer}]
"""


@pytest.fixture
def promoted(celery_worker):
    """scorecard v1 promoted to production through the API by three named approvers."""
    team = make_team("credit")
    users = {n: make_user(n) for n in ("pipeline", "olivia", "rafael", "carmen", "outsider")}
    grant(users["pipeline"], "mlops", team=team)
    grant(users["olivia"], "model_owner", team=team)
    grant(users["rafael"], "risk_officer", team=team)
    grant(users["carmen"], "compliance_officer", team=team)
    model = make_model("scorecard", team=team, risk_tier="regulated")
    version = make_version(model, users["pipeline"], stage="staging")
    attach_full_evidence(users["pipeline"], version)
    policy_publish(text=POLICY, reason="test")
    clients = {n: api_client(u) for n, u in users.items()}
    r = clients["pipeline"].post(
        "/api/v1/models/scorecard/versions/1/promotions/",
        {"to_stage": "production", "justification": "quarterly refresh", "ticket_id": "CHG-1001"},
        format="json",
    )
    assert r.status_code == 201, r.content
    request_id = r.json()["id"]
    wait_for(
        lambda: PromotionRequest.objects.get(pk=request_id).status != RequestStatus.AWAITING_GATES,
        timeout=90,
        interval=0.05,
        message="gates to finish",
    )
    for name, ticket in (("olivia", "OWN-11"), ("rafael", "RISK-202"), ("carmen", "COMP-303")):
        r = clients[name].post(
            f"/api/v1/promotions/{request_id}/decisions/",
            {
                "decision": "approve",
                "reason": f"{name} reviewed the evidence",
                "risk_class": "medium",
                "ticket_id": ticket,
            },
            format="json",
        )
        assert r.status_code == 201, r.content
    assert r.json()["status"] == "promoted"
    return {"request_id": request_id, "clients": clients, "users": users, "version": version}


def _download(client, path: str) -> tuple[bytes, dict]:
    """GET a report URL; follow the job when the worker takes longer than the sync wait."""
    r = client.get(path)
    if r.status_code == 202:
        job = r.json()
        assert job["status"] in ("queued", "running", "done") and 0 <= job["progress"] <= 1
        job = wait_for(
            lambda: (lambda j: j if j["status"] in ("done", "error") else None)(client.get(r["Location"]).json()),
            timeout=120,
            message="the report to be built",
        )
        assert job["status"] == "done", job
        r = client.get(job["download_url"])
    assert r.status_code == 200, r.content[:500]
    assert r["Content-Type"] == "application/pdf"
    data = b"".join(r.streaming_content)
    return data, r


def _text(pdf: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def _drawn_forms(reader: PdfReader) -> int:
    """Embedded images or vector forms (WeasyPrint draws an SVG chart as a form XObject)."""
    count = 0
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        count += len(xobjects)
    return count


def test_the_request_report_lays_out_the_charts_drawn_ahead_and_names_approvers_tickets_gates_and_hashes(
    promoted, celery_worker
):
    """The worker drew the charts of the finished gates (performance, fairness, latency) when
    the gates finished, so the PDF only lays them out; drawing them again finds them all in the
    chart store. (One test with the report: the promoted world costs a worker round each.)"""
    from governance.reports.models import ChartImage
    from governance.reports.services import gate_charts_draw

    wait_for(lambda: ChartImage.objects.count() >= 3, timeout=60, interval=0.05, message="charts drawn by the worker")
    assert all(svg.lstrip().startswith("<svg") for svg in ChartImage.objects.values_list("svg", flat=True))
    assert gate_charts_draw(request_id=promoted["request_id"]) == 0

    client = promoted["clients"]["carmen"]
    pdf, response = _download(client, f"/api/v1/promotions/{promoted['request_id']}/report.pdf")
    text, reader = _text(pdf)
    flat = " ".join(text.split())
    for ticket in ("CHG-1001", "OWN-11", "RISK-202", "COMP-303"):
        assert ticket in flat
    for user in ("olivia", "rafael", "carmen"):
        assert user in flat
    for gate in ("auc_not_worse", "gender_parity", "p95_latency", "docs_complete"):
        assert gate in flat
    # The outcome table says the performance number is AUC's drop against the baseline.
    assert "auc drop" in flat
    predictions = Artifact.objects.get(version=promoted["version"], kind="predictions")
    assert predictions.blob_id in flat.replace(" ", "") or predictions.blob_id in text.replace("\n", "")
    # Charts are embedded, one per charted gate at least (performance, fairness, latency).
    assert _drawn_forms(reader) >= 3
    # Page numbers, metadata, a tagged PDF.
    assert "Page 1 of" in flat or "Page 2 of" in flat
    assert reader.metadata.title.startswith("Promotion request #")
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    # The sha256 of the file is an audit event and the header says so.
    digest = hashlib.sha256(pdf).hexdigest()
    assert response["X-Report-Sha256"] == digest
    report = Report.objects.get(sha256=digest)
    assert AuditEvent.objects.filter(action="report.generated", data__sha256=digest).exists()
    assert AuditEvent.objects.filter(action="report.downloaded", object_id=str(report.pk)).exists()


def test_a_pdf_we_made_verifies_and_an_altered_one_does_not(promoted, celery_worker):
    client = promoted["clients"]["carmen"]
    pdf, _ = _download(client, "/api/v1/models/scorecard/versions/1/report.pdf")
    r = client.post("/api/v1/reports/verify/", {"file": SimpleUploadedFile("r.pdf", pdf)}, format="multipart")
    assert r.status_code == 200
    body = r.json()
    assert body["match"] is True
    assert body["report"]["scope"] == "version" and body["report"]["generated_by"] == "carmen"
    middle = len(pdf) // 2
    altered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]  # one bit flipped
    r = client.post("/api/v1/reports/verify/", {"file": SimpleUploadedFile("r.pdf", altered)}, format="multipart")
    assert r.json() == {"match": False, "report": None}
    r = client.post("/api/v1/reports/verify/", {}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]
    assert AuditEvent.objects.filter(action="report.verified").count() == 2


def test_reports_need_the_export_right_bad_periods_are_400_and_a_period_report_runs_on_the_worker(
    promoted, celery_worker
):
    """Refused first (no right to export, bad periods: nothing queued), then a good period
    report runs on the worker with progress and an email. (One test: the promoted world costs
    a worker round each.)"""
    outsider = promoted["clients"]["outsider"]
    assert outsider.get(f"/api/v1/promotions/{promoted['request_id']}/report.pdf").status_code == 404
    pipeline = promoted["clients"]["pipeline"]  # mlops may see the model but not export
    r = pipeline.get(f"/api/v1/promotions/{promoted['request_id']}/report.pdf")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    carmen = promoted["clients"]["carmen"]
    for body, field in (
        ({"scope": "period", "since": "2026-02-30T00:00:00Z"}, "since"),
        ({"scope": "period", "since": "2026-03-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"scope": "period", "since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"scope": "model", "since": "2026-01-01T00:00:00Z"}, "scope"),
        ({"scope": "period", "since": "2026-01-01T00:00:00Z", "team": "nope"}, "team"),
    ):
        r = carmen.post("/api/v1/reports/", body, format="json")
        assert r.status_code == 400, (body, r.content)
        assert field in r.json()["error"]["fields"], r.json()
    assert not Report.objects.filter(scope="period").exists()  # nothing queued for the refused bodies
    assert carmen.get("/api/v1/reports/999999/").status_code == 404

    client = carmen
    since = (timezone.now() - timedelta(days=1)).isoformat()
    r = client.post("/api/v1/reports/", {"scope": "period", "since": since}, format="json")
    assert r.status_code == 202, r.content
    job = r.json()
    assert job["status"] == "queued" and job["download_url"] is None
    seen = []

    def finished():
        state = client.get(f"/api/v1/reports/{job['id']}/").json()
        seen.append((state["status"], state["progress"]))
        return state if state["status"] in ("done", "error") else None

    state = wait_for(finished, timeout=120, interval=0.1, message="the period report")
    assert state["status"] == "done" and state["progress"] == 1.0 and len(state["sha256"]) == 64
    progress = [p for s, p in seen if s == "running"]
    assert progress == sorted(progress)  # it only moves forward
    pdf = b"".join(client.get(state["download_url"]).streaming_content)
    text, _ = _text(pdf)
    assert f"#{promoted['request_id']}" in text and "RISK-202" in text
    # The worker emailed the requester the link (its backend is the worker's; the content is
    # checked in-process below).
    assert Report.objects.get(pk=job["id"]).notified_at is not None


def test_the_ready_email_links_the_report_page(promoted, stopped_celery_worker, mailoutbox):
    """Built in this process (the same service the worker runs), so the email is readable here.
    The worker is stopped once the world is promoted: the build report_start queues must not
    be claimed by it before this process builds the report."""
    from governance.reports.services import report_build, report_start

    carmen = promoted["users"]["carmen"]
    carmen.email = "carmen@bank.example"
    carmen.save()
    report = report_start(user=carmen, scope="model", model=promoted["version"].model)
    mailoutbox.clear()
    assert report_build(report_id=report.pk) == "done"
    assert report_build(report_id=report.pk) == "done"  # a redelivered task builds nothing twice
    [mail] = [m for m in mailoutbox if "Report ready" in m.subject]
    assert mail.to == ["carmen@bank.example"]
    assert "scorecard: the model's history" in mail.subject
    report = Report.objects.get(pk=report.pk)
    assert f"/reports/{report.pk}/" in mail.body and report.sha256 in mail.body
    # The model's PDF carries its production history: who served, through which request,
    # approved by whom, on which policy.
    text, reader = _text(report.file.open("rb").read())
    flat = " ".join(text.split())
    assert "Production history" in flat
    assert f"#{promoted['request_id']}" in flat and "rafael (risk_officer, RISK-202)" in flat
    assert "serving" in flat and "credit-regulated" in flat
    assert reader.metadata.title == "scorecard: the model's history"
    # How to verify: the chain head, the evidence hashes and the replay command.
    assert "manage.py verify_audit" in flat and "manage.py replay_gates" in flat

"""The report buttons and pages: who sees them, what a click gives, verifying a PDF held."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.approvals.services import promotion_decide, promotion_request
from governance.audit.models import AuditEvent
from governance.policies.services import policy_publish
from governance.reports.models import Report
from tests.conftest import wait_for
from tests.factories import grant, make_model, make_team, make_user, make_version

POLICY = """
name: no-gates
applies_to: {models: [pricing]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: risk_officer}]
"""


@pytest.fixture
def setup(db):
    team = make_team("pricing-team")
    people = {n: make_user(n) for n in ("mlops", "risk", "auditor", "stranger")}
    grant(people["mlops"], "mlops", team=team)
    grant(people["risk"], "risk_officer", team=team)
    grant(people["auditor"], "auditor", team=team)
    model = make_model("pricing", team=team)
    version = make_version(model, people["mlops"], stage="staging")
    policy_publish(text=POLICY, reason="test")
    request = promotion_request(user=people["mlops"], version=version, to_stage="production", justification="go")
    promotion_decide(
        user=people["risk"], request=request, decision="approve", reason="fine", risk_class="low", ticket_id="R-1"
    )
    return {**people, "model": model, "version": version, "request": request}


@pytest.mark.django_db
def test_export_roles_see_the_buttons_and_others_do_not(client, setup):
    pages = [f"/requests/{setup['request'].pk}/", "/models/pricing/v1/", "/models/pricing/"]
    client.force_login(setup["auditor"])
    for page in pages:
        html = client.get(page).content.decode()
        assert "/report/" in html, page
    client.force_login(setup["mlops"])  # may see the model, may not export
    for page in pages:
        assert "/report/" not in client.get(page).content.decode(), page
    assert client.post(f"/requests/{setup['request'].pk}/report/").status_code == 403
    assert not Report.objects.exists()
    client.force_login(setup["stranger"])
    assert client.post(f"/requests/{setup['request'].pk}/report/").status_code == 404
    assert client.get(f"/requests/{setup['request'].pk}/report/").status_code in (404, 405)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_click_gives_the_pdf_or_the_progress_page_then_the_pdf(client, setup, celery_worker):
    client.force_login(setup["auditor"])
    r = client.post(f"/requests/{setup['request'].pk}/report/")
    assert r.status_code == 302
    report = Report.objects.get()
    if r["Location"].endswith("/file.pdf"):  # the worker was done within the wait
        assert r["Location"] == f"/reports/{report.pk}/file.pdf"
    else:  # still building: the report page follows it
        assert r["Location"] == f"/reports/{report.pk}/"
        page = client.get(r["Location"]).content.decode()
        assert "report-progress" in page
        wait_for(lambda: Report.objects.get().status == "done", timeout=90, message="the report")
    r = client.get(f"/reports/{report.pk}/file.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    pdf = b"".join(r.streaming_content)
    assert pdf.startswith(b"%PDF-")
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert Report.objects.get().sha256 in page and "Download PDF" in page
    # The model PDF is always a job: the page first, the file when done.
    r = client.post("/models/pricing/report/")
    model_report = Report.objects.get(scope="model")
    assert r["Location"] == f"/reports/{model_report.pk}/"
    wait_for(lambda: Report.objects.get(scope="model").status == "done", timeout=90, message="the model report")
    # Verify: the PDF held matches, a changed copy does not.
    r = client.post("/reports/verify/", {"file": SimpleUploadedFile("mine.pdf", pdf)})
    assert r.status_code == 200 and 'data-verify="match"' in r.content.decode()
    assert f"report #{report.pk}" in r.content.decode()
    r = client.post("/reports/verify/", {"file": SimpleUploadedFile("mine.pdf", pdf + b"\n%edited")})
    assert 'data-verify="no-match"' in r.content.decode()
    assert client.post("/reports/verify/", {}).status_code == 400
    downloads = AuditEvent.objects.filter(action="report.downloaded", data__via="web")
    assert downloads.count() == 1 and downloads.get().actor_label == "auditor"


@pytest.mark.django_db
def test_the_period_form_refuses_bad_periods_with_field_errors(client, setup):
    client.force_login(setup["auditor"])
    r = client.post("/reports/", {"since": "2026-03-01", "until": "2026-01-01"})
    assert r.status_code == 400 and "The last day is before the first." in r.content.decode()
    r = client.post("/reports/", {"since": "2026-02-30", "until": "2026-03-01"})
    assert r.status_code == 400 and "Enter a valid date." in r.content.decode()
    r = client.post("/reports/", {"since": "2024-01-01", "until": "2026-03-01"})
    assert r.status_code == 400 and "at most 366 days" in r.content.decode()
    r = client.post("/reports/", {"since": "2026-01-01\x00", "until": "2026-03-01"})
    assert r.status_code == 400
    assert not Report.objects.exists()
    # Another user's report is not found, the list shows only what the user may see.
    report = Report.objects.create(scope="period", title="x", requested_by=setup["risk"])
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/reports/{report.pk}/file.pdf").status_code == 404

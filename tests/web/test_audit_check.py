"""The chain check run from the audit page, through the real Celery worker: compliance asks,
the panel polls while it runs, then shows the verdict and the chain head."""

from __future__ import annotations

import pytest
from django.db import transaction

from governance.audit.models import AuditChainCheck, AuditEvent
from governance.audit.services import audit_head, audit_record
from tests.conftest import wait_for
from tests.factories import grant, make_user
from tests.tamper import AUDIT_TRIGGERS, guards_off

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def compliance(team):
    user = make_user("carla")
    grant(user, "compliance_officer", team=team)
    return user


def _events(n):
    with transaction.atomic():
        for i in range(n):
            audit_record(actor=None, action="promotion.approved", model_name="credit-scoring", data={"i": i})


def _finished():
    check = AuditChainCheck.objects.first()
    return check if check is not None and check.finished_at is not None else None


def test_compliance_runs_the_check_and_sees_it_run_then_its_verdict(client, compliance, stopped_celery_worker):
    """The worker is started only after both asks are in, so the second ask always finds the
    first check still running (a fast worker could otherwise finish it in between)."""
    _events(4)
    client.force_login(compliance)
    panel = client.get("/audit/check/").content.decode()
    head_seq, head_hash = audit_head()
    assert f"event #{head_seq}" in panel and head_hash in panel
    assert "Never run from this page" in panel and "Verify the whole chain now" in panel
    assert "hx-trigger" not in panel

    running = client.post("/audit/check/", **HTMX).content.decode()
    assert running.lstrip().startswith('<section id="audit-check"')
    assert 'hx-trigger="every 2s"' in running and "Checking…" in running and "carla" in running
    assert "<html" not in running  # the panel alone, swapped in place
    client.post("/audit/check/", **HTMX)  # asked twice while it runs: still one check
    assert AuditChainCheck.objects.count() == 1
    stopped_celery_worker.start()
    check = wait_for(_finished, timeout=60, message="the worker to finish the chain check")
    assert AuditChainCheck.objects.count() == 1
    assert check.ok is True and check.requested_by == compliance
    assert check.checked == check.head_seq >= 5 and len(check.head_hash) == 64

    done = client.get("/audit/check/", **HTMX).content.decode()
    assert "hx-trigger" not in done  # polling stops
    assert "intact" in done and f"{check.checked} events verified up to event #{check.head_seq}" in done


def test_a_broken_chain_is_shown_with_the_first_bad_event(client, compliance, celery_worker):
    _events(5)
    with guards_off(*AUDIT_TRIGGERS) as cursor:
        cursor.execute("UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE seq = 3")
    client.force_login(compliance)
    response = client.post("/audit/check/")  # without htmx: back to the audit page
    assert response.status_code == 302 and response["Location"] == "/audit/"
    check = wait_for(_finished, timeout=60, message="the worker to finish the chain check")
    assert check.ok is False and check.first_bad_seq == 3 and check.checked == 2
    panel = client.get("/audit/check/").content.decode()
    assert "broken" in panel and "at event #3: content does not match its hash (edited)" in panel
    assert AuditEvent.objects.count() >= 5


@pytest.mark.parametrize("role", [None, "model_owner", "risk_officer"])
def test_people_who_may_not_run_it_get_403_and_start_nothing(client, team, role):
    user = make_user("someone")
    if role:
        grant(user, role, team=team)
    client.force_login(user)
    assert client.get("/audit/check/").status_code == 403
    assert client.post("/audit/check/", **HTMX).status_code == 403
    assert not AuditChainCheck.objects.exists()


def test_auditors_and_admins_may_run_it_and_bad_methods_are_405(client, team, admin_user):
    auditor = make_user("audrey")
    grant(auditor, "auditor", team=team)
    client.force_login(auditor)
    assert client.get("/audit/check/").status_code == 200
    assert client.put("/audit/check/").status_code == 405
    client.force_login(admin_user)
    assert "Verify the whole chain now" in client.get("/audit/check/").content.decode()
    client.logout()
    assert client.get("/audit/check/").status_code == 302  # to the login page


def test_the_audit_page_shows_the_panel_to_those_who_may_run_it(client, compliance, alice):
    client.force_login(compliance)
    page = client.get("/audit/").content.decode()
    assert 'id="audit-check"' in page and "Verify the whole chain now" in page
    assert page.index('id="audit-check"') < page.index('class="panel filters')  # above the filters
    client.force_login(alice)  # a model owner: the events of their models, no chain check
    page = client.get("/audit/").content.decode()
    assert client.get("/audit/").status_code == 200 and 'id="audit-check"' not in page

"""seed_demo: the same demo every time, with and without a worker, on PostgreSQL and SQLite.

Each test seeds twice and compares a normalised snapshot of everything the demo made
(models, versions and stages, requests and their statuses, gate outcomes, decisions, role
grants, evidence and documents per version): the second run completes nothing and
records nothing.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from guardian.shortcuts import get_user_perms

from governance.accounts.models import Team
from governance.accounts.services import role_grant, team_create
from governance.approvals.models import PromotionRequest
from governance.audit.models import AuditEvent
from governance.demo.engine import demo_deviations
from governance.demo.scenarios import PASSWORD, PEOPLE, SCENARIOS
from governance.policies.models import Policy
from governance.registry.models import RegisteredModel
from tests.conftest import wait_for

ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


def demo_snapshot() -> dict:
    """Everything the demo made, without ids, times or hashes that differ between databases."""
    models = {}
    for model in RegisteredModel.objects.select_related("team").order_by("name"):
        versions = {}
        for version in model.versions.order_by("version"):
            requests = [
                {
                    "move": f"{request.from_stage}->{request.to_stage}",
                    "status": request.status,
                    "requested_by": request.requested_by.username,
                    "policy": request.policy_name,
                    "gates": {run.gate_id: run.status for run in request.gate_runs.all()},
                    "decisions": sorted((d.user.username, d.role, d.decision) for d in request.decisions.all()),
                }
                for request in version.promotion_requests.select_related("requested_by").order_by("requested_at", "pk")
            ]
            versions[version.version] = {
                "stage": version.stage,
                "evidence": sorted(version.artifacts.values_list("kind", "original_name")),
                "documents": sorted(version.documents.values_list("kind", "revision")),
                "requests": requests,
            }
        models[model.name] = {"team": model.team.name, "risk_tier": model.risk_tier, "versions": versions}
    users = list(get_user_model().objects.order_by("username"))
    teams = list(Team.objects.order_by("name"))
    return {
        "models": models,
        "users": {u.username: {"staff": u.is_staff, "superuser": u.is_superuser} for u in users},
        "roles": {(user.username, team.name): sorted(get_user_perms(user, team)) for user in users for team in teams},
        "policies": {p.name: p.current_version.number for p in Policy.objects.select_related("current_version")},
    }


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def request_of(model: str, version: int, to_stage: str) -> PromotionRequest:
    return PromotionRequest.objects.filter(
        version__model__name=model, version__version=version, to_stage=to_stage
    ).latest("requested_at")


def assert_it_is_the_tour(snapshot: dict, *, worker: bool) -> None:
    """What the README tour shows, and the scenarios' own expected end state."""
    waiting, deviations = demo_deviations()
    assert deviations == []
    # Without a worker, the three requests the tour leaves to it wait for their gates.
    assert len(waiting) == (0 if worker else 3), waiting
    models = snapshot["models"]
    assert set(models) == {scenario.model for scenario in SCENARIOS}
    credit = models["credit-risk-scorecard"]["versions"]
    assert [credit[n]["stage"] for n in (1, 2, 3)] == ["deprecated", "production", "staging"]
    assert credit[3]["requests"][-1]["status"] == ("awaiting_approvals" if worker else "awaiting_gates")
    failed = request_of("ecommerce-recommender", 2, "production")
    assert failed.status == "gates_failed"
    latency = failed.gate_runs.get(gate_id="p95_latency")
    assert latency.status == "failed" and round(latency.outcome["value"]) == 187
    xray = models["chest-xray-triage"]["versions"][2]["requests"][-1]
    assert xray["status"] == "awaiting_approvals"
    assert xray["decisions"] == [("clinician", "domain_expert", "approve")]
    assert snapshot["roles"][("clinician", "radiology-ai")] == ["role_domain_expert"]
    assert snapshot["roles"][("risk", "radiology-ai")] == []
    assert snapshot["roles"][("admin", "credit-risk")] == [] and snapshot["users"]["admin"]["staff"]
    assert len(snapshot["policies"]) == 6


@pytest.fixture
def no_worker():
    """Tasks go to a queue nobody consumes, even when the session's worker runs already."""
    from governance.celery import app

    queue = f"{settings.CELERY_TASK_DEFAULT_QUEUE}-no-worker"
    app.conf.task_default_queue = queue
    try:
        yield
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        with app.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)


def _an_older_demos_clinician() -> None:
    """An older demo gave everybody every role: seeding again takes the extra ones back."""
    clinician = get_user_model().objects.create_user("clinician")
    role_grant(actor=None, user=clinician, role="risk_officer", team=team_create(actor=None, name="credit-risk"))


def assert_access_is_limited(client) -> None:
    """A demo user gets 404 on another team's model and sees their own."""
    User = get_user_model()
    expectations = {
        "clinician": {"chest-xray-triage": 200, "credit-risk-scorecard": 404, "fraud-detector": 404},
        "risk": {"credit-risk-scorecard": 200, "fraud-detector": 200, "chest-xray-triage": 404},
        "auditor": {"credit-risk-scorecard": 200, "ecommerce-recommender": 404},
        "product": {"ecommerce-recommender": 200, "ridesharing-eta": 200, "credit-risk-scorecard": 404},
        "admin": {name: 200 for name in ("credit-risk-scorecard", "chest-xray-triage", "ridesharing-eta")},
    }
    for username, pages in expectations.items():
        client.force_login(User.objects.get(username=username))
        for model, status in pages.items():
            assert client.get(f"/models/{model}/").status_code == status, (username, model)
    client.force_login(User.objects.get(username="clinician"))
    listing = client.get("/models/").content.decode()
    assert "chest-xray-triage" in listing and "credit-risk-scorecard" not in listing


# Real commits on PostgreSQL: tasks are dispatched, to a queue nobody reads. SQLite cannot
# flush the append-only audit table after such a test, so there it runs in a transaction
# rolled back at the end: nothing is dispatched; the seed computes its gates in-process.
@pytest.mark.smoke
@pytest.mark.django_db(transaction=not ON_SQLITE)
def test_it_seeds_the_same_demo_twice_without_a_worker(no_worker, client):
    _an_older_demos_clinician()
    assert "revoked 1 role(s) from clinician on credit-risk" in seed()
    first, events = demo_snapshot(), AuditEvent.objects.count()
    output = seed()
    assert demo_snapshot() == first
    assert AuditEvent.objects.count() == events  # the second run recorded nothing
    assert output.count("(already complete)") == len(SCENARIOS)
    assert "Demo logins" in output and "clinician" in output
    assert_it_is_the_tour(first, worker=False)
    assert_access_is_limited(client)
    # Every demo person the seed created signs in with the demo password (one hash computed
    # for all of them); the clinician an older demo made keeps the password it had.
    for person in PEOPLE:
        signed_in = client.login(username=person.username, password=PASSWORD)
        assert signed_in is (person.username != "clinician"), person.username
    assert not client.login(username="risk", password=PASSWORD + "x")


def _settled() -> bool:
    return not PromotionRequest.objects.filter(status="awaiting_gates").exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_seeds_the_same_demo_twice_with_a_worker_running(celery_worker):
    seed()
    wait_for(_settled, timeout=60, message="the worker to compute the gates left to it")
    first, events = demo_snapshot(), AuditEvent.objects.count()
    output = seed()
    assert demo_snapshot() == first
    assert AuditEvent.objects.count() == events
    assert output.count("(already complete)") == len(SCENARIOS)
    assert_it_is_the_tour(first, worker=True)

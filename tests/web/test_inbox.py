"""The inbox as a work queue: four tabs, filters as query parameters, due dates, and a
constant number of queries per page whatever the number of rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.approvals.models import PromotionRequest
from governance.approvals.services import promotion_decide, promotion_request
from tests.factories import (
    bulk_decisions,
    bulk_grant,
    bulk_models,
    bulk_requests,
    bulk_versions,
    grant,
    make_model,
    make_team,
    make_user,
    make_version,
)

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-inbox-item[^>]*>\s*<td[^>]*><a href="/requests/(\d+)/">')


def _rows(client, query: str = "") -> list[int]:
    response = client.get(f"/{query}")
    assert response.status_code == 200, response.content[:800]
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def _file(user, version, **kw) -> PromotionRequest:
    request = promotion_request(user=user, version=version, to_stage="staging", justification="ready", **kw)
    request.refresh_from_db()
    return request


@pytest.fixture
def world(team, alice, bob, version, other_team):
    """mona (MLOps) files from CI; bob reviews; audrey audits; another team's request is unseen.

    - waiting: mona's request on credit-scoring v1, for a reviewer;
    - rejected: alice's request on credit-limits v1, rejected by bob today;
    - old: a request closed 40 days ago;
    - unseen: a request on the marketing team's model.
    """
    mona = make_user("mona")
    grant(mona, "mlops", team=team)
    audrey = make_user("audrey")
    grant(audrey, "auditor", team=team)
    waiting = _file(mona, version)
    limits = make_model("credit-limits", team=team, risk_tier="regulated")
    rejected = _file(alice, make_version(limits, alice))
    promotion_decide(user=bob, request=rejected, decision="reject", reason="no", risk_class="high")
    old = _file(alice, make_version(make_model("credit-old", team=team), alice))
    promotion_decide(user=bob, request=old, decision="reject", reason="old", risk_class="low")
    PromotionRequest.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(days=40))
    marketer = make_user("mark")
    grant(marketer, "model_owner", team=other_team)
    unseen = _file(marketer, make_version(make_model("recommender", team=other_team), marketer))
    return {
        "people": {"mona": mona, "audrey": audrey, "alice": alice, "bob": bob},
        "waiting": waiting.pk,
        "rejected": rejected.pk,
        "old": old.pk,
        "unseen": unseen.pk,
    }


def test_it_shows_the_approver_what_waits_and_what_was_decided(client, world):
    client.force_login(world["people"]["bob"])
    assert _rows(client) == [world["waiting"]]
    assert _rows(client, "?tab=waiting") == [world["waiting"]]
    assert _rows(client, "?tab=scope") == [world["waiting"]]
    assert _rows(client, "?tab=decided") == [world["rejected"]]  # not the one closed 40 days ago
    assert _rows(client, "?tab=mine") == []


def test_it_shows_a_requester_what_they_raised_whatever_its_status(client, world):
    client.force_login(world["people"]["mona"])
    assert _rows(client) == []
    page = client.get("/?tab=mine").content.decode()
    assert _rows(client, "?tab=mine") == [world["waiting"]]
    assert "status-awaiting_approvals" in page and "by you" in page
    client.force_login(world["people"]["alice"])
    assert _rows(client, "?tab=mine") == [world["old"], world["rejected"]]  # newest first, any status


def test_the_empty_waiting_tab_points_a_requester_to_their_requests(client, world):
    client.force_login(world["people"]["mona"])
    page = client.get("/").content.decode()
    assert "Nothing waits for your sign-off" in page and "?tab=mine" in page
    assert re.search(r'data-tab="mine">Raised by me <span class="tab-count">1</span>', page)


def test_it_shows_an_auditor_everything_open_and_decided_in_scope_but_nothing_to_sign(client, world):
    client.force_login(world["people"]["audrey"])
    assert _rows(client) == []
    assert _rows(client, "?tab=scope") == [world["waiting"]]
    assert _rows(client, "?tab=decided") == [world["rejected"]]
    assert "badge role" not in client.get("/?tab=scope").content.decode()


def test_an_admin_sees_every_team_in_scope(client, world, admin_user):
    client.force_login(admin_user)
    assert set(_rows(client, "?tab=scope")) == {world["waiting"], world["unseen"]}
    assert _rows(client) == []  # admins fill no slot unless they hold the role


@pytest.mark.parametrize(
    "query,field",
    [
        ("?tab=everything", "tab"),
        ("?risk_tier=extreme", "risk tier"),
        ("?team=nobody", "team"),
        ("?team=marketing", "team"),  # exists, but none of its models is visible to bob
        ("?change_type=urgent", "change type"),
        ("?transition=draft-%3Eproduction", "transition"),
        ("?tab=mine&transition=%3Cscript%3E", "transition"),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_the_field(client, world, query, field):
    client.force_login(world["people"]["bob"])
    response = client.get(f"/{query}")
    page = response.content.decode()
    assert response.status_code == 400
    assert "These filters cannot be applied" in page and f"{field}: Select a valid choice" in page
    assert "<script>" not in page.split("<main", 1)[1]


# --- Filters ------------------------------------------------------------------------------


@pytest.fixture
def variety(db, admin_user):
    """Open requests that differ in one way each, seen by an admin in the "scope" tab."""
    owner = make_user("owner")
    credit, fraud = make_team("credit"), make_team("fraud")
    rows = {}

    def add(name, team, *, tier="medium", stage="draft", to_stage="staging", sla=None, entered_hours_ago=0, **kw):
        model = make_model(name, team=team, risk_tier=tier)
        (version,) = bulk_versions([model], owner, stage=stage)
        (request,) = bulk_requests([version], owner, to_stage=to_stage, sla_hours=sla, **kw)
        PromotionRequest.objects.filter(pk=request.pk).update(
            status_changed_at=timezone.now() - timedelta(hours=entered_hours_ago)
        )
        rows[name] = request.pk

    add("plain", credit)
    add("regulated", credit, tier="regulated")
    add("fraud", fraud)
    add("emergency", credit, change_type="emergency", stage="staging", to_stage="production")
    add("late", credit, sla=24, entered_hours_ago=30)
    add("on-time", credit, sla=24, entered_hours_ago=2)
    add("gates", credit, sla=1, entered_hours_ago=30, status="awaiting_gates")  # clock not started
    return rows


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", {"plain", "regulated", "fraud", "emergency", "late", "on-time", "gates"}),
        ("&team=fraud", {"fraud"}),
        ("&risk_tier=regulated", {"regulated"}),
        ("&change_type=emergency", {"emergency"}),
        ("&transition=staging-%3Eproduction", {"emergency"}),
        ("&overdue=on", {"late"}),
        ("&team=credit&overdue=on", {"late"}),
        ("&team=fraud&overdue=on", set()),
    ],
)
def test_filters_narrow_the_tab(client, admin_user, variety, query, expected):
    client.force_login(admin_user)
    names = {pk: name for name, pk in variety.items()}
    assert {names[pk] for pk in _rows(client, f"?tab=scope{query}")} == expected


def test_overdue_and_soon_due_come_first_and_say_so(client, admin_user, variety):
    client.force_login(admin_user)
    rows = _rows(client, "?tab=scope")
    assert rows[:2] == [variety["late"], variety["on-time"]]
    page = client.get("/?tab=scope").content.decode()
    assert re.search(r'class="badge sla sla-overdue"[^>]*><time[^>]*>overdue by 6 h</time>', page)
    assert re.search(r'class="badge sla sla-due"[^>]*><time[^>]*>due in 2[12] h</time>', page)
    assert "1 h once gates pass" in page


def test_an_empty_filtered_tab_offers_to_clear_the_filters(client, admin_user, variety):
    client.force_login(admin_user)
    page = client.get("/?tab=scope&team=fraud&overdue=on").content.decode()
    assert "No request in this view matches these filters" in page
    assert 'href="?tab=scope"' in page


def test_emergency_changes_carry_a_badge_in_every_tab(client, world, alice, bob, team):
    model = make_model("credit-emergency", team=team)
    version = make_version(model, alice, stage="staging")
    from governance.approvals.models import PromotionRequest as Request

    (emergency,) = bulk_requests([version], alice, change_type="emergency", to_stage="production")
    for user, tab in ((bob, "waiting"), (bob, "scope"), (alice, "mine")):
        client.force_login(user)
        page = client.get(f"/?tab={tab}").content.decode()
        row = page.split(f'<a href="/requests/{emergency.pk}/">', 1)[1].split("</tr>", 1)[0]
        assert 'class="badge change-emergency">emergency</span>' in row, (user, tab)
    Request.objects.filter(pk=emergency.pk).update(status="rejected")
    client.force_login(bob)
    page = client.get("/?tab=decided").content.decode()
    assert 'class="badge change-emergency">emergency</span>' in page


# --- Query counts -------------------------------------------------------------------------

MAX_QUERIES = 16


@pytest.fixture
def crowd(db):
    team = make_team("bulk")
    people = {name: make_user(name) for name in ("owner", "lead", "peer", "reader")}
    grant(people["owner"], "model_owner", team=team)
    grant(people["lead"], "reviewer", team=team)
    grant(people["peer"], "reviewer", team=team)
    grant(people["reader"], "auditor", team=team)
    return team, people


def _add_rows(crowd, start: int, n: int) -> None:
    """n models, each with an open request (a reviewer slot of two signed on every other one,
    an SLA on some, emergencies among them) and a request closed today on its first version."""
    team, people = crowd
    models = bulk_models(n, team=team, start=start)
    bulk_grant(people["lead"], "auditor", models[::3])  # roles from the model too
    released = bulk_versions(models, people["owner"], version=1, stage="production")
    bulk_requests(released, people["owner"], status="promoted", to_stage="production")
    drafts = bulk_versions(models, people["owner"], version=2)
    open_requests = bulk_requests(drafts[::2], people["owner"], required_approvals=[{"role": "reviewer", "count": 2}])
    open_requests += bulk_requests(
        drafts[1::2], people["owner"], required_approvals=[{"role": "reviewer", "count": 2}], sla_hours=4
    )
    PromotionRequest.objects.filter(pk__in=[r.pk for r in open_requests[::3]]).update(
        status_changed_at=timezone.now() - timedelta(hours=10)
    )
    bulk_decisions(open_requests[::2], people["peer"])


def _overdue() -> int:
    return PromotionRequest.objects.filter(
        sla_hours=4, status_changed_at__lt=timezone.now() - timedelta(hours=4), status="awaiting_approvals"
    ).count()


def _count(client, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), response.content.count(b"data-inbox-item")


@pytest.mark.parametrize(
    "who,query,shown",
    [
        ("lead", "", lambda n: n),
        ("lead", "?tab=scope", lambda n: min(n, 50)),
        ("lead", "?tab=decided", lambda n: min(n, 50)),
        ("lead", "?tab=scope&overdue=on&team=bulk", lambda n: min(_overdue(), 50)),
        ("owner", "?tab=mine", lambda n: min(2 * n, 50)),
        ("reader", "?tab=scope", lambda n: min(n, 50)),
    ],
    ids=["waiting", "scope", "decided", "scope-filtered", "mine", "auditor-scope"],
)
def test_each_tab_costs_the_same_queries_at_10_and_100_rows(client, crowd, who, query, shown):
    client.force_login(crowd[1][who])
    _add_rows(crowd, 0, 10)
    client.get(f"/{query}")  # the first request of a session warms per-process caches
    at_10, rows = _count(client, f"/{query}")
    assert rows == shown(10)
    _add_rows(crowd, 10, 90)
    at_100, rows = _count(client, f"/{query}")
    assert rows == shown(100)
    assert at_10 == at_100 <= MAX_QUERIES


NAV_COUNT = re.compile(r'>Inbox(?: <span class="count"[^>]*>(\d+)</span>)?</a>')


def test_the_navigation_count_follows_every_change_that_moves_the_inbox(client, team, alice, bob, version):
    """The count in the navigation is kept between pages, yet a request filed, a role revoked
    or given back, and a decision each show on the very next page (the count is kept
    against the audit chain's head, which each of them moves)."""
    from governance.accounts.services import role_grant, role_revoke

    admin = make_user("root", is_superuser=True)
    client.force_login(bob)

    def shown() -> int:
        response = client.get("/models/")
        assert response.status_code == 200
        [count] = NAV_COUNT.findall(response.content.decode())
        return int(count or 0)

    assert shown() == 0
    request = _file(alice, version)
    with CaptureQueriesContext(connection) as first:
        assert shown() == 1
    with CaptureQueriesContext(connection) as again:
        assert shown() == 1
    assert len(again) < len(first)  # the second page reads the kept count
    role_revoke(actor=admin, user=bob, role="reviewer", team=team)
    client.force_login(bob)  # a revocation ends the person's sessions
    assert shown() == 0
    role_grant(actor=admin, user=bob, role="reviewer", team=team)
    assert shown() == 1
    promotion_decide(user=bob, request=request, decision="approve", reason="fine", risk_class="low")
    assert shown() == 0

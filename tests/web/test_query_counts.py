"""Inbox, model list and version page cost a constant number of SQL queries whatever the
number of rows (for the version page: of large uploads in its panel, one query for all).

Each test counts the queries of one page at 10 rows, adds 190 rows and counts again: the
two counts are equal and below a fixed bound. Rows are written in bulk (a few INSERTs, no
services, no audit trail) so the test time goes to the page, not to building 200 models.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    bulk_decisions,
    bulk_grant,
    bulk_models,
    bulk_requests,
    bulk_versions,
    grant,
    make_team,
    make_user,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 14


@pytest.fixture
def world(db):
    team = make_team("bulk")
    people = {name: make_user(name) for name in ("owner", "lead", "peer")}
    grant(people["owner"], "model_owner", team=team)
    grant(people["lead"], "reviewer", team=team)
    grant(people["peer"], "reviewer", team=team)
    return team, people


def _add_rows(world, start: int, n: int) -> None:
    """n more models, each with an open request the lead may sign.

    Enough variety for every per-row lookup to show: roles from the team and from the model,
    a production version on some models, an earlier approval by someone else on some requests.
    """
    team, people = world
    models = bulk_models(n, team=team, start=start)
    bulk_grant(people["lead"], "auditor", models[::3])
    bulk_versions(models[::4], people["owner"], version=1, stage="production")
    drafts = bulk_versions(models, people["owner"], version=2)
    requests = bulk_requests(drafts, people["owner"], required_approvals=[{"role": "reviewer", "count": 2}])
    bulk_decisions(requests[::2], people["peer"])  # one of two slots signed: the lead may fill the other


def _queries(client, path: str) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), response.content


@pytest.mark.parametrize(
    "path,marker,shown",
    [
        ("/", b"data-inbox-item", lambda rows: rows),
        ("/models/?page=1", b"data-model-row", lambda rows: min(rows, 50)),
    ],
    ids=["inbox", "model-list"],
)
def test_a_page_costs_the_same_queries_at_10_and_200_rows(client, world, path, marker, shown):
    client.force_login(world[1]["lead"])
    _add_rows(world, 0, 10)
    client.get(path)  # the first request of a session warms per-process caches (content types)
    at_10, page = _queries(client, path)
    assert page.count(marker) == shown(10)
    _add_rows(world, 10, 190)
    at_200, page = _queries(client, path)
    assert page.count(marker) == shown(200)
    assert at_10 == at_200 <= MAX_QUERIES


def _bulk_uploads(version, user, n: int) -> None:
    """n large uploads of a version in every state a worker leaves them in (no files: the
    page reads only the rows)."""
    from django.utils import timezone

    from governance.evidence.models import QueuedUpload

    states = ["queued", "parsing", "refused", "accepted"]
    now = timezone.now()
    QueuedUpload.objects.bulk_create(
        QueuedUpload(
            version=version,
            kind=["predictions", "latency", "metrics"][i % 3],
            original_name=f"upload-{i}.csv",
            sha256=f"{i:064x}",
            size=1000 + i,
            stored_name=f"incoming/{i:064x}",
            status=states[i % 4],
            error={"code": "invalid", "message": f"line {i}: not a number", "fields": {}}
            if states[i % 4] == "refused"
            else None,
            started_at=now,
            finished_at=now if states[i % 4] in ("refused", "accepted") else None,
            uploaded_by=user,
        )
        for i in range(n)
    )


def test_the_version_page_costs_the_same_queries_at_4_and_40_large_uploads(client, world):
    from tests.factories import make_model, make_version

    team, people = world
    version = make_version(make_model("uploads", team=team), people["owner"])
    path = f"/models/uploads/v{version.version}/"
    client.force_login(people["lead"])
    client.get(path)
    _bulk_uploads(version, people["owner"], 4)
    at_4, page = _queries(client, path)
    assert page.count(b"data-upload=") == 4
    _bulk_uploads(version, people["owner"], 36)
    at_40, page = _queries(client, path)
    assert page.count(b"data-upload=") == 20  # the newest 20; the panel says so
    assert b"Only the newest 20 are shown." in page
    assert at_4 == at_40 <= MAX_QUERIES

"""Inbox and model list cost a constant number of SQL queries whatever the number of rows."""

from __future__ import annotations

import pytest

from governance.approvals.services import promotion_request
from tests.factories import grant, make_model, make_team, make_user, make_version

pytestmark = pytest.mark.django_db


def _populate(n: int):
    team = make_team("bulk")
    owner, lead = make_user("owner"), make_user("lead")
    grant(owner, "model_owner", team=team)
    grant(lead, "reviewer", team=team)
    for i in range(n):
        model = make_model(f"m{i:04d}", team=team)
        if i % 3 == 0:  # some roles granted per model too
            grant(lead, "auditor", model=model)
        version = make_version(model, owner)
        promotion_request(user=owner, version=version, to_stage="staging", justification="bulk")
    return lead


@pytest.mark.parametrize("rows", [10, 200])
def test_inbox_query_count_is_constant(client, django_assert_max_num_queries, rows):
    lead = _populate(rows)
    client.force_login(lead)
    with django_assert_max_num_queries(14):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.count(b"data-inbox-item") == rows


@pytest.mark.parametrize("rows", [10, 200])
def test_model_list_query_count_is_constant(client, django_assert_max_num_queries, rows):
    lead = _populate(rows)
    client.force_login(lead)
    with django_assert_max_num_queries(14):
        response = client.get("/models/?page=1")
    assert response.status_code == 200
    assert min(rows, 50) == response.content.count(b"data-model-row")

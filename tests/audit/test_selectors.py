"""Audit filters: one parser for the audit page and the API; bad values name their field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.audit.selectors import AuditFilters
from governance.core.errors import DomainError


def test_it_parses_dates_and_date_times_as_aware_moments():
    filters = AuditFilters.from_query({"since": "2026-03-01", "until": "2026-03-02T09:30:00+00:00", "model": " m "})
    assert filters.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert filters.until == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert filters.model == "m" and filters.active


@pytest.mark.parametrize(
    "params,field",
    [
        ({"since": "2026-02-30T00:00:00"}, "since"),  # impossible date
        ({"until": "yesterday"}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since"),
        ({"model": "a\x00b"}, "model"),
        ({"action": "x" * 201}, "action"),
    ],
)
def test_a_bad_filter_is_a_domain_error_on_its_field(params, field):
    with pytest.raises(DomainError) as refused:
        AuditFilters.from_query(params)
    assert refused.value.field == field


def test_the_api_and_the_page_answer_a_bad_filter_with_400(client, alice):
    _, key = ApiToken.issue(user=alice)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.get("/api/v1/audit/?since=2026-02-30T00:00:00")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["since"]
    client.force_login(alice)
    page = client.get("/audit/?until=2026-13-01")
    assert page.status_code == 400 and "until: expected an ISO 8601 date" in page.content.decode()

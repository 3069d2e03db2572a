"""The inbox's rows (and the model list's) are built in Python (governance/web/inbox_rows.py) and show what the
template's own tags and filters showed: `{% url %}` links, `|date` and `|timesince` times,
`get_FOO_display|lower` labels, whatever the time zone and the URL prefix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import timesince_filter
from django.test import override_settings
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from governance.approvals.selectors import InboxFilters, inbox_tab
from governance.registry.selectors import models_for_list
from governance.web.inbox_rows import Links, inbox_rows, model_rows, moment
from tests.factories import bulk_decisions, bulk_models, bulk_requests, bulk_versions, grant, make_team, make_user

pytestmark = pytest.mark.django_db

TIMES = [
    datetime(2026, 1, 5, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 7, 1, 23, 59, 59, tzinfo=UTC),  # a date change in most zones, summer time
    datetime(999, 12, 31, 0, 0, tzinfo=UTC),  # a year below 1000
    timezone.now() - timedelta(minutes=3),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"])
def test_times_read_as_the_date_and_timesince_filters_write_them(zone):
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        for value in TIMES:
            local = timezone.localtime(value)  # what the template hands a filter that expects local time
            shown = moment(value)
            assert shown.iso == date_filter(local, "c")
            assert shown.title == date_filter(local, "Y-m-d H:i")
            assert shown.since == timesince_filter(value)
    assert moment(None) == moment(None, since=False) and moment(None).iso == ""


@pytest.mark.parametrize("prefix", ["/", "/governance/"])
@pytest.mark.parametrize("name", ["credit-scoring", "m_01", "a.b~c", "m918273645", "odd name", "ünï", "x%y"])
def test_links_read_as_reverse_writes_them(prefix, name):
    set_script_prefix(prefix)
    try:
        links = Links()
        assert links.request_url(42) == reverse("web:request_detail", args=[42])
        assert links.request_url(918273645) == reverse("web:request_detail", args=[918273645])
        assert links.model_url(name) == reverse("web:model_detail", args=[name])
        assert links.version_url(name, 918273) == reverse("web:version_detail", args=[name, 918273])
    finally:
        set_script_prefix("/")


def test_a_page_of_rows_shows_the_labels_links_and_times_of_the_template(client):
    team = make_team("rows")
    owner, peer, lead = (make_user(n) for n in ("r-owner", "r-peer", "r-lead"))
    grant(owner, "model_owner", team=team)
    for user in (peer, lead):
        grant(user, "reviewer", team=team)
    versions = bulk_versions(bulk_models(3, team=team), owner, version=7)
    two = [{"role": "reviewer", "count": 2}]
    requests = bulk_requests(versions[:2], owner, required_approvals=two)
    bulk_requests(versions[2:], owner, required_approvals=two, change_type="emergency", sla_hours=4)
    bulk_decisions(requests[:1], peer)
    client.force_login(lead)
    page = client.get("/").content.decode()
    queue = inbox_tab(lead, tab="waiting", filters=InboxFilters(), now=timezone.now())
    rows = inbox_rows(queue.page.object_list)
    assert len(rows) == 3
    for row in rows:
        r = row.item.request
        assert row.request_url == reverse("web:request_detail", args=[r.pk])
        assert row.version_url == reverse("web:version_detail", args=[r.version.model.name, 7])
        assert row.change_type == r.get_change_type_display().lower()
        assert row.risk_tier == r.version.model.get_risk_tier_display().lower()
        assert (row.from_stage, row.to_stage) == (r.get_from_stage_display().lower(), r.get_to_stage_display().lower())
        assert row.status == r.get_status_display().lower()
        assert row.filled == sum(1 for s in row.item.slot_state.slots if s.decision)
        assert f'<a href="{row.model_url}">{r.version.model.name}</a>' in page
        assert f'<time datetime="{row.requested.iso}" title="{row.requested.title}">' in page
        if row.item.sla:
            assert f'<time datetime="{date_filter(timezone.localtime(row.item.sla.due_at), "c")}">' in page
    assert any(row.item.sla for row in rows) and "1 of 2" in page and "emergency" in page


def test_the_model_list_rows_show_the_links_and_labels_of_the_template(client):
    team = make_team("rows")
    owner = make_user("r-owner")
    grant(owner, "model_owner", team=team)
    models = bulk_models(4, team=team)
    bulk_versions(models[:2], owner, version=3, stage="production")
    client.force_login(owner)
    page = client.get("/models/").content.decode()
    rows = model_rows(list(models_for_list(owner)))
    assert [row.model.name for row in rows] == [m.name for m in models]
    for row in rows:
        m = row.model
        assert row.url == reverse("web:model_detail", args=[m.name]) and f'<a href="{row.url}"><strong>' in page
        assert row.risk_tier == m.get_risk_tier_display().lower()
        if m.production_version_number:
            assert row.production_url == reverse("web:version_detail", args=[m.name, 3])
            assert f'<a href="{row.production_url}"><span class="badge stage-production">v3</span></a>' in page
        else:
            assert row.production_url == ""
    assert page.count('<span class="muted">none</span>') == 2

"""The audit page's rows are built in Python (governance/web/audit_rows.py) and show what the
template's tags and filters showed: `|date` times in the current time zone, `{% url %}`
links, the recorded data as `|json_pretty`, whatever the time zone and the URL prefix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template.defaultfilters import date as date_filter
from django.test import override_settings
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.audit.sentences import event_sentence
from governance.web.audit_rows import audit_rows
from governance.web.templatetags.web_extras import json_pretty

pytestmark = pytest.mark.django_db

TIMES = [
    datetime(2026, 1, 5, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 7, 1, 23, 59, 59, tzinfo=UTC),  # a date change in most zones, summer time
    datetime(999, 12, 31, 0, 0, tzinfo=UTC),  # a year below 1000
]


def _event(created_at, **fields) -> AuditEvent:
    """An event as the page reads it (not saved: the trail is append-only)."""
    values = {
        "seq": 7,
        "action": "promotion.requested",
        "actor_label": "system",
        "model_name": "credit-scoring",
        "object_type": "approvals.promotionrequest",
        "object_id": "42",
        "data": {"version": 3, "to_stage": "staging", "note": "ünï <b>"},
        "hash": "a" * 64,
        "prev_hash": "b" * 64,
    }
    return AuditEvent(created_at=created_at, **(values | fields))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"])
def test_times_read_as_the_date_filter_writes_them(zone):
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        rows = audit_rows([_event(value) for value in TIMES])
        for value, row in zip(TIMES, rows, strict=True):
            local = timezone.localtime(value)  # what the template hands a filter that expects local time
            assert row.created == date_filter(local, "c")
            assert row.day == date_filter(local, "Y-m-d")
            assert row.clock == date_filter(local, "H:i:s T")


@pytest.mark.parametrize("prefix", ["/", "/governance/"])
def test_links_sentence_and_data_are_those_of_the_tags_and_filters(prefix):
    set_script_prefix(prefix)
    try:
        request_event, other_object, no_model, odd_name = audit_rows(
            [
                _event(TIMES[0]),
                _event(TIMES[0], object_type="evidence.artifact", object_id="9"),
                _event(TIMES[0], model_name="", object_id="x1"),
                _event(TIMES[0], model_name="odd name", object_id="not-a-number"),
            ]
        )
        assert request_event.request_url == reverse("web:request_detail", args=[42]) == f"{prefix}requests/42/"
        assert request_event.model_url == reverse("web:model_detail", args=["credit-scoring"])
        assert odd_name.model_url == reverse("web:model_detail", args=["odd name"])
    finally:
        set_script_prefix("/")
    assert request_event.sentence == event_sentence(request_event.event)
    assert request_event.data == json_pretty(request_event.event.data)
    assert other_object.request_url == "" and other_object.model_url  # not a request: no request link
    assert no_model.model_url == "" and no_model.request_url == ""  # no model; an id that is not a number
    assert odd_name.request_url == ""


def test_the_page_shows_the_rows(client, admin_user):
    from governance.audit.services import audit_record

    audit_record(actor=admin_user, action="policy.published", data={"policy": "p", "number": 1})
    client.force_login(admin_user)
    page = client.get("/audit/").content.decode()
    event = AuditEvent.objects.get(action="policy.published")
    (row,) = audit_rows([event])
    assert f'<time datetime="{row.created}">{row.day}<br><span class="muted small">{row.clock}</span></time>' in page
    assert f'<dt>Created</dt><dd class="mono">{row.created}</dd>' in page
    assert row.sentence in page

"""/healthz: database, Redis and a real Celery worker round trip; 200 when all answer, 503
(still JSON, never an exception) when one does not."""

from __future__ import annotations

import pytest

from governance.celery import app, ping

CLOSED_REDIS_PORT = "redis://127.0.0.1:1/0"


def get_health(client):
    response = client.get("/healthz")
    assert response["Content-Type"].startswith("application/json")
    assert "no-cache" in response.get("Cache-Control", "") or "max-age=0" in response.get("Cache-Control", "")
    return response, response.json()


def test_redis_down_is_a_503_report_not_an_exception(client, db, settings):
    settings.REDIS_URL = CLOSED_REDIS_PORT
    response, body = get_health(client)
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False
    assert body["redis"]["error"]  # says what went wrong
    assert body["worker"]["ok"] is False
    assert body["worker"]["error"] == "broker unreachable"


def test_no_worker_answering_is_a_503(client, db, monkeypatch):
    """Redis answers but no worker replies to the control ping."""
    monkeypatch.setattr(app.control, "ping", lambda *args, **kwargs: [])
    response, body = get_health(client)
    assert response.status_code == 503
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    assert body["worker"] == {"ok": False, "error": "no worker answered", "workers": []}


def test_healthz_needs_no_login(client, db, settings):
    settings.REDIS_URL = CLOSED_REDIS_PORT
    response = client.get("/healthz", follow=False)
    assert response.status_code in (200, 503)  # not a redirect to the login page


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_all_up_with_the_real_worker_is_200(client, celery_worker):
    response, body = get_health(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is True
    worker = body["worker"]
    assert worker["ok"] is True
    assert any(name.startswith(f"{celery_worker.name}@") for name in worker["workers"]), worker
    assert worker["roundtrip_ms"] >= 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ping_task_round_trip(celery_worker):
    assert ping.delay().get(timeout=10) == "pong"

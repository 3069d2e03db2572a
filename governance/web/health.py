"""/healthz: database, Redis and Celery worker status as JSON (200 all up, 503 otherwise)."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1), "vendor": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def _check_redis() -> dict:
    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def _check_worker(redis_ok: bool) -> dict:
    if not redis_ok:
        return {"ok": False, "error": "broker unreachable"}
    from governance.celery import app, ping

    started = time.monotonic()
    try:
        replies = app.control.ping(timeout=1.0) or []
        workers = sorted(name for reply in replies for name in reply)
        if not workers:
            return {"ok": False, "error": "no worker answered", "workers": []}
        # A real round trip: a task executed by a worker on our queue.
        result = ping.apply_async(expires=10)
        answer = result.get(timeout=5)
        result.forget()
        return {
            "ok": answer == "pong",
            "workers": workers,
            "roundtrip_ms": round((time.monotonic() - started) * 1000, 1),
        }
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


@never_cache
def healthz(request):
    database = _check_database()
    redis_status = _check_redis()
    worker = _check_worker(redis_status["ok"])
    ok = database["ok"] and redis_status["ok"] and worker["ok"]
    body = {"status": "ok" if ok else "degraded", "database": database, "redis": redis_status, "worker": worker}
    return JsonResponse(body, status=200 if ok else 503)

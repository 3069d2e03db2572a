"""/healthz, public and cheap; /healthz/detail, for operators holding HEALTHZ_TOKEN.

The public check pings the database and Redis and reads the workers' heartbeats from Redis
(written by governance.celery every WORKER_HEARTBEAT_SECONDS): a few milliseconds, no task,
no control message, no login, so anonymous callers cannot tie up a web worker or the queue.
It says what is down, never why (errors are for the detailed check). 200 when all are up,
503 otherwise; always JSON.

The detailed check adds the error texts, each worker's heartbeat age, a control ping and a
real `ping` task round trip (up to ~6 s), behind the header `X-Healthz-Token`.
"""

from __future__ import annotations

import hmac
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from governance.celery import heartbeats_read

TOKEN_HEADER = "X-Healthz-Token"


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "ms": _ms(started)}
    except Exception as exc:
        return {"ok": False, "error": _error(exc)}


def _check_redis_and_heartbeats() -> tuple[dict, dict, dict[str, float]]:
    """Redis's answer (one round trip: its clock and the heartbeat hash) and the worker
    status read from it; the third item is each node's heartbeat age in seconds."""
    started = time.monotonic()
    # One try with short timeouts: a hanging Redis costs a caller at most about 1 s.
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    try:
        now, beats = heartbeats_read(client)
    except Exception as exc:
        return {"ok": False, "error": _error(exc)}, {"ok": False, "error": "redis unreachable"}, {}
    finally:
        client.close()
    redis_status = {"ok": True, "ms": _ms(started)}
    ages = {node: round(max(0.0, now - beat), 1) for node, beat in beats.items()}
    stale_after = settings.WORKER_HEARTBEAT_STALE_SECONDS
    alive = [age for age in ages.values() if age <= stale_after]
    if alive:
        worker = {"ok": True, "workers": len(alive), "heartbeat_age_s": min(alive)}
    elif ages:
        worker = {"ok": False, "error": f"no heartbeat for over {stale_after} s", "heartbeat_age_s": min(ages.values())}
    else:
        worker = {"ok": False, "error": "no worker heartbeat"}
    return redis_status, worker, ages


def _public_error(status: dict) -> dict:
    return status if status["ok"] else {"ok": False, "error": "unavailable"}


@never_cache
def healthz(request):
    database = _check_database()
    redis_status, worker, _ = _check_redis_and_heartbeats()
    ok = database["ok"] and redis_status["ok"] and worker["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "database": _public_error(database),
        "redis": _public_error(redis_status),
        "worker": worker,  # its errors name no host and no exception
    }
    return JsonResponse(body, status=200 if ok else 503)


def _round_trip() -> dict:
    from governance.celery import app, ping

    started = time.monotonic()
    try:
        replies = app.control.ping(timeout=1.0) or []
        workers = sorted(name for reply in replies for name in reply)
        if not workers:
            return {"ok": False, "error": "no worker answered", "workers": []}
        result = ping.apply_async(expires=10)
        answer = result.get(timeout=5)
        result.forget()
        return {"ok": answer == "pong", "workers": workers, "roundtrip_ms": _ms(started)}
    except Exception as exc:
        return {"ok": False, "error": _error(exc)}


@never_cache
def healthz_detail(request):
    token = settings.HEALTHZ_TOKEN
    if not token:
        return JsonResponse({"error": "the detailed health check is off (HEALTHZ_TOKEN is not set)"}, status=404)
    given = request.headers.get(TOKEN_HEADER, "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse({"error": f"the {TOKEN_HEADER} header is missing or wrong"}, status=403)
    database = _check_database()
    redis_status, worker, ages = _check_redis_and_heartbeats()
    worker["heartbeats"] = ages
    roundtrip = _round_trip() if redis_status["ok"] else {"ok": False, "error": "redis unreachable"}
    ok = database["ok"] and redis_status["ok"] and worker["ok"] and roundtrip["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "database": database | {"vendor": connection.vendor},
        "redis": redis_status,
        "worker": worker,
        "roundtrip": roundtrip,
    }
    return JsonResponse(body, status=200 if ok else 503)

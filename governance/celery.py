"""Celery app, configured from Django settings (CELERY_ namespace)."""

import logging
import os
import threading

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


def safe_retries(*transient: type[BaseException]) -> dict:
    """Task options for work that must neither be lost nor done twice: acknowledged after it
    finishes, re-queued if its worker dies, retried with backoff on `transient` errors. The
    largest retry countdown stays below the Redis visibility timeout, or Redis would hand
    the waiting task to a second worker (tests/gates/test_gate_services.py checks it)."""
    from django.conf import settings

    return {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": transient,
        "retry_backoff": 5,
        "retry_backoff_max": min(300, settings.CELERY_VISIBILITY_TIMEOUT // 2),
        "max_retries": 5,
    }


@app.task(name="governance.ping")
def ping() -> str:
    """Round-trip probe used by /healthz/detail and the tests."""
    return "pong"


# --- Worker heartbeat ------------------------------------------------------------------------
# Each worker's main process writes "now" (Redis's own clock, so hosts' clocks never matter)
# into one Redis hash, field = its node name, every WORKER_HEARTBEAT_SECONDS from a thread: a
# long task does not delay it, a dead process stops it. /healthz reads the hash; it never
# sends a task or a control message.

_heartbeat_stop = threading.Event()


def heartbeat_write(client, node: str) -> float:
    """Record that `node` is alive now; returns Redis's time."""
    from django.conf import settings

    seconds, micros = client.time()
    now = seconds + micros / 1e6
    client.hset(settings.WORKER_HEARTBEAT_KEY, node, f"{now:.3f}")
    return now


def heartbeats_read(client) -> tuple[float, dict[str, float]]:
    """Redis's time and each node's last heartbeat, in one round trip."""
    from django.conf import settings

    pipe = client.pipeline(transaction=False)
    pipe.time()
    pipe.hgetall(settings.WORKER_HEARTBEAT_KEY)
    (seconds, micros), beats = pipe.execute()
    nodes = {}
    for node, value in beats.items():
        try:
            nodes[node.decode() if isinstance(node, bytes) else node] = float(value)
        except ValueError:
            continue
    return seconds + micros / 1e6, nodes


def _heartbeat_loop(node: str) -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    while True:
        wait = settings.WORKER_HEARTBEAT_SECONDS
        try:
            now = heartbeat_write(client, node)
            # Forget nodes silent for a day (renamed or removed workers).
            for other, beat in heartbeats_read(client)[1].items():
                if now - beat > 86400:
                    client.hdel(settings.WORKER_HEARTBEAT_KEY, other)
        except Exception:  # Redis away: the heartbeat goes stale, which is what /healthz should see
            logger.warning("worker heartbeat: cannot write to Redis", exc_info=True)
            # Try again soon: a Redis that comes back (possibly empty) sees this worker within a
            # second, so /healthz does not call the worker down after the outage has ended.
            wait = min(wait, 1)
        if _heartbeat_stop.wait(wait):
            return


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    _heartbeat_stop.clear()
    threading.Thread(target=_heartbeat_loop, args=(sender.hostname,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(sender=None, **kwargs) -> None:
    """A clean shutdown removes the node at once; a killed one goes stale."""
    import redis
    from django.conf import settings

    _heartbeat_stop.set()
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).hdel(settings.WORKER_HEARTBEAT_KEY, sender.hostname)
    except Exception:
        logger.warning("worker heartbeat: cannot remove %s", getattr(sender, "hostname", "?"), exc_info=True)

"""Wrong API tokens are throttled per client address.

Each failed token authentication counts against the address in the shared "throttle"
cache (Redis, so every web worker sees the same count); past TOKEN_FAILURE_LIMIT failures
in TOKEN_FAILURE_WINDOW_SECONDS the address gets 429 for any token, right or wrong, until
the window ends. Guessing a token (32 random bytes) is hopeless anyway: this stops a
flood of guesses costing database queries, and a leaked-token scanner from going unnoticed.
If Redis cannot be reached the check is skipped (logged), never a 500.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions
from rest_framework.throttling import UserRateThrottle

log = logging.getLogger(__name__)


def _key(request) -> str:
    return "token-failures:" + (request.META.get("REMOTE_ADDR") or "unknown")


def token_failures_check(request) -> None:
    """Raise Throttled (429) when this address failed too often lately."""
    try:
        failures = caches["throttle"].get(_key(request), 0)
    except Exception:  # noqa: BLE001 - a cache outage must not lock everyone out
        log.warning("token throttle: cache unreachable, not checked", exc_info=True)
        return
    if failures >= settings.TOKEN_FAILURE_LIMIT:
        raise exceptions.Throttled(
            wait=settings.TOKEN_FAILURE_WINDOW_SECONDS,
            detail="Too many requests with a wrong token from this address; try again later.",
        )


def token_failure_record(request) -> None:
    cache = caches["throttle"]
    key = _key(request)
    try:
        if not cache.add(key, 1, timeout=settings.TOKEN_FAILURE_WINDOW_SECONDS):
            cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=settings.TOKEN_FAILURE_WINDOW_SECONDS)
    except Exception:  # noqa: BLE001
        log.warning("token throttle: cache unreachable, failure not counted", exc_info=True)


class DryRunThrottle(UserRateThrottle):
    """Dry runs per user (DRY_RUN_THROTTLE_RATE, e.g. "10/minute"), counted in the shared
    "throttle" cache so every web worker sees one count; 429 with Retry-After past it. A cache
    outage lets the request through (logged), like the token-failure check."""

    scope = "dry_run"

    def __init__(self):
        self.cache = caches["throttle"]
        super().__init__()

    def get_rate(self) -> str:
        return settings.DRY_RUN_THROTTLE_RATE

    @staticmethod
    def ident_for(user) -> str:
        # With the join time, a user id reused after a database is recreated (tests) does not
        # inherit the count of the user who had it.
        return f"{user.pk}-{int(user.date_joined.timestamp())}"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.ident_for(request.user)}

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":  # only starting a dry run counts (a GET is 405 anyway)
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - Redis away: do not refuse everyone
            log.warning("dry-run throttle: cache unreachable, not checked", exc_info=True)
            return True

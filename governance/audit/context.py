"""Where the request that causes an audit event came from: IP address, user agent, API token.

`AuditRequestMiddleware` puts them in a context variable for the length of each web and API
request; `audit_record` reads it, so every event written while serving a request carries
them, whichever service writes it. Celery tasks and management commands have no request:
their events carry none. When the API authenticates a request by token
(api/authentication.py), `request_token_set` adds the token: `audit_record` then writes
`data["auth"] = {"api_token_id", "prefix", "scope"}` into each event of that request, so every
use of a token is attributable (the key itself is never recorded).

The IP is REMOTE_ADDR, or with AUDIT_TRUSTED_PROXIES = N (reverse proxies in front of us,
each appending to X-Forwarded-For) the address the outermost trusted proxy saw. A client can
write anything into X-Forwarded-For, so only the entries our own proxies appended are used.
"""

from __future__ import annotations

import ipaddress
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.conf import settings

from governance.audit.models import USER_AGENT_MAX


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None = None
    user_agent: str = ""
    token: dict | None = None  # the API token that authenticated the request, if any


_origin: ContextVar[RequestOrigin | None] = ContextVar("audit_request_origin", default=None)


def current_origin() -> RequestOrigin:
    return _origin.get() or RequestOrigin()


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def origin_of(request) -> RequestOrigin:
    meta = request.META
    ip = meta.get("REMOTE_ADDR", "")
    hops = getattr(settings, "AUDIT_TRUSTED_PROXIES", 0)
    if hops > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            ip = forwarded[-hops]
    agent = meta.get("HTTP_USER_AGENT", "")
    # Printable text only, bounded: a header is attacker-controlled.
    agent = "".join(ch for ch in agent if ch.isprintable())[:USER_AGENT_MAX]
    return RequestOrigin(ip=_valid_ip(ip) if ip else None, user_agent=agent)


def request_token_set(*, token_id: int, prefix: str, scope: str) -> None:
    """The request being served was authenticated by this token (for the rest of it: the
    middleware's context ends with the request)."""
    _origin.set(replace(current_origin(), token={"api_token_id": token_id, "prefix": prefix, "scope": scope}))


@contextmanager
def request_origin(origin: RequestOrigin):
    token = _origin.set(origin)
    try:
        yield origin
    finally:
        _origin.reset(token)


class AuditRequestMiddleware:
    """Every web and API request: events written while serving it carry its IP and agent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_origin(origin_of(request)):
            return self.get_response(request)

"""One HTTP POST of a delivery: to the address the target check approved, no redirects, bounded.

urllib3 (already a dependency) lets us connect to the checked IP address while sending the
URL's host in `Host` and in TLS (SNI and certificate check), so a DNS answer that changes
between the check and the request cannot send us elsewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3

from governance.webhooks.targets import Target

EXCERPT_BYTES = 1000
USER_AGENT = "ModelGovernance-Webhooks/1.0"


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, TLS failure)
    excerpt: str
    duration_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _text(raw: bytes) -> str:
    # PostgreSQL text cannot hold NUL; the excerpt is for people, so undecodable bytes show as �.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    address = target.addresses[0]
    pool_kwargs: dict = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 1}
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            cert_reqs="CERT_REQUIRED",
            assert_hostname=target.host,
            server_hostname=target.host,
            **pool_kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **pool_kwargs)
    sent_headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=sent_headers,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            retries=False,
        )
        try:
            excerpt = _text(response.read(EXCERPT_BYTES))
        finally:
            response.release_conn()
            response.close()
        error = ""
        if 300 <= response.status < 400:
            location = response.headers.get("Location", "")
            error = f"Redirect not followed (Location: {location[:300]})."
        return Answer(response.status, excerpt, _ms(started), error)
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, "", _ms(started), _error(exc))
    except OSError as exc:
        return Answer(None, "", _ms(started), f"{type(exc).__name__}: {exc}"[:1000])
    finally:
        pool.close()


def _ms(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))


def _error(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: test it first.
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return f"Could not connect: {reason}"[:1000]
    if isinstance(reason, urllib3.exceptions.TimeoutError):
        return "Timed out waiting for the receiver."
    return f"{type(reason).__name__}: {reason}"[:1000]

"""Where a webhook may point: http(s) URLs whose every address is allowed.

A webhook is a request our server makes to an address a user typed, so without a rule it
would reach what only the server can reach (the cloud metadata service at 169.254.169.254,
the database, an admin port on localhost). Public addresses are allowed; private, loopback,
link-local, shared, reserved and multicast ones are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS
is on (development and tests) or the host or its network is listed in WEBHOOK_ALLOWED_HOSTS.
The check runs when a URL is saved and again before every attempt, and the request goes to
the address that was checked (docs/security.md, "Webhooks").
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from governance.core.errors import DomainError

MAX_URL_LENGTH = 2000


class TargetError(DomainError):
    """A webhook URL we will not call; always about the field `url`."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]  # checked; the first is called

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _listed(host: str, address: ipaddress._BaseAddress) -> bool:
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if entry == host:
                return True
    return False


def address_refusal(host: str, address: str) -> str:
    """Why this address may not be called ("" when it may)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return f"{host} resolves to {ip}, which cannot receive webhooks."
    if ip.is_global or _listed(host, ip) or settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return ""
    return (
        f"{host} resolves to {ip}, a private, loopback or link-local address; webhooks go to public "
        "addresses only (an administrator may allow this host with WEBHOOK_ALLOWED_HOSTS)."
    )


def url_parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, without looking the host up."""
    url = (url or "").strip()
    if not url:
        raise TargetError("Give the URL that receives the events.")
    if len(url) > MAX_URL_LENGTH:
        raise TargetError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise TargetError("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"This is not a URL: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetError("Only http:// and https:// URLs can receive webhooks.")
    if parts.username is not None or parts.password is not None:
        raise TargetError("Leave credentials out of the URL; the signature authenticates each delivery.")
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetError("The URL has no host name.")
    if parts.fragment:
        raise TargetError("The URL must not have a #fragment.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def target_check(url: str) -> Target:
    """The URL parsed and its host resolved, every address allowed; else TargetError."""
    scheme, host, port, path = url_parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetError(f"The host {host} cannot be resolved ({exc}).") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        refusal = address_refusal(host, address)
        if refusal:
            raise TargetError(refusal)
    return Target(scheme, host, port, path, addresses)

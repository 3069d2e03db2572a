"""Which URLs a webhook may call, the retry schedule and the signature, without a database."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import override_settings

from governance.webhooks import signing
from governance.webhooks.services import retry_delay
from governance.webhooks.targets import TargetError, address_refusal, target_check, url_parse


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.7",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
    ],
)
@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, WEBHOOK_ALLOWED_HOSTS=[])
def test_non_public_addresses_are_refused_in_production(address):
    assert address_refusal("hooks.example.com", address)


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, WEBHOOK_ALLOWED_HOSTS=[])
def test_public_addresses_are_allowed():
    assert address_refusal("example.com", "93.184.216.34") == ""
    assert address_refusal("example.com", "2606:2800:220:1:248:1893:25c8:1946") == ""


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=False, WEBHOOK_ALLOWED_HOSTS=["10.20.0.0/16", "hooks.internal"])
def test_listed_networks_and_hosts_are_allowed_but_nothing_more():
    assert address_refusal("any", "10.20.5.5") == ""
    assert address_refusal("hooks.internal", "10.99.0.1") == ""
    assert address_refusal("other.internal", "10.99.0.1")
    assert address_refusal("hooks.internal", "0.0.0.0"), "never the unspecified address"


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True)
def test_development_allows_loopback():
    target = target_check("http://127.0.0.1:8123/in?x=1")
    assert target.addresses == ("127.0.0.1",) and target.path == "/in?x=1" and target.host_header == "127.0.0.1:8123"


def test_url_shapes():
    assert url_parse("HTTPS://Example.COM/a") == ("https", "example.com", 443, "/a")
    assert url_parse("http://example.com") == ("http", "example.com", 80, "/")
    for bad in ["ftp://x/", "javascript:alert(1)", "http://u:p@x/", "http://x/#frag", "http://x:99999/", "http:// x/"]:
        with pytest.raises(TargetError) as refused:
            url_parse(bad)
        assert refused.value.fields == {"url": [refused.value.message]}


@override_settings(WEBHOOK_RETRY_BASE_SECONDS=30, WEBHOOK_RETRY_MAX_SECONDS=1800, CELERY_VISIBILITY_TIMEOUT=3600)
def test_backoff_doubles_and_stays_below_the_visibility_timeout():
    assert [retry_delay(n) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1800, 1800]
    with override_settings(CELERY_VISIBILITY_TIMEOUT=600):
        assert max(retry_delay(n) for n in range(1, 20)) == 300


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = signing.body_bytes({"b": 1, "a": "é"})
    assert body == '{"a":"é","b":1}'.encode()
    header = signing.signature_header("whsec_k", 1700000000, body)
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_a_silent_receiver_times_out_and_a_closed_port_is_a_connection_error():
    import socket

    from governance.webhooks.sender import post

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    try:
        answer = post(target_check(f"http://127.0.0.1:{silent.getsockname()[1]}/"), b"{}", {}, timeout=1.0)
    finally:
        silent.close()
    assert answer.status is None and answer.error == "Timed out waiting for the receiver."
    assert 900 <= answer.duration_ms < 5000
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    answer = post(target_check(f"http://127.0.0.1:{port}/"), b"{}", {}, timeout=1.0)
    assert answer.status is None and answer.error.startswith("Could not connect")

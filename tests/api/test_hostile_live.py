"""Issue 14: the hostile corpus against a live server with DEBUG off, over real HTTP.

tests/api/test_hostile_corpus.py sends the corpus through Django's test client; here every one
of its bodies, values and query strings crosses a real socket to every endpoint and page of
the server production runs (gunicorn, two workers, DEBUG off, on this test's PostgreSQL
database), each value in one field or parameter in turn (the corpus file sends every value to
every field: same parsing code, no socket needed for that product), plus what a test
client cannot send at all: raw bytes and broken percent-encoding in the path, a
Content-Length that lies, a chunked body, oversized headers, a session cookie of garbage.
Every answer is below 500; the API's 4xx is the JSON error format; nothing is stored by a
refused request; the error pages leak nothing.
"""

from __future__ import annotations

import json
import socket
import sys
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from governance.accounts.models import ApiToken
from tests.api.test_hostile_corpus import (
    HOSTILE_BODIES,
    HOSTILE_QUERY,
    HOSTILE_VALUES,
    PAGE_QUERIES,
    api_endpoints,
    counts,
    world,  # noqa: F401 - the corpus's fixture, reused
)
from tests.conftest import _worker_env, wait_for
from tests.processes import Proc, free_port

pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    def __init__(self, url: str):
        self.url = url


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/login/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory, django_db_setup, django_db_blocker):
    """gunicorn on a free port, reading the test database; started once for this module's
    tests (each test's rows are its own: the tests commit and the database is emptied
    between them) and stopped with its workers."""
    from django.db import connection

    tmp_path = tmp_path_factory.mktemp("gunicorn")

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    port = free_port()
    env = _worker_env(db_name) | {"DEBUG": "false"}
    server = Proc(
        [sys.executable, "-m", "gunicorn", "governance.wsgi:application", "--workers", "2"]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", "60"],
        env,
        tmp_path / "gunicorn.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.proc.poll() is None and _up(url), timeout=90, message=f"gunicorn up ({tmp_path})")
        yield Server(url)
    finally:
        server.stop()
        text = (tmp_path / "gunicorn.log").read_text(errors="replace")
        # Django logs a refused oversized body with its traceback (django.security); a 500
        # is "Internal Server Error", a crashed gunicorn worker an [ERROR] line.
        assert "Internal Server Error" not in text and "[ERROR]" not in text, f"the server logged:\n{text[-3000:]}"


@pytest.fixture
def http(gunicorn_server, world):  # noqa: F811 - the imported fixture
    _, key = ApiToken.issue(user=world["admin"])
    with httpx.Client(base_url=gunicorn_server.url, headers={"Authorization": f"Token {key}"}, timeout=30) as client:
        seen = client.get("/api/v1/models/")
        assert seen.status_code == 200 and "credit-scoring" in seen.text, "the server must see this test's rows"
        yield client


def _problem(response: httpx.Response, where: str, before: tuple) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{where}: {status}"
    if status in (414, 431):
        # gunicorn refuses a request line over 4 KB or oversized headers before Django sees
        # them (its own short HTML answer, documented in docs/api.md): nothing ran.
        return None
    if status >= 400 and response.request.url.path.startswith("/api/"):
        try:
            error = response.json()["error"]
            assert {"code", "message", "fields"} <= set(error) and error["message"]
        except Exception:  # noqa: BLE001 - any shape problem is the finding
            return f"{where}: {status} without the JSON error format: {response.content[:200]!r}"
        if counts() != before:
            return f"{where}: refused with {status} but stored something"
    return None


def test_the_live_server_runs_with_debug_off(gunicorn_server):
    assert settings.DEBUG is False
    response = httpx.get(f"{gunicorn_server.url}/no-such-page/%00/", timeout=60)
    assert response.status_code == 404
    assert "Traceback" not in response.text and "DEBUG = True" not in response.text


def test_hostile_bodies_and_fields_over_http(http, world):  # noqa: F811
    """Every hostile body to every endpoint, and every hostile value to every endpoint, over
    the socket. Which field a value goes in turns with the value (every field gets some):
    the full cross product of field and value runs in-process
    (test_hostile_json_bodies_and_fields_on_every_api_endpoint), through the same parsing
    and validation code; the values are ASCII JSON text, so what this socket adds is the
    endpoint's body crossing gunicorn, not the field it lands in."""
    problems: list[str] = []
    sent = expected = 0
    for method, url, valid in api_endpoints(world):
        expected += len(HOSTILE_BODIES) + len(HOSTILE_VALUES)
        for body in HOSTILE_BODIES:
            before = counts()
            response = http.request(
                method.upper(),
                url,
                content=body.encode("utf-8", "surrogatepass"),
                headers={"Content-Type": "application/json"},
            )
            sent += 1
            if problem := _problem(response, f"{method} {url} body {body[:30]!r}", before):
                problems.append(problem)
        fields = list(valid)
        for i, value in enumerate(HOSTILE_VALUES):
            field = fields[i % len(fields)]
            text = json.dumps({k: v for k, v in valid.items() if k != field})[:-1]
            text = f'{text}{", " if len(valid) > 1 else ""}"{field}": {value}}}'
            before = counts()
            response = http.request(
                method.upper(), url, content=text.encode(), headers={"Content-Type": "application/json"}
            )
            sent += 1
            if problem := _problem(response, f"{method} {url} {field}={value[:30]}", before):
                problems.append(problem)
    assert sent == expected > 450
    assert not problems, "\n".join(problems)


def _rotating(queries: dict[str, list[str]]):
    """(url, param, value): every hostile value once per URL, the parameter turning with the
    value so that every parameter gets some. The full cross product runs in-process
    (test_hostile_corpus.py, same parsing code); what the socket adds is gunicorn's request
    line (over 4 KB: 414 before Django) and raw percent-encoding, which depend on the value
    and not on which parameter carries it."""
    for url, params in queries.items():
        for i, value in enumerate(HOSTILE_QUERY):
            yield url, params[i % len(params)], value


def test_hostile_query_strings_over_http(http, gunicorn_server, world):  # noqa: F811
    problems: list[str] = []
    api = {
        "/api/v1/models/": ["team", "stage", "page"],
        "/api/v1/audit/": ["model", "action", "since", "page"],
        "/api/v1/models/credit-scoring/history/": ["at"],
    }
    assert all(len(params) <= len(HOSTILE_QUERY) for params in (*api.values(), *PAGE_QUERIES.values()))
    for url, param, value in _rotating(api):
        before = counts()
        response = http.get(f"{url}?{param}={value}")
        if problem := _problem(response, f"GET {url}?{param}={value[:30]}", before):
            problems.append(problem)
    # The pages, signed in through the real login form.
    browser = httpx.Client(base_url=gunicorn_server.url, timeout=30, follow_redirects=False)
    login = browser.get("/login/")
    # The server hashes as production does (the test process uses MD5 for speed).
    world["admin"].password = PBKDF2PasswordHasher().encode("hostile-corpus-pw", "corpussalt", iterations=1000)
    world["admin"].save(update_fields=["password"])
    signed = browser.post(
        "/login/",
        data={
            "username": world["admin"].username,
            "password": "hostile-corpus-pw",
            "csrfmiddlewaretoken": login.cookies.get("csrftoken") or browser.cookies.get("csrftoken"),
        },
        headers={"Referer": f"{gunicorn_server.url}/login/"},
    )
    assert signed.status_code == 302, signed.text[:2000]
    assert browser.get("/").status_code == 200, "the corpus must reach the pages signed in"
    for url, param, value in _rotating(PAGE_QUERIES):
        status = browser.get(f"{url}?{param}={value}").status_code
        if status >= 500:
            problems.append(f"GET {url}?{param}={value[:30]}: {status}")
    browser.close()
    assert not problems, "\n".join(problems)


def _raw(gunicorn_server, request: bytes) -> int:
    """Send bytes as they are; the status code of the answer (0: the server closed the line)."""
    parts = urlsplit(gunicorn_server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data.startswith(b"HTTP/"):
        return 0
    return int(data.split(b" ", 2)[1])


def test_what_only_a_raw_socket_can_send(gunicorn_server, world):  # noqa: F811
    _, key = ApiToken.issue(user=world["admin"])
    auth = f"Authorization: Token {key}\r\n".encode()
    host = b"Host: localhost\r\n"
    body = b'{"name": "m-raw", "team": "credit", "risk_tier": "low", "description": "d"}'
    requests = {
        "raw NUL in the path": b"GET /api/v1/models/a\x00b/ HTTP/1.1\r\n" + host + auth + b"\r\n",
        "invalid UTF-8 in the path": b"GET /models/\xff\xfe/ HTTP/1.1\r\n" + host + b"\r\n",
        "broken percent-encoding": b"GET /api/v1/models/%zz%/ HTTP/1.1\r\n" + host + auth + b"\r\n",
        "lone surrogate percent-encoded": b"GET /api/v1/models/%ED%A0%80/ HTTP/1.1\r\n" + host + auth + b"\r\n",
        "a Content-Length that claims a terabyte": (
            b"POST /api/v1/models/ HTTP/1.1\r\n"
            + host
            + auth
            + b"Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n"
            + body
        ),
        "a Content-Length longer than the body": (
            b"POST /api/v1/models/ HTTP/1.1\r\n"
            + host
            + auth
            + b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
            + body
        ),
        "a negative Content-Length": (
            b"POST /api/v1/models/ HTTP/1.1\r\n" + host + auth + b"Content-Type: application/json\r\n"
            b"Content-Length: -5\r\n\r\n" + body
        ),
        "a chunked body": (
            b"POST /api/v1/models/ HTTP/1.1\r\n" + host + auth + b"Content-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        ),
        "a 64 KB header": b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n",
        "a garbage session cookie": (
            b"GET / HTTP/1.1\r\n" + host + b"Cookie: sessionid=" + b"\xff\x00" * 50 + b"; csrftoken=\x00\r\n\r\n"
        ),
        "a garbage token": b"GET /api/v1/models/ HTTP/1.1\r\n" + host + b"Authorization: Token \xff\xfe\x00\r\n\r\n",
        "an absurd method": b"PROPFIND /api/v1/models/ HTTP/1.1\r\n" + host + auth + b"\r\n",
        "a non-JSON content type on the API": (
            b"POST /api/v1/models/ HTTP/1.1\r\n" + host + auth + b"Content-Type: application/xml\r\n"
            b"Content-Length: 7\r\n\r\n<a></a>"
        ),
    }
    problems = []
    for name, request in requests.items():
        before = counts()
        status = _raw(gunicorn_server, request)
        if status >= 500:
            problems.append(f"{name}: {status}")
        if status >= 400 and counts() != before:
            problems.append(f"{name}: refused with {status} but stored something")
    assert not problems, "\n".join(problems)

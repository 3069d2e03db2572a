"""Issue 14: a hostile-input corpus sent to every API endpoint and the main pages.

Authenticated as people with the rights to act (an admin and the model's owner), each
hostile body, query string and form field must get an answer below 500; an API 4xx is the
JSON error format (DESIGN.md), and a 400 names a field; a refused request stores nothing
(the counts of models, versions, artifacts, documents, requests and decisions stay put).
Through Django's test client on PostgreSQL with DEBUG off (not a live server).
"""

from __future__ import annotations

import functools
import io
import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from governance.approvals.models import Decision, PromotionRequest
from governance.approvals.services import promotion_request
from governance.evidence.models import Artifact, Document
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion, RegisteredModel
from tests.factories import api_client, grant

pytestmark = pytest.mark.django_db

POLICY = """
name: corpus
applies_to: {models: [credit-scoring]}
transitions:
  draft->staging:
    gates: []
    approvals: [{role: reviewer}]
"""

BIG_INT = "9" * 5000
DEEP_LIST = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a": ' * 3000 + "1" + "}" * 3000

#: Whole bodies that are not what any endpoint takes.
HOSTILE_BODIES = [
    "",
    "null",
    "true",
    "1",
    '"text"',
    "[]",
    "{",
    '{"a": 1, "a": 2}',
    DEEP_LIST,
    DEEP_OBJECT,
    '{"x": 1e999}',
    '{"x": NaN}',
    '{"x": -Infinity}',
    '{"x": ' + BIG_INT + "}",
    '{"\\u0000": 1}',
    '{"\\ud800": "x"}',
    "\xff\xfe",
]

#: Values put in one field of an otherwise valid body (raw JSON text).
HOSTILE_VALUES = [
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '"\\udfff\\ud800"',
    json.dumps("x" * 300_000),
    '""',
    "null",
    "true",
    "-1",
    "0",
    "1e999",
    BIG_INT,
    "-" + BIG_INT,
    "1.5",
    "[]",
    '["\\u0000"]',
    "{}",
    '{"\\u0000": "\\ud800"}',
    DEEP_LIST,
    DEEP_OBJECT,
    '"2026-02-30T00:00:00"',
    '"<script>alert(1)</script>"',
    '"../../etc/passwd"',
    '"\\u202e\\u0000"',
]

#: Values for query-string parameters (already percent-encoded where needed).
HOSTILE_QUERY = [
    "%00",
    "a%00b",
    "%ED%A0%80",
    "%ff%fe",
    "x" * 10_000,
    "2026-02-30",
    "2026-02-30T00:00:00",
    "9999-12-31T23:59:59%2B14:00",
    "0001-01-01T00:00:00-14:00",
    BIG_INT,
    "-1",
    "1e999",
    "NaN",
    "v" + BIG_INT,
    quote("<script>"),
]


COUNTED = (RegisteredModel, ModelVersion, Artifact, Document, PromotionRequest, Decision)


@functools.cache
def _counts_query() -> tuple[str, tuple]:
    """Each manager's own query (whatever it filters) counted as a scalar subquery: one
    SELECT giving the six numbers, compiled once."""
    parts, params = [], []
    for i, model in enumerate(COUNTED):
        sql, args = model.objects.values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted{i})")
        params.extend(args)
    return "SELECT " + ", ".join(parts), tuple(params)


def counts() -> tuple[int, ...]:
    """How many models, versions, artifacts, documents, requests and decisions are stored.

    Read before and after each of the corpus's ~2,000 requests, so one precompiled query: the
    same numbers as six `.count()` calls, without six round trips and six ORM compilations.
    """
    sql, params = _counts_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return tuple(cursor.fetchone())


@pytest.fixture
def world(alice, bob, charlie, admin_user, version):
    grant(alice, "mlops", team=version.model.team)
    policy_publish(text=POLICY)
    request = promotion_request(user=alice, version=version, to_stage="staging", justification="corpus")
    return {"request": request, "admin": admin_user, "alice": alice, "bob": bob}


def check_api(response, where: str, field: str | None, before, problems: list[str]) -> None:
    status = response.status_code
    if status >= 500:
        problems.append(f"{where}: {status}")
        return
    if status >= 400:
        try:
            error = response.json()["error"]
            assert {"code", "message", "fields"} <= set(error) and error["message"]
        except Exception:  # noqa: BLE001 - any shape problem is the finding
            problems.append(f"{where}: {status} without the JSON error format: {response.content[:200]!r}")
            return
        if status == 400 and not error["fields"]:
            problems.append(f"{where}: 400 naming no field: {error}")
        elif status == 400 and field and not any(k.split(".")[0] in (field, "body") for k in error["fields"]):
            problems.append(f"{where}: 400 names {sorted(error['fields'])}, not {field}")
        if counts() != before:
            problems.append(f"{where}: refused with {status} but stored something")


def api_endpoints(world) -> list[tuple[str, str, dict]]:
    pk = world["request"].pk
    base = "/api/v1/models/credit-scoring"
    sha = "a" * 64
    return [
        ("post", "/api/v1/models/", {"name": "m-x", "team": "credit", "risk_tier": "low", "description": "d"}),
        ("post", f"{base}/versions/", {"artifact_uri": "s3://x", "artifact_sha256": sha, "training_config": {}}),
        ("post", f"{base}/versions/1/documents/", {"kind": "model_card", "content": "# c", "fields": {}}),
        ("post", f"{base}/versions/1/promotions/", {"to_stage": "staging", "justification": "j"}),
        ("post", f"{base}/versions/1/dry-run/", {"to_stage": "staging"}),
        ("post", f"/api/v1/promotions/{pk}/decisions/", {"decision": "approve", "reason": "r", "risk_class": "low"}),
        ("post", f"/api/v1/promotions/{pk}/cancel/", {"reason": "r"}),
        ("post", f"/api/v1/promotions/{pk}/resubmit/", {"note": "n"}),
        ("post", f"{base}/rollback/", {"reason": "r", "ticket_id": "T-1"}),
        ("post", "/api/v1/roles/", {"user": "charlie", "role": "auditor", "team": "credit"}),
        ("delete", "/api/v1/roles/", {"user": "charlie", "role": "auditor", "team": "credit"}),
        ("post", "/api/v1/reports/", {"scope": "period", "since": "2026-01-01T00:00:00Z"}),
    ]


def test_hostile_json_bodies_and_fields_on_every_api_endpoint(world):
    # Every value in every field of every endpoint happens here only: the live-server test
    # (test_hostile_live.py) sends each body and value to each endpoint over the socket, the
    # field turning with the value, since which field a value lands in is the same code
    # in-process and behind gunicorn.
    client = api_client(world["admin"])
    client.raise_request_exception = False
    problems: list[str] = []
    for method, url, valid in api_endpoints(world):
        send = getattr(client, method)
        for body in HOSTILE_BODIES:
            before = counts()
            response = send(url, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")
            check_api(response, f"{method} {url} body {body[:30]!r}", None, before, problems)
        for field in valid:
            for value in HOSTILE_VALUES:
                body = json.dumps({k: v for k, v in valid.items() if k != field})[:-1]
                body = f'{body}{", " if len(valid) > 1 else ""}"{field}": {value}}}'
                before = counts()
                response = send(url, data=body, content_type="application/json")
                check_api(response, f"{method} {url} {field}={value[:30]}", field, before, problems)
    assert not problems, "\n".join(problems)


def test_hostile_uploads(world):
    client = api_client(world["alice"])
    client.raise_request_exception = False
    problems: list[str] = []
    url = "/api/v1/models/credit-scoring/versions/1/evidence/"
    files = {
        "m.json": b'{"auc": ' + BIG_INT.encode() + b"}",
        "deep.json": DEEP_LIST.encode(),
        "nul.json": b'{"a\\u0000": 1}',
        "sur.json": b'{"a": "\\ud800"}',
        "c.yaml": b"a: " + b"[" * 3000 + b"]" * 3000,
        "bomb.yaml": b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
        "t.csv": b"latency_ms\n1e308\n-1e308\n1e999\nnan\n",
        "nul.csv": b"y_true,y_score,gr\x00oup\n1,0.5,a\x00b\n0,0.2,c\n",
        "bin.csv": bytes(range(256)) * 4,
        "empty.csv": b"",
        "bad.parquet": b"PAR1" + b"\x00" * 64 + b"PAR1",
    }
    kinds = ["metrics", "training_config", "latency", "predictions", "robustness", "cost", "sbom", "licenses"]
    for kind in [*kinds, "\x00", "x" * 1000]:
        for name, data in files.items():
            upload = io.BytesIO(data)
            upload.name = name
            before = counts()
            response = client.post(url, {"kind": kind, "file": upload}, format="multipart")
            check_api(response, f"upload {kind[:20]!r} {name}", None, before, problems)
    for name in ("\x00.json", "a" * 5000 + ".json"):
        upload = io.BytesIO(b'{"auc": 0.9}')
        upload.name = name
        before = counts()
        response = client.post(url, {"kind": "metrics", "file": upload}, format="multipart")
        check_api(response, f"upload named {name[:20]!r}", None, before, problems)
    upload = io.BytesIO(b"%PDF-1.4 not really")
    upload.name = "r.pdf"
    before = counts()  # read before the request (an argument after it would compare the counts with themselves)
    check_api(
        client.post("/api/v1/reports/verify/", {"file": upload}, format="multipart"), "verify", None, before, problems
    )
    assert not problems, "\n".join(problems)


API_QUERIES = {
    "/api/v1/models/": ["team", "risk_tier", "stage", "q", "page"],
    "/api/v1/audit/": ["model", "version", "action", "actor", "since", "until", "page"],
    "/api/v1/audit.csv": ["model", "version", "action", "actor", "since", "until"],
    "/api/v1/models/credit-scoring/history/": ["at"],
}


def test_hostile_query_strings_on_the_api(world):
    client = api_client(world["admin"])
    client.raise_request_exception = False
    problems: list[str] = []
    for url, params in API_QUERIES.items():
        for param in params:
            for value in HOSTILE_QUERY:
                before = counts()
                response = client.get(f"{url}?{param}={value}")
                check_api(response, f"GET {url}?{param}={value[:30]}", None, before, problems)
    for url in ("/api/v1/models/%00/", "/api/v1/models/%00/versions/1/", "/api/v1/promotions/99999999999999999999/"):
        before = counts()
        check_api(client.get(url), f"GET {url}", None, before, problems)
    assert not problems, "\n".join(problems)


PAGE_QUERIES = {
    "/": ["tab", "team", "risk_tier", "change_type", "transition", "overdue", "page"],
    "/models/": ["team", "risk_tier", "stage", "q", "page"],
    "/audit/": ["model", "version", "action", "actor", "since", "until", "page"],
    "/audit.csv": ["model", "since"],
    "/models/credit-scoring/history/": ["at"],
    "/models/credit-scoring/v1/dry-run/": ["transition"],
    "/reports/": ["page"],
}


def test_hostile_query_strings_and_paths_on_the_pages(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["admin"])
    problems = []
    for url, params in PAGE_QUERIES.items():
        for param in params:
            for value in HOSTILE_QUERY:
                status = client.get(f"{url}?{param}={value}").status_code
                if status >= 500:
                    problems.append(f"GET {url}?{param}={value[:30]}: {status}")
    for url in ("/models/%00/", "/policies/%00/", "/models/%00/v1/", "/requests/99999999999999999999/", "/%00"):
        status = client.get(url).status_code
        if status >= 500:
            problems.append(f"GET {url}: {status}")
    assert not problems, "\n".join(problems)


HOSTILE_FORM_VALUES = ["\x00", "a\x00b", "x" * 300_000, "", "2026-02-30", BIG_INT, "<script>alert(1)</script>"]


def test_hostile_form_fields_on_the_pages(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["admin"])
    pk = world["request"].pk
    forms = {
        "/models/credit-scoring/v1/documents/model_card/": {"content": "# c", "intended_use": "x"},
        "/models/credit-scoring/v1/promote/": {"to_stage": "staging", "justification": "j", "change_type": "standard"},
        f"/requests/{pk}/decide/": {"decision": "approve", "reason": "r", "risk_class": "low", "role": "reviewer"},
        f"/requests/{pk}/cancel/": {"reason": "r"},
        "/models/credit-scoring/rollback/": {"reason": "r", "ticket_id": "T-1"},
        "/policies/new/": {"content": POLICY, "reason": "r"},
        "/policies/corpus/edit/": {"content": POLICY, "reason": "r"},
        "/roles/": {"action": "grant", "username": "charlie", "role": "auditor", "scope": "team:credit"},
        "/reports/": {"scope": "period", "since": "2026-01-01", "until": "2026-02-01"},
    }
    problems = []
    for url, valid in forms.items():
        for field in valid:
            for value in HOSTILE_FORM_VALUES:
                before = counts()
                response = client.post(url, {**valid, field: value})
                if response.status_code >= 500:
                    problems.append(f"POST {url} {field}={value[:20]!r}: {response.status_code}")
                elif response.status_code >= 400 and counts() != before:
                    problems.append(f"POST {url} {field}={value[:20]!r}: refused but stored something")
    for value in (
        "\x00",
        "- {a: " * 200,
        "a: " + BIG_INT,
        "name: x\ncount: 1e999",
        "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    ):
        response = client.post("/policies/new/", {"content": value, "reason": "r"})
        if response.status_code >= 500:
            problems.append(f"POST /policies/new/ content={value[:20]!r}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_garbage_cookies_are_ignored_not_looked_up(world):
    """A NUL in `sessionid` once reached the session table (DataError, 500)."""
    client = Client(raise_request_exception=False)
    for cookie in ("sessionid=a\x00b", "sessionid=\x00" * 3, "csrftoken=\x00; sessionid=abcdefgh\x01"):
        response = client.get("/", HTTP_COOKIE=cookie)
        assert response.status_code == 302 and "/login/" in response["Location"], cookie
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(world["admin"])
    session = signed_in.cookies["sessionid"].value
    response = signed_in.get("/", HTTP_COOKIE=f"sessionid={session}; junk=\x00")
    assert response.status_code == 200  # the good cookie still counts

"""Pages and filters on the API's lists (issue 13, API completeness)."""

from __future__ import annotations

import io

import pytest

from governance.registry.models import ModelVersion, Stage
from tests.api.test_promotion_flow import assert_error
from tests.factories import api_client, grant, make_model, make_team, make_user, make_version, put_at_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    growth, risk = make_team("growth"), make_team("risk")
    user = make_user("reader")
    grant(user, "auditor", team=growth)
    grant(user, "auditor", team=risk)
    for i in range(5):
        make_model(f"g{i}", team=growth, risk_tier="high" if i % 2 else "low")
    make_model("r0", team=risk)
    churn = make_model("churn", team=growth)
    owner = make_user("owner")
    grant(owner, "mlops", team=growth)
    versions = [make_version(churn, owner) for _ in range(5)]
    put_at_stage(ModelVersion.objects.filter(pk__in=[v.pk for v in versions[:2]]), Stage.STAGING)
    return api_client(user)


def test_the_model_list_is_paged_and_filtered(world):
    r = world.get("/api/v1/models/?page_size=2")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 7 and len(body["results"]) == 2 and body["previous"] is None
    assert [m["name"] for m in body["results"]] == ["churn", "g0"]
    assert "page=2" in body["next"] and "page_size=2" in body["next"]
    last = world.get("/api/v1/models/?page_size=2&page=4").json()
    assert [m["name"] for m in last["results"]] == ["r0"] and last["next"] is None
    assert world.get("/api/v1/models/?team=risk").json()["count"] == 1
    assert world.get("/api/v1/models/?team=growth&risk_tier=high").json()["count"] == 2
    assert [m["name"] for m in world.get("/api/v1/models/?stage=staging").json()["results"]] == ["churn"]
    assert world.get("/api/v1/models/?q=g").json()["count"] == 5


def test_a_model_names_its_production_version_in_the_list_and_on_its_own(world):
    churn = ModelVersion.objects.filter(model__name="churn")
    put_at_stage(churn.filter(version=2), Stage.PRODUCTION)
    listed = {m["name"]: m["production_version"] for m in world.get("/api/v1/models/").json()["results"]}
    assert listed["churn"] == 2 and listed["g0"] is None
    assert world.get("/api/v1/models/churn/").json()["production_version"] == 2
    assert world.get("/api/v1/models/g0/").json()["production_version"] is None
    assert_error(world.get("/api/v1/models/nope/"), 404)


def test_the_version_list_is_paged_and_filtered_by_stage(world):
    body = world.get("/api/v1/models/churn/versions/?page_size=3").json()
    assert body["count"] == 5 and [v["version"] for v in body["results"]] == [5, 4, 3]
    assert [v["version"] for v in world.get(body["next"]).json()["results"]] == [2, 1]
    staged = world.get("/api/v1/models/churn/versions/?stage=staging").json()
    assert staged["count"] == 2 and {v["stage"] for v in staged["results"]} == {"staging"}
    assert world.get("/api/v1/models/churn/versions/?stage=production").json()["count"] == 0
    assert_error(world.get("/api/v1/models/churn/versions/?stage=live"), 400, "invalid", "stage")


@pytest.mark.parametrize("url", ["/api/v1/models/", "/api/v1/models/churn/versions/", "/api/v1/audit/"])
@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=99", "page"),
        ("page=99999999999999999999", "page"),
        ("page=%00", "page"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page_size=x", "page_size"),
        ("page_size=", "page_size"),
    ],
)
def test_a_bad_page_or_page_size_is_a_400_naming_it(world, url, query, field):
    assert_error(world.get(f"{url}?{query}"), 400, "invalid", field)


def test_an_empty_list_has_a_first_page(db):
    client = api_client(make_user("nobody"))
    assert client.get("/api/v1/models/?page=1").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_evidence_list_is_paged_and_filtered_by_kind(world):
    owner = api_client(make_user("owner"))
    url = "/api/v1/models/churn/versions/5/evidence/"
    for kind, data in [("metrics", b'{"auc": 0.9}'), ("metrics", b'{"auc": 0.8}'), ("attachment", b"notes")]:
        upload = io.BytesIO(data)
        upload.name = f"{kind}.json"
        assert owner.post(url, {"kind": kind, "file": upload}, format="multipart").status_code == 201
    body = world.get(f"{url}?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert world.get(f"{url}?kind=metrics").json()["count"] == 2
    assert_error(world.get(f"{url}?kind=nope"), 400, "invalid", "kind")
    assert_error(world.get(f"{url}?page=3&page_size=2"), 400, "invalid", "page")


def test_the_report_list_is_paged(world):
    for day in ("01", "02", "03"):
        r = world.post("/api/v1/reports/", {"scope": "period", "since": f"2026-01-{day}T00:00:00Z"}, format="json")
        assert r.status_code == 202, r.content
    body = world.get("/api/v1/reports/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert_error(world.get("/api/v1/reports/?page_size=0"), 400, "invalid", "page_size")

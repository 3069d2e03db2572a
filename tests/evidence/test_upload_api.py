"""Evidence and documents through the HTTP API: accepted, deduplicated, or refused cleanly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from governance.evidence.models import Artifact, Blob, Document
from tests.factories import COMPLETE_DOCUMENTS, predictions_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(alice):
    _, key = ApiToken.issue(user=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _post(api, version, kind, data: bytes, name: str):
    upload = io.BytesIO(data)
    upload.name = name
    return api.post(
        f"/api/v1/models/{version.model.name}/versions/{version.version}/evidence/",
        {"kind": kind, "file": upload},
        format="multipart",
    )


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


VALID = {
    "predictions": (predictions_csv(500), "p.csv"),
    "metrics": (json.dumps({"auc": 0.8, "ks": {"train": 0.4, "test": 0.39}}).encode(), "metrics.json"),
    "latency": (
        b"latency_ms,error\n" + b"".join(f"{10 + i % 7},{int(i % 97 == 0)}\n".encode() for i in range(300)),
        "latency.csv",
    ),
    "cost": (json.dumps({"cost_per_1k": 0.2}).encode(), "cost.json"),
    "sbom": (
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "version": 1,
                "components": [{"type": "library", "name": "numpy", "version": "2.0"}],
            }
        ).encode(),
        "sbom.json",
    ),
    "licenses": (
        json.dumps([{"name": "numpy", "version": "2.0", "license": "BSD-3-Clause"}]).encode(),
        "licenses.json",
    ),
    "training_config": (b"learning_rate: 0.1\nmax_depth: 6\n", "config.yaml"),
    "feature_reference": (b"income,region\n" + b"".join(f"{i},n\n".encode() for i in range(100)), "ref.csv"),
    "feature_current": (b"income,region\n" + b"".join(f"{i + 3},s\n".encode() for i in range(100)), "cur.csv"),
    "robustness": (
        json.dumps({"tests": [{"name": "noise", "metric": "auc", "baseline": 0.8, "perturbed": 0.78}]}).encode(),
        "rob.json",
    ),
    "attachment": (b"%PDF-1.4 fake validation report", "validation.pdf"),
}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_uploads(api, version, kind):
    data, name = VALID[kind]
    r = _post(api, version, kind, data, name)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == kind and len(body["sha256"]) == 64 and body["size"] == len(data)
    artifact = Artifact.objects.get(pk=body["id"])
    assert artifact.blob.file.read() == data
    if kind in ("predictions", "latency", "feature_reference", "feature_current"):
        assert artifact.row_count > 0 and artifact.blob.columnar_file
    assert AuditEvent.objects.filter(action="evidence.uploaded").count() == 1


def test_the_same_file_is_stored_once(api, version):
    data, name = VALID["predictions"]
    a = _post(api, version, "predictions", data, name).json()
    b = _post(api, version, "predictions", data, "again.csv").json()
    assert a["sha256"] == b["sha256"] and a["id"] != b["id"]
    assert Blob.objects.count() == 1


MALFORMED = [
    ("predictions", b"y_true,y_score\n", "no data rows"),
    ("predictions", b"y_score,gender\n0.1,f\n", "y_true"),
    ("predictions", b"y_true;y_score\n1;0.2\n", "delimited"),
    ("predictions", b"y_true,y_score\n1,abc\n", "line 2"),
    ("predictions", b"y_true,y_score\n1,0.5\n0,\xff\xfe\n", "UTF-8"),
    ("latency", b"latency_ms\n-5\n", "latency_ms"),
    ("metrics", b"{not json", "JSON"),
    ("sbom", b'{"bomFormat": "SPDX"}', "CycloneDX"),
    ("cost", b'{"cost_per_1k": -1}', "cost"),
    ("predictions", b"", "empty"),
]


@pytest.mark.parametrize("kind,data,message", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_uploads_are_refused_and_leave_nothing_behind(api, version, kind, data, message):
    before_files = _stored_files()
    before_events = AuditEvent.objects.count()
    r = _post(api, version, kind, data, "bad.csv" if kind in ("predictions", "latency") else "bad.json")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "invalid_evidence" and message.lower() in error["message"].lower(), error
    assert "file" in error["fields"] or "kind" in error["fields"]
    assert not Artifact.objects.exists() and not Blob.objects.exists()
    assert _stored_files() == before_files
    assert AuditEvent.objects.count() == before_events


def test_unknown_kind_and_missing_file(api, version):
    r = _post(api, version, "horoscope", b"x", "x.txt")
    assert r.status_code == 400 and "kind" in r.json()["error"]["fields"]
    r = api.post(f"/api/v1/models/{version.model.name}/versions/1/evidence/", {"kind": "metrics"}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]


def test_the_size_limit_is_enforced_while_streaming(api, version, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1000
    r = _post(api, version, "predictions", predictions_csv(200), "big.csv")
    assert r.status_code == 413
    assert "limit" in r.json()["error"]["message"]
    assert not Artifact.objects.exists()


def test_documents_are_versioned_and_report_missing_fields(api, version):
    url = f"/api/v1/models/{version.model.name}/versions/1/documents/"
    r = api.post(url, {"kind": "model_card", "fields": {"intended_use": "Scoring"}, "content": "# Card"}, format="json")
    assert r.status_code == 201 and r.json()["revision"] == 1
    assert "human_in_the_loop" in r.json()["missing_fields"]
    r = api.post(url, {"kind": "model_card", "fields": COMPLETE_DOCUMENTS["model_card"]}, format="json")
    assert r.status_code == 201 and r.json()["revision"] == 2 and r.json()["missing_fields"] == []
    assert Document.objects.filter(version=version).count() == 2
    r = api.post(url, {"kind": "model_card", "fields": {"not_a_field": "x"}}, format="json")
    assert r.status_code == 400 and any("not_a_field" in k for k in r.json()["error"]["fields"])
    r = api.post(url, {"kind": "horoscope", "fields": {}}, format="json")
    assert r.status_code == 400 and "kind" in r.json()["error"]["fields"]
    assert Document.objects.filter(version=version).count() == 2


def test_outsiders_cannot_upload(charlie, version):
    _, key = ApiToken.issue(user=charlie)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    r = _post(client, version, "metrics", b"{}", "m.json")
    assert r.status_code == 404
    assert not Artifact.objects.exists()

"""Large uploads are parsed by the real Celery worker, not the web process (issue 14): the
POST answers 202 "parsing queued" with a status URL; the evidence exists (and gates can read
it) only once the worker accepted it; a refused one ends with the parser's own error and
leaves no evidence behind. Small uploads stay synchronous (201, tests/evidence/test_upload_api.py)."""

from __future__ import annotations

import hashlib
import io
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from governance.accounts.models import ApiToken
from governance.audit.models import AuditEvent
from governance.evidence.models import Artifact, Blob, QueuedUpload
from governance.evidence.parsers import EvidenceError, parse_evidence
from governance.evidence.selectors import artifacts_current
from tests.conftest import wait_for
from tests.factories import predictions_csv, write_temp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

THRESHOLD = 20_000


@pytest.fixture
def api(alice, settings):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = THRESHOLD
    _, key = ApiToken.issue(user=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _post(api, version, data: bytes, name: str, kind: str = "predictions"):
    upload = io.BytesIO(data)
    upload.name = name
    return api.post(
        f"/api/v1/models/{version.model.name}/versions/{version.version}/evidence/",
        {"kind": kind, "file": upload},
        format="multipart",
    )


def _settled(api, url: str) -> dict:
    return wait_for(
        lambda: (body := api.get(url).json())["status"] in ("accepted", "refused") and body,
        timeout=60,
        message="the worker to parse the upload",
    )


def _incoming_copy(data: bytes) -> Path:
    """Where the upload of `data` waits for the worker (content-addressed by its sha256)."""
    sha256 = hashlib.sha256(data).hexdigest()
    return Path(settings.MEDIA_ROOT) / "incoming" / sha256[:2] / sha256


def _incoming_gone(data: bytes) -> None:
    """The worker removes this upload's waiting copy just after it records the outcome: wait
    for it. Only this file counts: an earlier test's upload in this process's media
    directory may still be on its way out."""
    wait_for(lambda: not _incoming_copy(data).exists(), timeout=30, message="the incoming copy to be removed")


def test_a_large_upload_is_queued_then_parsed_by_the_worker_and_becomes_usable(api, version, stopped_celery_worker):
    data = predictions_csv(3000)
    assert len(data) > THRESHOLD
    response = _post(api, version, data, "predictions.csv")
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] == "queued" and queued["artifact"] is None and queued["error"] is None
    assert queued["status_url"] == f"/api/v1/evidence/uploads/{queued['id']}/"
    assert queued["size"] == len(data) and queued["kind"] == "predictions"
    assert _incoming_copy(data).exists()  # waiting for the worker
    # Not evidence yet: nothing a gate could read.
    assert not Artifact.objects.filter(version=version).exists()
    assert "predictions" not in artifacts_current(version)
    assert api.get(queued["status_url"]).json()["status"] == "queued"

    stopped_celery_worker.start()
    done = _settled(api, queued["status_url"])
    assert done["status"] == "accepted", done
    artifact = Artifact.objects.get(version=version, kind="predictions")
    assert done["artifact"]["id"] == artifact.pk and done["artifact"]["row_count"] == 3000
    assert artifact.row_count == 3000 and artifact.blob.columnar_file  # the gates' Parquet copy
    assert artifacts_current(version)["predictions"].pk == artifact.pk
    assert AuditEvent.objects.filter(action="evidence.uploaded", object_id=str(artifact.pk)).exists()
    listed = api.get(f"/api/v1/models/{version.model.name}/versions/{version.version}/evidence/").json()
    assert [a["id"] for a in listed["results"]] == [artifact.pk]
    _incoming_gone(data)  # the waiting copy is gone; the blob is the evidence


def test_a_large_invalid_upload_ends_refused_with_the_parsers_error(api, version, celery_worker):
    lines = predictions_csv(3000).decode().splitlines(keepends=True)
    lines[2500] = "1,not-a-score,0.4,f,18-30\n"
    data = "".join(lines).encode()
    with tempfile.TemporaryDirectory() as workdir:  # the reference: the parser itself
        with pytest.raises(EvidenceError) as expected:
            parse_evidence("predictions", write_temp(data), original_name="p.csv", columnar_dir=workdir)

    response = _post(api, version, data, "p.csv")
    assert response.status_code == 202, response.content
    done = _settled(api, response.json()["status_url"])
    assert done["status"] == "refused" and done["artifact"] is None
    assert done["error"]["message"] == expected.value.message
    assert "line 2501" in done["error"]["message"] and done["error"]["fields"] == {"file": [expected.value.message]}
    assert not Artifact.objects.filter(version=version).exists()
    assert not Blob.objects.exists()
    _incoming_gone(data)


def test_the_status_of_an_upload_is_private_to_those_who_see_the_model(api, version, charlie, celery_worker):
    response = _post(api, version, predictions_csv(3000), "predictions.csv")
    assert response.status_code == 202
    _settled(api, response.json()["status_url"])
    _, key = ApiToken.issue(user=charlie)
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert outsider.get(response.json()["status_url"]).status_code == 404
    assert QueuedUpload.objects.count() == 1


def test_the_browser_upload_of_a_large_file_says_a_worker_checks_it(client, alice, version, settings):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = THRESHOLD
    client.force_login(alice)
    upload = io.BytesIO(predictions_csv(3000))
    upload.name = "predictions.csv"
    response = client.post(
        f"/models/{version.model.name}/v{version.version}/evidence/",
        {"kind": "predictions", "file": upload},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "predictions.csv is large: a worker is checking it now. Follow it under Uploads in progress; "
        "it joins the Evidence once accepted."
    ]
    assert QueuedUpload.objects.get().original_name == "predictions.csv"


def test_a_parse_the_broker_lost_is_queued_again_by_the_sweep(api, version, stopped_celery_worker):
    from datetime import timedelta

    from django.utils import timezone

    from governance.evidence.queued import evidence_parse_sweep
    from tests.conftest import _purge_queue

    response = _post(api, version, predictions_csv(3000), "predictions.csv")
    assert response.status_code == 202
    _purge_queue()  # the message is lost (Redis restarted empty)
    stopped_celery_worker.start()
    queued_at = QueuedUpload.objects.get().created_at
    assert evidence_parse_sweep(now=queued_at + timedelta(seconds=1)) == 0  # just queued: not its business
    later = timezone.now() + timedelta(seconds=settings.GATE_STALE_AFTER_SECONDS + 1)
    assert evidence_parse_sweep(now=later) == 1
    done = _settled(api, response.json()["status_url"])
    assert done["status"] == "accepted" and done["artifact"]["row_count"] == 3000
    assert evidence_parse_sweep(now=later) == 0

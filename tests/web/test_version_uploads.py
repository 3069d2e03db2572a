"""The version page shows the large uploads a worker parses (issue 14): queued ones while they
wait, refused ones with the parser's own error in words, accepted ones with a link to the
evidence; only to those who see the version. Uploads go through the browser form and the
real Celery worker, as a person would send them."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.evidence.models import Artifact, QueuedUpload
from governance.evidence.queued import evidence_parse
from tests.conftest import _purge_queue, wait_for
from tests.factories import predictions_csv, upload

THRESHOLD = 20_000


@pytest.fixture(autouse=True)
def _large_is_small(settings):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = THRESHOLD


def _bad_predictions() -> bytes:
    lines = predictions_csv(3000).decode().splitlines(keepends=True)
    lines[2500] = "1,not-a-score,0.4,f,18-30\n"
    return "".join(lines).encode()


def _post(client, version, data: bytes, name: str, kind: str = "predictions"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        f"/models/{version.model.name}/v{version.version}/evidence/", {"kind": kind, "file": file}, follow=True
    )


def _rows(page: str) -> dict[str, str]:
    """Each row of the uploads panel, by file name: its text, tags stripped."""
    panel = page.split('id="uploads"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r"<tr data-upload=.*?</tr>", panel, flags=re.S)
    text = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    return {t.split(" ", 1)[0]: t for t in text}


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_version_page_shows_a_queued_and_a_refused_upload_and_hides_them_from_outsiders(
    client, alice, charlie, version, stopped_celery_worker
):
    client.force_login(alice)
    refused = _post(client, version, _bad_predictions(), "bad-predictions.csv")
    assert refused.status_code == 200
    stopped_celery_worker.start()
    wait_for(
        lambda: QueuedUpload.objects.filter(status="refused").exists(), timeout=60, message="the worker to refuse it"
    )
    stopped_celery_worker.kill()
    _purge_queue()

    # The user lands back on the version page, scrolled to the panel, and sees the upload waiting.
    landed = _post(client, version, predictions_csv(3000), "predictions.csv")
    assert landed.redirect_chain == [(f"/models/{version.model.name}/v{version.version}/#uploads", 302)]
    assert [str(m) for m in landed.context["messages"]] == [
        "predictions.csv is large: a worker is checking it now. Follow it under Uploads in progress; "
        "it joins the Evidence once accepted."
    ]
    page = landed.content.decode()
    assert "Uploads in progress" in page
    rows = _rows(page)
    assert list(rows) == ["predictions.csv", "bad-predictions.csv"]  # newest first
    assert "Predictions" in rows["predictions.csv"] and "alice" in rows["predictions.csv"]
    assert "queued waiting for a worker" in rows["predictions.csv"]
    message = QueuedUpload.objects.get(status="refused").error["message"]
    assert "line 2501" in message
    assert "refused " + message[0].upper() + message[1:] in rows["bad-predictions.csv"]
    assert "Nothing was stored. Fix the file and upload it again." in rows["bad-predictions.csv"]
    assert not Artifact.objects.filter(version=version).exists()
    # While one waits the panel asks again every 3 s; the partial is the same panel.
    assert 'hx-trigger="every 3s"' in page
    poll = client.get(f"/models/{version.model.name}/v{version.version}/uploads/", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and list(_rows(poll.content.decode())) == list(rows)

    client.force_login(charlie)
    assert client.get(f"/models/{version.model.name}/v{version.version}/").status_code == 404
    assert client.get(f"/models/{version.model.name}/v{version.version}/uploads/").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_once_the_worker_accepts_it_the_panel_links_the_evidence_and_stops_polling(
    client, alice, bob, version, celery_worker
):
    client.force_login(alice)
    _post(client, version, predictions_csv(3000), "predictions.csv")
    wait_for(
        lambda: QueuedUpload.objects.filter(status="accepted").exists(), timeout=60, message="the worker to accept it"
    )
    artifact = Artifact.objects.get(version=version)
    client.force_login(bob)  # a reviewer sees it too: same access as the page
    poll = client.get(f"/models/{version.model.name}/v{version.version}/uploads/", HTTP_HX_REQUEST="true")
    panel = poll.content.decode()
    assert re.search(r"stored at \d\d:\d\d · view the evidence", _rows(panel)["predictions.csv"])
    assert f'href="/models/{version.model.name}/v{version.version}/evidence/{artifact.pk}/"' in panel
    assert "hx-trigger" not in panel and "Reload the page" in panel


def _queue_and_parse(client, version, data: bytes, name: str, kind: str) -> QueuedUpload:
    """The browser form, then the worker's own parse function in this process (no broker:
    this test's transaction never commits, so nothing is sent)."""
    _post(client, version, data, name, kind)
    queued = QueuedUpload.objects.get(original_name=name)
    evidence_parse(upload_id=queued.pk)
    queued.refresh_from_db()
    return queued


@pytest.mark.django_db
def test_a_refused_upload_leaves_the_page_once_a_newer_file_of_its_kind_is_stored_or_after_a_week(
    client, alice, version
):
    client.force_login(alice)
    page_url = f"/models/{version.model.name}/v{version.version}/"
    refused_latency = _queue_and_parse(
        client, version, b"latency_ms,error\n" + b"oops,0\n" * 4000, "latency.csv", "latency"
    )
    refused_predictions = _queue_and_parse(client, version, _bad_predictions(), "bad-predictions.csv", "predictions")
    assert {refused_latency.status, refused_predictions.status} == {"refused"}
    assert list(_rows(client.get(page_url).content.decode())) == ["bad-predictions.csv", "latency.csv"]

    upload(alice, version, "predictions", predictions_csv(200), "small-predictions.csv")  # stored at once
    page = client.get(page_url).content.decode()
    assert list(_rows(page)) == ["latency.csv"]
    assert "Recent large uploads" in page and "hx-trigger" not in page  # nothing waits: no polling

    QueuedUpload.objects.filter(pk=refused_latency.pk).update(finished_at=timezone.now() - timedelta(days=8))
    page = client.get(page_url).content.decode()
    assert 'id="uploads"' not in page and "No evidence" not in page

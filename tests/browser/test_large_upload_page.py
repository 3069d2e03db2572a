"""A model owner uploads large files on the version page: each lands in "Uploads in progress"
at once, and the panel follows the real Celery worker without a reload: a broken table turns
to "refused" with the parser's words, a good one to "stored" with a link to the evidence.
Screenshots go to $SCREENSHOT_DIR (if set) for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.evidence.models import Artifact
from tests.conftest import _purge_queue
from tests.factories import PASSWORD, grant, make_model, make_team, make_user, make_version, predictions_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.worker]


def _shot(page, name: str, *, full_page: bool = True) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def _upload(page, kind: str, path: Path) -> None:
    page.select_option("select[name=kind]", kind)
    page.set_input_files("input[name=file]", str(path))
    page.click("#h-upload ~ form button[type=submit]")
    page.wait_for_load_state()


def test_large_uploads_show_queued_then_refused_or_stored_on_the_version_page(
    live_server, stopped_celery_worker, browser_page, tmp_path, settings
):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = 20_000
    team = make_team("credit")
    owner = make_user("ana", first_name="Ana", last_name="Owner")
    grant(owner, "model_owner", team=team)
    version = make_version(make_model("credit-scoring", team=team), owner)
    lines = predictions_csv(3000).decode().splitlines(keepends=True)
    lines[2500] = "1,not-a-score,0.4,f,18-30\n"
    bad, good = tmp_path / "scores-2026-11.csv", tmp_path / "predictions-holdout.csv"
    bad.write_text("".join(lines))
    good.write_bytes(predictions_csv(3000, seed=4))
    page, base = browser_page, live_server.url
    url = f"{base}/models/credit-scoring/v{version.version}/"

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(url)
    _upload(page, "predictions", bad)
    assert page.url == url + "#uploads"  # the panel in view, not the top of the page
    assert "a worker is checking it now" in page.locator(".messages").inner_text()
    row = page.locator("#uploads tr[data-upload]").first
    assert "scores-2026-11.csv" in row.inner_text() and "queued" in row.inner_text()

    stopped_celery_worker.start()  # the panel polls: no reload
    page.wait_for_selector("#uploads tr[data-status=refused]", timeout=60_000)
    refused = page.locator("#uploads tr[data-status=refused]").inner_text()
    assert "Line 2501, column 'y_score': 'not-a-score' is not a number" in refused
    assert "Nothing was stored" in refused
    stopped_celery_worker.kill()
    _purge_queue()

    _upload(page, "predictions", good)
    assert [r.get_attribute("data-status") for r in page.locator("#uploads tr[data-upload]").all()] == [
        "queued",
        "refused",
    ]
    assert page.locator("#uploads").get_attribute("hx-trigger") == "every 3s"
    _shot(page, "version-uploads-landing", full_page=False)  # what the person sees on landing
    _shot(page, "version-uploads-queued-and-refused")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#uploads").scroll_into_view_if_needed()
    _shot(page, "version-uploads-mobile", full_page=False)
    page.set_viewport_size({"width": 1300, "height": 900})

    stopped_celery_worker.start()
    page.wait_for_selector("#uploads tr[data-status=accepted]", timeout=60_000)
    artifact = Artifact.objects.get(version=version)
    link = page.locator("#uploads tr[data-status=accepted] a")
    assert link.get_attribute("href") == f"/models/credit-scoring/v{version.version}/evidence/{artifact.pk}/"
    assert page.locator("#uploads").get_attribute("hx-trigger") is None  # done: polling stopped
    assert "Reload the page" in page.locator("#uploads").inner_text()
    _shot(page, "version-uploads-stored")
    page.reload()
    assert "predictions-holdout.csv" in page.locator("section[aria-labelledby=h-evidence]").inner_text()
    _shot(page, "version-uploads-after-reload")

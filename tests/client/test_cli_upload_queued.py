"""`govern upload` of a large file (issue 14): the server queues its parse on a worker (202);
the CLI waits for it and reports the artifact, or the parser's error with a failing exit code,
exactly as for a small file parsed at once."""

from __future__ import annotations

import pytest

from governance.accounts.models import ApiToken
from governance.evidence.models import Artifact
from tests.client.conftest import run_govern
from tests.factories import grant, make_model, make_team, make_user, make_version, predictions_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def pipeline(live_server, settings, tmp_path):
    settings.EVIDENCE_PARSE_IN_WORKER_BYTES = 20_000
    team = make_team("cli-upload")
    user = make_user("pipeline")
    grant(user, "mlops", team=team)
    model = make_model("cli-upload", team=team)
    version = make_version(model, user)
    key = ApiToken.issue(user=user)[1]

    def cli(*args: str):
        return run_govern(*args, url=live_server.url, token=key, timeout=120)

    return cli, version, tmp_path


def test_a_large_upload_waits_for_the_worker_and_reports_the_artifact(pipeline, celery_worker):
    cli, version, tmp = pipeline
    path = tmp / "predictions.csv"
    path.write_bytes(predictions_csv(3000))
    done = cli("upload", "cli-upload", str(version.version), "predictions", str(path), "--interval", "0.2")
    assert done.returncode == 0, (done.stdout, done.stderr)
    artifact = Artifact.objects.get(version=version, kind="predictions")
    assert "parsing queued on the server; waiting" in done.stdout
    assert f"predictions predictions.csv: sha256 {artifact.sha256}, 3000 rows" in done.stdout


def test_a_large_invalid_upload_fails_with_the_parsers_error(pipeline, celery_worker):
    cli, version, tmp = pipeline
    lines = predictions_csv(3000).decode().splitlines(keepends=True)
    lines[1999] = "1,0.5,oops,f,18-30\n"
    path = tmp / "bad.csv"
    path.write_text("".join(lines))
    done = cli("upload", "cli-upload", str(version.version), "predictions", str(path), "--interval", "0.2")
    assert done.returncode != 0
    assert "invalid_evidence (HTTP 400): line 2000, column 'baseline_score': 'oops' is not a number" in done.stderr
    assert not Artifact.objects.filter(version=version).exists()

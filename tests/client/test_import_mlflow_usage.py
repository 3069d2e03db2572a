"""`govern import-mlflow` refusals: one line on stderr, exit 2, before anything is sent (the
client in-process, reading a real local MLflow file store; no governance server needed)."""

from __future__ import annotations

import json
import socket

import pytest
from govern.cli import run
from govern.mlflow import HTTP_DEFAULTS

from tests.imports.mlflow_store import log_run


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        store = tmp_path_factory.mktemp("mlflow") / "mlruns"
        return {
            "tagged": log_run(store),
            "untagged": log_run(store, tags={"mlflow.source.git.commit": None}),
            "no model": log_run(store, model=False, artifacts={}),
        }


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    """A governance server nobody listens on (nothing may reach it); MLflow variables the
    client sets for itself are restored afterwards."""
    monkeypatch.setenv("GOVERNANCE_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("GOVERNANCE_TOKEN", "gov_unused")
    for name in (*HTTP_DEFAULTS, "MLFLOW_ALLOW_FILE_STORE"):
        monkeypatch.delenv(name, raising=False)


def _refused(capsys, argv: list[str], expected: str) -> str:
    code = run(["import-mlflow", *argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("govern: ") and expected in lines[0], err
    return out


def _args(run_, uri: str | None = None, run_id: str | None = None) -> list[str]:
    return ["--tracking-uri", uri or run_.tracking_uri, "--run-id", run_id or run_.run_id, "--model", "churn"]


def test_an_unknown_run(runs, capsys):
    tagged = runs["tagged"]
    _refused(capsys, _args(tagged, run_id="0" * 32), f"no MLflow run {'0' * 32} at {tagged.tracking_uri}")


def test_a_missing_file_store(runs, capsys, tmp_path):
    nowhere = tmp_path / "nowhere"
    _refused(capsys, _args(runs["tagged"], uri=nowhere.as_uri()), f"no MLflow file store at {nowhere}")
    assert not nowhere.exists()  # reading never creates a store


def test_an_unreachable_tracking_server(runs, capsys):
    uri = f"http://127.0.0.1:{_closed_port()}"
    _refused(capsys, _args(runs["tagged"], uri=uri), f"cannot read MLflow run {runs['tagged'].run_id} from {uri}")


def test_a_run_without_its_git_commit_tag(runs, capsys):
    out = _refused(capsys, [*_args(runs["untagged"]), "--json"], "has no mlflow.source.git.commit tag")
    assert "mlflow.source.git.commit" in json.loads(out)["error"]["message"]


def test_a_run_without_a_model(runs, capsys):
    _refused(capsys, _args(runs["no model"]), "logged no model")


def test_a_model_path_that_is_not_in_the_run(runs, capsys):
    _refused(
        capsys, [*_args(runs["tagged"]), "--model-path", "weights.bin"], "--model-path weights.bin: no such artifact"
    )


def test_a_malformed_kind_mapping(runs, capsys):
    _refused(capsys, [*_args(runs["tagged"]), "--kind", "predictions"], "--kind expects PATH=KIND")

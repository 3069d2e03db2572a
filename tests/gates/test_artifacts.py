"""The reproducibility gate verifies artifacts that live elsewhere (issue 12): file:// under
the configured roots only, s3:// against a real local S3-compatible server (moto's server
mode stands in for AWS, which is outside), streamed, size-limited, cached by digest."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid

import boto3
import pytest

from governance.gates.artifacts import artifact_check
from governance.gates.runners import evaluate_gate
from tests.factories import make_version, upload

pytestmark = pytest.mark.django_db

BYTES = b"model weights " * 5000  # 68.4 KiB


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(model, alice, uri: str, data: bytes = BYTES):
    return make_version(model, alice, artifact_uri=uri, artifact_sha256=_sha(data))


@pytest.fixture
def roots(tmp_path, settings):
    root = tmp_path / "models"
    root.mkdir()
    settings.ARTIFACT_FILE_ROOTS = [str(root)]
    return root


def _file(root, data: bytes = BYTES, name: str | None = None):
    path = root / (name or f"{uuid.uuid4().hex}.bin")
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- file://


def test_a_file_under_the_roots_is_hashed_and_matches(model, alice, roots):
    path = _file(roots)
    check = artifact_check(_version(model, alice, f"file://{path}"), fetch=True)
    assert check.matches is True and check.sha256 == _sha(BYTES)
    assert check.note.startswith(f"fetched from file://{path} (68.4 KiB in ")
    assert check.used == {"artifact:uri": _sha(BYTES)}


def test_a_file_with_other_bytes_is_a_mismatch_and_fails_the_gate_even_unasked(model, alice, roots):
    path = _file(roots, b"something else entirely")
    version = _version(model, alice, f"file://{path}")
    check = artifact_check(version, fetch=True)
    assert check.matches is False
    assert f"its sha256 is {_sha(b'something else entirely')[:12]}…" in check.note
    result, inputs = evaluate_gate(
        version=version, spec={"id": "repro", "type": "reproducibility"}, fetch_artifacts=True
    )
    assert result["status"] == "failed"
    assert result["groups"]["artifact_sha256"]["status"] == "mismatch"
    assert "artifact's sha256 does not match artifact_sha256" in result["explanation"]
    assert inputs == {"artifact:uri": _sha(b"something else entirely")}


def test_files_outside_the_roots_are_never_read(model, alice, roots, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(BYTES)
    escape = roots / "escape.bin"
    os.symlink(outside, escape)
    for uri in (f"file://{outside}", f"file://{roots}/../outside.bin", f"file://{escape}", "file:///etc/passwd"):
        check = artifact_check(_version(model, alice, uri), fetch=True)
        assert check.matches is None and check.sha256 is None, uri
        assert "outside ARTIFACT_FILE_ROOTS, so it is not read" in check.note, uri


def test_without_configured_roots_no_file_is_read(model, alice, roots, settings):
    path = _file(roots)
    settings.ARTIFACT_FILE_ROOTS = []
    check = artifact_check(_version(model, alice, f"file://{path}"), fetch=True)
    assert check.matches is None and "no ARTIFACT_FILE_ROOTS are configured" in check.note


def test_a_directory_or_another_host_is_unreachable(model, alice, roots):
    (roots / "dir").mkdir()
    directory = artifact_check(_version(model, alice, f"file://{roots}/dir"), fetch=True)
    assert directory.matches is None and "is not a regular file under ARTIFACT_FILE_ROOTS" in directory.note
    other = artifact_check(_version(model, alice, f"file://fileserver{roots}/x.bin"), fetch=True)
    assert other.matches is None and "names another host (fileserver)" in other.note


def test_a_file_over_the_size_limit_is_unverified(model, alice, roots, settings):
    settings.ARTIFACT_MAX_BYTES = 1000
    path = _file(roots)
    check = artifact_check(_version(model, alice, f"file://{path}"), fetch=True)
    assert check.matches is None
    assert check.note == f"file://{path} is 68.4 KiB, over the 1000 bytes a worker fetches (ARTIFACT_MAX_BYTES)"


def test_a_fetch_past_its_time_limit_is_unverified(model, alice, roots, settings):
    settings.ARTIFACT_FETCH_TIMEOUT_SECONDS = 0  # the deadline has passed after the first chunk
    path = _file(roots)
    check = artifact_check(_version(model, alice, f"file://{path}"), fetch=True)
    assert check.matches is None
    assert check.note.startswith(f"fetching file://{path} took longer than 0 s (ARTIFACT_FETCH_TIMEOUT_SECONDS; ")


def test_a_hashed_file_is_not_read_again_until_it_changes(model, alice, roots):
    path = _file(roots)
    version = _version(model, alice, f"file://{path}")
    assert artifact_check(version, fetch=True).note.startswith("fetched from")
    again = artifact_check(version, fetch=True)
    assert again.matches is True and "unchanged since a worker hashed it at" in again.note
    path.write_bytes(BYTES.replace(b"model", b"MODEL"))  # same size, other bytes
    changed = artifact_check(version, fetch=True)
    assert changed.matches is False and changed.note.startswith("fetched from")


def test_without_fetch_only_a_digest_a_worker_verified_is_read(model, alice, roots):
    path = _file(roots)
    version = _version(model, alice, f"file://{path}")
    before = artifact_check(version, fetch=False)
    assert before.matches is None and "has not been fetched by a worker yet" in before.note
    artifact_check(version, fetch=True)
    after = artifact_check(version, fetch=False)
    assert after.matches is True and "as a worker fetched it at" in after.note


def test_an_uploaded_evidence_file_still_verifies_without_any_fetch(model, alice):
    version = make_version(model, alice, artifact_uri="https://example.invalid/m.bin", artifact_sha256=_sha(BYTES))
    upload(alice, version, "attachment", BYTES, "model.bin")
    check = artifact_check(version, fetch=False)
    assert check.matches is True and "uploaded attachment file model.bin" in check.note


def test_other_schemes_are_unverified_a_warning_unless_the_policy_asks(model, alice):
    version = _version(model, alice, "gs://bucket/model.bin")
    result, _ = evaluate_gate(version=version, spec={"id": "r", "type": "reproducibility"}, fetch_artifacts=True)
    assert result["status"] == "passed"
    assert result["groups"]["artifact_sha256"]["status"] == "unverified"
    assert "warning: artifact_sha256 unverified: the product cannot fetch gs:// URIs" in result["explanation"]
    strict, _ = evaluate_gate(
        version=version, spec={"id": "r", "type": "reproducibility", "verify_artifact": True}, fetch_artifacts=True
    )
    assert strict["status"] == "failed" and "(the policy asks verify_artifact: true)" in strict["explanation"]


def test_an_artifact_not_required_is_not_fetched(model, alice, roots):
    path = _file(roots)
    version = _version(model, alice, f"file://{path}")
    spec = {"id": "r", "type": "reproducibility", "require": ["code_hash", "seed"]}
    result, inputs = evaluate_gate(version=version, spec=spec, fetch_artifacts=True)
    assert result["status"] == "passed" and inputs == {}
    assert artifact_check(version, fetch=False).matches is None  # nothing was fetched


# --------------------------------------------------------------------------- s3://


@pytest.fixture
def bucket(s3_endpoint, settings):
    settings.ARTIFACT_S3_ENDPOINT_URL = s3_endpoint
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"models-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


def test_an_s3_artifact_is_fetched_with_the_deployment_credentials(model, alice, bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="credit/v3/model.bin", Body=BYTES)
    version = _version(model, alice, f"s3://{name}/credit/v3/model.bin")
    result, inputs = evaluate_gate(
        version=version, spec={"id": "repro", "type": "reproducibility", "verify_artifact": True}, fetch_artifacts=True
    )
    assert result["status"] == "passed", result["explanation"]
    assert f"artifact sha256 verified (fetched from s3://{name}/credit/v3/model.bin (68.4 KiB" in result["explanation"]
    assert inputs == {"artifact:uri": _sha(BYTES)}
    again = artifact_check(version, fetch=True)
    assert again.matches is True and "unchanged since a worker hashed it" in again.note


def test_an_s3_artifact_with_other_bytes_fails(model, alice, bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="m.bin", Body=b"tampered")
    check = artifact_check(_version(model, alice, f"s3://{name}/m.bin"), fetch=True)
    assert check.matches is False and check.sha256 == _sha(b"tampered")


def test_an_overwritten_s3_object_is_fetched_again(model, alice, bucket):
    client, name = bucket
    client.put_object(Bucket=name, Key="m.bin", Body=BYTES)
    version = _version(model, alice, f"s3://{name}/m.bin")
    assert artifact_check(version, fetch=True).matches is True
    client.put_object(Bucket=name, Key="m.bin", Body=BYTES.replace(b"model", b"MODEL"))
    changed = artifact_check(version, fetch=True)
    assert changed.matches is False and changed.note.startswith("fetched from")


def test_a_missing_s3_object_or_bucket_is_unverified(model, alice, bucket):
    _, name = bucket
    missing = artifact_check(_version(model, alice, f"s3://{name}/nothing.bin"), fetch=True)
    assert missing.matches is None and missing.note == f"s3://{name}/nothing.bin: no such object (HEAD)"
    nobucket = artifact_check(_version(model, alice, "s3://no-such-bucket-here/m.bin"), fetch=True)
    assert nobucket.matches is None and "s3://no-such-bucket-here/m.bin: no such" in nobucket.note
    bad = artifact_check(_version(model, alice, "s3://only-a-bucket"), fetch=True)
    assert bad.matches is None and "is not an s3://bucket/key URI" in bad.note


def test_an_s3_object_over_the_size_limit_is_unverified(model, alice, bucket, settings):
    client, name = bucket
    client.put_object(Bucket=name, Key="big.bin", Body=BYTES)
    settings.ARTIFACT_MAX_BYTES = 50_000
    check = artifact_check(_version(model, alice, f"s3://{name}/big.bin"), fetch=True)
    assert check.matches is None and "is 68.4 KiB, over the 48.8 KiB a worker fetches" in check.note


def test_an_unreachable_s3_endpoint_is_unverified_not_an_error(model, alice, settings, s3_endpoint):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ARTIFACT_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    version = _version(model, alice, "s3://models/m.bin")
    result, _ = evaluate_gate(version=version, spec={"id": "r", "type": "reproducibility"}, fetch_artifacts=True)
    assert result["status"] == "passed"
    assert "s3://models/m.bin: cannot connect to the S3 endpoint (HEAD)" in result["explanation"]


def test_without_an_s3_store_configured_the_artifact_is_unverified_at_once(model, alice, settings, monkeypatch):
    """No endpoint and no credentials: boto3 would probe the instance metadata service on
    every gate run (about 2 s each) to learn it has none; the gate says so without trying."""
    settings.ARTIFACT_S3_ENDPOINT_URL = ""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    version = _version(model, alice, "s3://models/credit/v9/model.bin")
    started = time.monotonic()
    check = artifact_check(version, fetch=True)
    assert time.monotonic() - started < 1.0
    assert check.matches is None and "no S3 store configured" in check.note
    settings.ARTIFACT_S3_FETCH = "false"
    settings.ARTIFACT_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    assert "no S3 store configured" in artifact_check(version, fetch=True).note

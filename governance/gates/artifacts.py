"""Verify a version's artifact_sha256 by hashing the artifact itself, wherever the product
can reach it (docs/gates.md, "Artifacts that live elsewhere").

Where the bytes come from, in order:

1. an uploaded evidence file whose sha256 is the registered one (it was hashed on upload);
2. the artifact's URI, fetched on the Celery worker (`fetch=True`; never in the web
   process, never in a dry run):
   - ``file://`` only under settings.ARTIFACT_FILE_ROOTS (after resolving symbolic links;
     anything else is unreachable: this is never an arbitrary file read), regular files only;
   - ``s3://bucket/key`` with the deployment's AWS credentials (boto3's chain: environment,
     config files, instance role) at settings.ARTIFACT_S3_ENDPOINT_URL;
   streamed in 1 MiB chunks into sha256, refused past settings.ARTIFACT_MAX_BYTES and
   settings.ARTIFACT_FETCH_TIMEOUT_SECONDS (connect and read timeouts bound every call);
3. the digest cache: a fetched artifact's sha256 is kept in the "artifact_digests" cache
   (Redis, shared by all workers) under (store, URI, size, validator) — for S3 the ETag,
   LastModified and VersionId of a HEAD request, for a file its device, inode, mtime and
   ctime (ctime cannot be set by a user) — so an unchanged artifact is not downloaded
   again, and a changed one never matches a stale digest. Without `fetch` (dry runs,
   replays) only the digest last verified for the URI is read, and said so.

Anything else (another scheme, a missing object, refused credentials, too big, too slow)
is `unverified` with the reason; the reproducibility gate decides what that means.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from governance.evidence.models import Artifact
from governance.evidence.parsers.errors import human_bytes
from governance.registry.models import ModelVersion

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 30
CACHE_ALIAS = "artifact_digests"


@dataclass(frozen=True)
class ArtifactCheck:
    """matches: True / False once hashed, None when unverified. note: how it was hashed,
    or why it could not be (a sentence for the gate's explanation). sha256: the digest
    computed (or cached). used: {inputs key: sha256} for the outcome's inputs."""

    matches: bool | None
    note: str
    sha256: str | None = None
    used: dict[str, str] | None = None


class Unreachable(Exception):
    """The artifact cannot be fetched; the message says why (no secrets, no stack)."""


def artifact_check(version: ModelVersion, *, fetch: bool) -> ArtifactCheck:
    """Hash the version's artifact and compare it with its registered artifact_sha256."""
    expected = (version.artifact_sha256 or "").strip().lower()
    uploaded = Artifact.objects.filter(version=version, blob_id=expected).first() if expected else None
    if uploaded is not None:
        return ArtifactCheck(
            True,
            f"the uploaded {uploaded.kind} file {uploaded.original_name} carries it",
            expected,
            {f"artifact:{uploaded.kind}": uploaded.blob_id},
        )
    if not _SHA256_HEX.fullmatch(expected):
        # Missing or malformed: the gate says so; nothing is worth downloading.
        return ArtifactCheck(None, "no well-formed artifact_sha256 to compare the artifact with")
    uri = (version.artifact_uri or "").strip()
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in ("file", "s3"):
        where = f"{scheme}:// URIs" if scheme else f"the URI {uri!r}"
        return ArtifactCheck(
            None,
            f"the product cannot fetch {where} (it reads s3:// and file:// under ARTIFACT_FILE_ROOTS), "
            "and no uploaded evidence file carries the registered sha256",
        )
    try:
        if not fetch:
            return _last_verified(scheme, uri, expected)
        source = _S3Source(uri) if scheme == "s3" else _FileSource(uri)
        try:
            return _verify(source, expected)
        finally:
            source.close()
    except Unreachable as exc:
        return ArtifactCheck(None, str(exc))


def _store(scheme: str) -> str:
    return f"s3:{settings.ARTIFACT_S3_ENDPOINT_URL or 'aws'}" if scheme == "s3" else "file"


def _cache_key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _cache_get(key: str) -> dict | None:
    try:
        return caches[CACHE_ALIAS].get(key)
    except Exception:  # the cache only saves a download; never a reason to fail
        log.warning("artifact digest cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, value: dict) -> None:
    try:
        caches[CACHE_ALIAS].set(key, value)
    except Exception:
        log.warning("artifact digest cache unavailable", exc_info=True)


def _verdict(uri: str, expected: str, digest: str, how: str) -> ArtifactCheck:
    matches = digest == expected
    note = how if matches else f"{how}: its sha256 is {digest[:12]}…, the version registered {expected[:12]}…"
    return ArtifactCheck(matches, note, digest, {"artifact:uri": digest})


def _last_verified(scheme: str, uri: str, expected: str) -> ArtifactCheck:
    found = _cache_get(_cache_key("last", _store(scheme), uri))
    if not found:
        raise Unreachable(
            f"{uri} has not been fetched by a worker yet, and a dry run or replay does not fetch it "
            "(a gate run does, on the worker)"
        )
    how = f"digest of {uri} as a worker fetched it at {found['verified_at']} (not fetched again here)"
    return _verdict(uri, expected, found["sha256"], how)


def _verify(source: _FileSource | _S3Source, expected: str) -> ArtifactCheck:
    size, validator = source.head()
    limit = settings.ARTIFACT_MAX_BYTES
    if size > limit:
        raise Unreachable(
            f"{source.uri} is {human_bytes(size)}, over the {human_bytes(limit)} a worker fetches (ARTIFACT_MAX_BYTES)"
        )
    store = _store(source.scheme)
    key = _cache_key(store, source.uri, size, validator)
    cached = _cache_get(key)
    if cached:
        return _verdict(
            source.uri,
            expected,
            cached["sha256"],
            f"{source.uri} ({human_bytes(size)}) unchanged since a worker hashed it at {cached['verified_at']}",
        )
    started = time.monotonic()
    deadline = started + settings.ARTIFACT_FETCH_TIMEOUT_SECONDS
    digest = hashlib.sha256()
    read = 0
    for chunk in source.chunks():
        read += len(chunk)
        if read > limit:
            raise Unreachable(f"{source.uri} grew past {human_bytes(limit)} while it was read (ARTIFACT_MAX_BYTES)")
        digest.update(chunk)
        if time.monotonic() > deadline:
            raise Unreachable(
                f"fetching {source.uri} took longer than {settings.ARTIFACT_FETCH_TIMEOUT_SECONDS} s "
                f"(ARTIFACT_FETCH_TIMEOUT_SECONDS; {human_bytes(read)} of {human_bytes(size)} read)"
            )
    if read != size:
        raise Unreachable(f"{source.uri} changed while it was read ({read} bytes read, {size} expected)")
    sha = digest.hexdigest()
    record = {"sha256": sha, "size": size, "verified_at": timezone.now().isoformat(timespec="seconds")}
    _cache_set(key, record)
    _cache_set(_cache_key("last", store, source.uri), record)
    seconds = time.monotonic() - started
    return _verdict(source.uri, expected, sha, f"fetched from {source.uri} ({human_bytes(size)} in {seconds:.1f} s)")


class _FileSource:
    """A file under one of ARTIFACT_FILE_ROOTS, opened once (no re-resolution after the check)."""

    scheme = "file"

    def __init__(self, uri: str):
        from urllib.parse import unquote, urlsplit

        self.uri = uri
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise Unreachable(f"{uri} names another host ({parts.netloc}); a worker reads only its own files")
        roots = [os.path.realpath(r) for r in settings.ARTIFACT_FILE_ROOTS]
        if not roots:
            raise Unreachable(f"{uri} is a local file and no ARTIFACT_FILE_ROOTS are configured, so it is not read")
        real = os.path.realpath(unquote(parts.path))
        if not _inside(real, roots):
            raise Unreachable(f"{uri} is outside ARTIFACT_FILE_ROOTS, so it is not read")
        try:
            self.fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise Unreachable(f"{uri} cannot be opened ({exc.strerror})") from None
        info = os.fstat(self.fd)
        opened = os.path.realpath(f"/proc/self/fd/{self.fd}") if os.path.isdir("/proc/self/fd") else real
        if not stat.S_ISREG(info.st_mode) or not _inside(opened, roots):
            os.close(self.fd)
            raise Unreachable(f"{uri} is not a regular file under ARTIFACT_FILE_ROOTS, so it is not read")
        self.info = info

    def head(self) -> tuple[int, str]:
        i = self.info
        return i.st_size, f"{i.st_dev}:{i.st_ino}:{i.st_mtime_ns}:{i.st_ctime_ns}"

    def chunks(self):
        os.lseek(self.fd, 0, os.SEEK_SET)
        while chunk := os.read(self.fd, CHUNK_BYTES):
            yield chunk

    def close(self) -> None:
        os.close(self.fd)


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


_AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def s3_configured() -> bool:
    """Whether fetching s3:// artifacts is worth trying (settings.ARTIFACT_S3_FETCH).

    `auto` (the default): an endpoint is configured, or AWS credentials are in the
    environment or the AWS config files. Without either, boto3 would probe the instance
    metadata service on every gate run (about 2 s each, off AWS) to learn it has none.
    `true` tries anyway (an instance or task role), `false` never fetches."""
    mode = str(getattr(settings, "ARTIFACT_S3_FETCH", "auto")).lower()
    if mode in ("true", "1", "yes"):
        return True
    if mode in ("false", "0", "no"):
        return False
    if settings.ARTIFACT_S3_ENDPOINT_URL or any(os.environ.get(name) for name in _AWS_CREDENTIAL_VARIABLES):
        return True
    config = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.expanduser("~/.aws/credentials")
    return os.path.exists(config)


class _S3Source:
    """s3://bucket/key through boto3, with the deployment's credentials."""

    scheme = "s3"

    def __init__(self, uri: str):
        self.uri = uri
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket or not key:
            raise Unreachable(f"{uri} is not an s3://bucket/key URI")
        self.bucket, self.key = bucket, key
        if not s3_configured():
            raise Unreachable(
                f"{uri}: this deployment has no S3 store configured for artifacts "
                "(ARTIFACT_S3_ENDPOINT_URL or AWS credentials; ARTIFACT_S3_FETCH=true for an instance role)"
            )
        self.etag: str | None = None
        self.version_id: str | None = None
        budget = settings.ARTIFACT_FETCH_TIMEOUT_SECONDS
        try:
            import boto3
            from botocore.config import Config

            self.client = boto3.session.Session().client(
                "s3",
                endpoint_url=settings.ARTIFACT_S3_ENDPOINT_URL or None,
                config=Config(
                    connect_timeout=min(CONNECT_TIMEOUT_SECONDS, budget),
                    read_timeout=min(READ_TIMEOUT_SECONDS, budget),
                    retries={"max_attempts": 2, "mode": "standard"},
                ),
            )
        except Exception as exc:
            raise Unreachable(f"{uri}: the S3 client cannot be set up ({type(exc).__name__})") from None

    def _call(self, what: str, fn, **kwargs):
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        try:
            return fn(Bucket=self.bucket, Key=self.key, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
            meaning = {
                "404": "no such object",
                "NoSuchKey": "no such object",
                "NoSuchBucket": "no such bucket",
                "403": "access denied to the worker's credentials",
                "AccessDenied": "access denied to the worker's credentials",
                "412": "it changed while it was read",
                "PreconditionFailed": "it changed while it was read",
            }.get(code, f"S3 error {code}")
            raise Unreachable(f"{self.uri}: {meaning} ({what})") from None
        except NoCredentialsError:
            raise Unreachable(f"{self.uri}: the worker has no AWS credentials") from None
        except (EndpointConnectionError, ConnectTimeoutError):
            raise Unreachable(f"{self.uri}: cannot connect to the S3 endpoint ({what})") from None
        except ReadTimeoutError:
            raise Unreachable(f"{self.uri}: the S3 endpoint did not answer in time ({what})") from None
        except BotoCoreError as exc:
            raise Unreachable(f"{self.uri}: {type(exc).__name__} ({what})") from None

    def head(self) -> tuple[int, str]:
        head = self._call("HEAD", self.client.head_object)
        self.etag, self.version_id = head.get("ETag"), head.get("VersionId")
        modified = head.get("LastModified")
        validator = json.dumps([self.etag, modified.isoformat() if modified else None, self.version_id])
        return int(head["ContentLength"]), validator

    def chunks(self):
        extra = {"IfMatch": self.etag} if self.etag else {}
        if self.version_id:
            extra["VersionId"] = self.version_id
        body = self._call("GET", self.client.get_object, **extra)["Body"]
        from botocore.exceptions import BotoCoreError

        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        except BotoCoreError as exc:
            raise Unreachable(f"{self.uri}: the download broke off ({type(exc).__name__})") from None
        finally:
            body.close()

    def close(self) -> None:
        self.client.close()

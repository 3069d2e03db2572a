"""Large uploads are parsed by a worker, not the web process (issue 14).

`evidence_receive` is the door the API and the browser use: an upload up to
EVIDENCE_PARSE_IN_WORKER_BYTES (its file size, and the content size a gzip or zip declares)
is parsed at once by `evidence_upload`, inflating at most EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES;
a larger one is stored content-addressed under `incoming/`, recorded as a `QueuedUpload`
and parsed by `evidence_parse_task`. The parse creates the Artifact and marks the upload
accepted in one transaction, or marks it refused with the parser's error: a refused upload
leaves no evidence row, and gates only ever read Artifacts.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import tempfile
import zipfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.accounts.permissions import ensure_may
from governance.accounts.roles import Action
from governance.core.errors import DomainError
from governance.evidence.models import Artifact, EvidenceKind, ParseStatus, QueuedUpload
from governance.evidence.parsers import EvidenceError
from governance.evidence.services import evidence_upload, sha256_of_file
from governance.registry.models import ModelVersion

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"


def content_size_hint(path: str) -> int:
    """What the file says it holds: its size, or more if a gzip trailer or zip directory
    declares more. Only a hint for choosing where to parse: the parser enforces the limits
    on what it actually inflates, so a file that lies is refused, never parsed further."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            if head == _GZIP_MAGIC and size >= 18:
                fh.seek(-4, os.SEEK_END)
                return max(size, int.from_bytes(fh.read(4), "little"))  # ISIZE: size mod 2**32
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                return max(size, sum(info.file_size for info in archive.infolist()))
    except (OSError, zipfile.BadZipFile, gzip.BadGzipFile, ValueError):
        pass  # the parser says what is wrong with it
    return size


def evidence_receive(
    *, user, version: ModelVersion, kind: str, path: str, original_name: str, sha256: str | None = None
) -> Artifact | QueuedUpload:
    """An accepted Artifact (small upload) or a QueuedUpload (large: parsed by a worker)."""
    if content_size_hint(path) <= settings.EVIDENCE_PARSE_IN_WORKER_BYTES:
        return evidence_upload(
            user=user,
            version=version,
            kind=kind,
            path=path,
            original_name=original_name,
            sha256=sha256,
            max_uncompressed_bytes=settings.EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES,
        )
    return evidence_queue(user=user, version=version, kind=kind, path=path, original_name=original_name, sha256=sha256)


def _incoming_name(sha256: str) -> str:
    return f"incoming/{sha256[:2]}/{sha256}"


def evidence_queue(
    *, user, version: ModelVersion, kind: str, path: str, original_name: str, sha256: str | None = None
) -> QueuedUpload:
    """Store the file and queue its parse (checks first: who may, which kind, not empty)."""
    ensure_may(user, Action.REGISTER_VERSION, version.model, f"Uploading evidence for {version.model.name}")
    if kind not in EvidenceKind.values:
        raise EvidenceError(
            f"unknown evidence kind {kind!r}; use one of: {', '.join(EvidenceKind.values)}", field="kind"
        )
    size = os.path.getsize(path)
    if size == 0:
        raise EvidenceError("the file is empty")
    sha256 = sha256 or sha256_of_file(path)
    name = _incoming_name(sha256)
    created = False
    try:
        with transaction.atomic():
            if not default_storage.exists(name):
                with open(path, "rb") as fh:
                    stored = default_storage.save(name, File(fh))
                created = True
                if stored != name:  # a concurrent upload of the same content got there first
                    default_storage.delete(stored)
                    created = False
            upload = QueuedUpload.objects.create(
                version=version,
                kind=kind,
                original_name=os.path.basename(original_name or "upload")[:255] or "upload",
                sha256=sha256,
                size=size,
                stored_name=name,
                uploaded_by=user,
            )
            upload_id = upload.pk
            transaction.on_commit(lambda: _dispatch(upload_id))
    except BaseException:
        if created and not QueuedUpload.objects.filter(stored_name=name).exists():
            default_storage.delete(name)
        raise
    return upload


def _dispatch(upload_id) -> None:
    from governance.evidence.tasks import evidence_parse_task

    try:
        evidence_parse_task.delay(str(upload_id))
    except Exception:  # broker down: the sweep sends it
        log.exception("could not queue the parse of upload %s; the sweep will retry", upload_id)


def _local_copy(name: str) -> tuple[str, str | None]:
    """A local path of a stored file, and a temporary directory to remove after, if any."""
    try:
        return default_storage.path(name), None
    except NotImplementedError:
        workdir = tempfile.mkdtemp(prefix="incoming-")
        target = os.path.join(workdir, "upload")
        with default_storage.open(name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        return target, workdir


def evidence_parse(*, upload_id) -> str:
    """Parse a queued upload with the full limits; safe to run twice (a conditional claim)."""
    now = timezone.now()
    lost = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    claimed = (
        QueuedUpload.objects.filter(pk=upload_id)
        .filter(Q(status=ParseStatus.QUEUED) | Q(status=ParseStatus.PARSING, started_at__lt=lost))
        .update(status=ParseStatus.PARSING, started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return QueuedUpload.objects.filter(pk=upload_id).values_list("status", flat=True).first() or "missing"
    upload = QueuedUpload.objects.select_related("version__model", "uploaded_by").get(pk=upload_id)
    path, workdir = _local_copy(upload.stored_name)
    try:
        with transaction.atomic():  # the Artifact and "accepted" together, or neither
            artifact = evidence_upload(
                user=upload.uploaded_by,
                version=upload.version,
                kind=upload.kind,
                path=path,
                original_name=upload.original_name,
                sha256=upload.sha256,
            )
            QueuedUpload.objects.filter(pk=upload.pk).update(
                status=ParseStatus.ACCEPTED, artifact=artifact, finished_at=timezone.now()
            )
        status = ParseStatus.ACCEPTED
    except (DomainError, PermissionDenied) as exc:
        error = (
            {"code": exc.code, "message": exc.message, "fields": exc.fields}
            if isinstance(exc, DomainError)
            else {"code": "forbidden", "message": str(exc) or "You may no longer upload evidence here.", "fields": {}}
        )
        QueuedUpload.objects.filter(pk=upload.pk).update(
            status=ParseStatus.REFUSED, error=error, finished_at=timezone.now()
        )
        status = ParseStatus.REFUSED
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    _forget_file(upload.stored_name)
    return status


def _forget_file(name: str) -> None:
    """The incoming copy goes once no upload waits for it (an accepted one is now a Blob)."""
    waiting = QueuedUpload.objects.filter(stored_name=name, status__in=[ParseStatus.QUEUED, ParseStatus.PARSING])
    if not waiting.exists():
        try:
            default_storage.delete(name)
        except Exception:  # pragma: no cover - best effort
            log.warning("could not remove %s", name)


def evidence_parse_sweep(*, now=None) -> int:
    """Queue again parses the broker lost (queued a while) or whose worker died."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.GATE_STALE_AFTER_SECONDS)
    lost = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    ids = list(
        QueuedUpload.objects.filter(
            Q(status=ParseStatus.QUEUED, created_at__lt=stale) | Q(status=ParseStatus.PARSING, started_at__lt=lost)
        ).values_list("pk", flat=True)
    )
    for upload_id in ids:
        _dispatch(upload_id)
    return len(ids)

"""Upload handler: stream to a temporary file in chunks, hash on the way, stop at the limit.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file uploads, so the size limit for
evidence is enforced here, chunk by chunk, before the body is fully read. The reverse proxy
should carry the same limit (docs/operations.md: client_max_body_size).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

from governance.core.errors import DomainError


class HashingSizeLimitUploadHandler(FileUploadHandler):
    """Runs before TemporaryFileUploadHandler: counts and hashes, passes chunks on."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._hash = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.EVIDENCE_MAX_UPLOAD_BYTES:
            if self.request is not None:
                self.request.upload_too_large = self.field_name
            raise SkipFile()
        self._hash.update(raw_data)
        return raw_data

    def file_complete(self, file_size):
        if self.request is not None:
            digests = getattr(self.request, "upload_sha256", {})
            digests[self.field_name] = self._hash.hexdigest()
            self.request.upload_sha256 = digests
        return None


@dataclass(frozen=True)
class ReceivedFile:
    """An uploaded evidence file as `evidence_upload` takes it: `evidence_upload(..., **vars(f))`."""

    path: str
    original_name: str
    sha256: str | None


def received_file(request, field: str = "file") -> ReceivedFile:
    """The streamed, hashed upload of a request (browser or API), or a DomainError on `field`.

    Reading request.FILES runs the upload handlers, so call this before anything else reads
    the body's files.
    """
    django_request = getattr(request, "_request", request)  # DRF wraps Django's request
    upload = request.FILES.get(field)
    if getattr(django_request, "upload_too_large", None):
        limit = settings.EVIDENCE_MAX_UPLOAD_BYTES
        raise DomainError(
            f"The file exceeds the upload limit of {limit:,} bytes.",
            code="too_large",
            fields={field: [f"At most {limit:,} bytes."]},
        )
    if upload is None:
        raise DomainError(
            f"Attach the evidence as the multipart field {field!r}.", fields={field: ["This field is required."]}
        )
    digest = getattr(django_request, "upload_sha256", {}).get(field)
    return ReceivedFile(path=upload.temporary_file_path(), original_name=upload.name, sha256=digest)

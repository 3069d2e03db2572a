"""Upload handler: stream to a temporary file in chunks, hash on the way, stop at the limit.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file uploads, so the size limit for
evidence is enforced here, chunk by chunk, before the body is fully read. The reverse proxy
should carry the same limit (docs/operations.md: client_max_body_size).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


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

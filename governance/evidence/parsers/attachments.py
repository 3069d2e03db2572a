"""Attachments (any file, e.g. a PDF): only described, never interpreted."""

from __future__ import annotations

import codecs
import os

from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.sources import OLE_MAGIC

_ATTACHMENT_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"PAR1", "parquet"),
    (OLE_MAGIC, "ole"),
)


def parse_attachment(path: str, original_name: str, size: int) -> ParsedEvidence:
    with open(path, "rb") as handle:
        head = handle.read(8192)
    detected = "binary"
    for magic, label in _ATTACHMENT_MAGIC:
        if head.startswith(magic):
            detected = label
            break
    else:
        try:
            codecs.utf_8_decode(head, "strict", False)
            if b"\x00" not in head:
                detected = "text"
        except UnicodeDecodeError:
            pass
    extension = os.path.splitext(original_name)[1].lower()
    profile = {"bytes": size, "type": detected, "extension": extension}
    return ParsedEvidence("attachment", "binary", None, [], profile, None, None)

"""`parse_evidence`: which parser reads which evidence kind."""

from __future__ import annotations

import os

from governance.core.vocabulary import EVIDENCE_KINDS
from governance.evidence.parsers.attachments import parse_attachment
from governance.evidence.parsers.errors import EvidenceError
from governance.evidence.parsers.json_kinds import parse_document
from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.sources import CORRUPT_ARCHIVE_ERRORS, Source
from governance.evidence.parsers.tables import parse_table

TABLE_KINDS = frozenset({"predictions", "latency", "feature_reference", "feature_current"})


def parse_evidence(
    kind: str,
    path: str,
    *,
    original_name: str,
    columnar_dir: str,
    max_uncompressed_bytes: int = 2 * 1024**3,
    max_ratio: int = 200,
) -> ParsedEvidence:
    """Validate the evidence file at `path` and describe it; raise `EvidenceError` if bad.

    For table kinds a normalised Parquet copy (numeric columns float64 with NaN for missing
    values, other columns strings) is written into `columnar_dir`; its path is returned in
    `columnar_path`. The caller owns that file (move or delete it).
    """
    if kind not in EVIDENCE_KINDS:
        raise EvidenceError(f"unknown evidence kind {kind!r}", field="kind")
    size = os.path.getsize(path)
    if size == 0:
        raise EvidenceError("the file is empty")
    if kind == "attachment":
        return parse_attachment(path, original_name, size)

    source = Source.open(
        path,
        original_name=original_name,
        size=size,
        max_uncompressed_bytes=max_uncompressed_bytes,
        max_ratio=max_ratio,
    )
    try:
        if kind in TABLE_KINDS:
            return parse_table(kind, source, columnar_dir)
        return parse_document(kind, source)
    except CORRUPT_ARCHIVE_ERRORS as exc:
        raise EvidenceError(f"the {source.container} archive is corrupt: {exc}") from None

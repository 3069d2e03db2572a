"""What `parse_evidence` returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedEvidence:
    kind: str
    format: str  # csv | parquet | json | yaml | binary
    row_count: int | None
    columns: list[str]
    profile: dict
    data: dict | list | None
    columnar_path: str | None

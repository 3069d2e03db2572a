"""Malformed and hostile evidence files, the shared parts: each case is refused with a
specific message (line and column where they apply) and leaves nothing behind in the
columnar directory.

The corpus is generated in code (bombs included, built cheaply) so the repository stays
small. Its cases live by the kind of input they cover: test_malformed_tables.py (CSV text),
test_malformed_containers.py (compressed archives, bombs, Excel, Parquet) and
test_malformed_documents.py (JSON and YAML documents, licence lists, attachments);
test_malformed_corpus.py checks the corpus as a whole and feeds the parsers arbitrary bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from governance.evidence.parsers import EvidenceError, json_kinds, parse_evidence

HEADER = "y_true,y_score,baseline_score,y_pred,gender\n"


def rows(n: int, start: int = 0) -> str:
    return "".join(f"{i % 2},0.{i % 10},0.5,{i % 2},F\n" for i in range(start, start + n))


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    name: str
    content: bytes | str | Callable[[], bytes]
    fragment: str
    line: int | None = None
    column: str | None = None
    row: int | None = None
    limits: dict = field(default_factory=dict)
    patch: dict = field(default_factory=dict)
    error_field: str = "file"

    def data(self) -> bytes:
        content = self.content() if callable(self.content) else self.content
        return content.encode("utf-8") if isinstance(content, str) else content


def assert_refused(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`case` is refused with its message, line, column, row and field, and leaves no file."""
    for name, value in case.patch.items():
        monkeypatch.setattr(json_kinds, name, value)
    path = tmp_path / case.name
    path.write_bytes(case.data())
    columnar_dir = tmp_path / "columnar"

    with pytest.raises(EvidenceError) as caught:
        parse_evidence(
            case.kind,
            str(path),
            original_name=case.name,
            columnar_dir=str(columnar_dir),
            **case.limits,
        )

    error = caught.value
    assert case.fragment in str(error)
    assert error.line == case.line
    assert error.column == case.column
    assert error.row == case.row
    assert error.field == case.error_field
    assert not columnar_dir.exists() or os.listdir(columnar_dir) == []

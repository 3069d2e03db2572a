"""Malformed and hostile evidence files: each is refused with a specific message (line and
column where they apply) and leaves nothing behind in the columnar directory.

The corpus is generated in code (bombs included, built cheaply) so the repository stays small.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.evidence.parsers import EvidenceError, json_kinds, parse_evidence, tables

HEADER = "y_true,y_score,baseline_score,y_pred,gender\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(f"{i % 2},0.{i % 10},0.5,{i % 2},F\n" for i in range(start, start + n))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_declaring(file_size: int) -> bytes:
    """A tiny zip whose central directory declares `file_size` (zip64 when > 4 GiB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("preds.csv", HEADER + _rows(3))
        archive.filelist[0].file_size = file_size  # written into the central directory
    return buffer.getvalue()


def _zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


def _gzip_bomb(megabytes: int, *, csv: bool = False) -> bytes:
    """`megabytes` MiB of zeros (or of one repeated CSV row, after a header) as concatenated
    gzip members of ~1-2 KiB each: cheap to build, ~1000:1."""
    if not csv:
        return gzip.compress(bytes(1024 * 1024), 9) * megabytes
    row = b"1,0.5,0.5,1,F\n"
    member = gzip.compress(row * (1024 * 1024 // len(row)), 9)
    return gzip.compress(HEADER.encode()) + member * megabytes


def _zip_bomb(megabytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("preds.csv", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
    return buffer.getvalue()


def _zip_lying_small() -> bytes:
    """Declares 100 bytes, holds 8 MiB of zeros: must not inflate past what it declares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("preds.csv", HEADER.encode() + bytes(8 * 1024 * 1024))
        archive.filelist[0].file_size = 100
    return buffer.getvalue()


def _zip_encrypted() -> bytes:
    data = bytearray(_zip({"preds.csv": (HEADER + _rows(2)).encode()}))
    data[6] |= 0x1  # local header: general purpose flag, bit 0 = encrypted
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1
    return bytes(data)


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _deep_json(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


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


CORPUS = [
    # --- general CSV problems --------------------------------------------------------
    Case("empty", "predictions", "p.csv", b"", "the file is empty"),
    Case("only-whitespace", "predictions", "p.csv", "\n\n  \n", "the file is empty"),
    Case("bom-only", "predictions", "p.csv", b"\xef\xbb\xbf", "the file is empty"),
    Case("header-only", "predictions", "p.csv", "y_true,y_score\n", "no data rows"),
    Case("header-and-blank-lines", "predictions", "p.csv", "y_true,y_score\n\n\n", "no data rows"),
    Case(
        "semicolon-delimited",
        "predictions",
        "p.csv",
        "y_true;y_score\n1;0.5\n",
        "looks like ';'-delimited: use commas",
        line=1,
    ),
    Case(
        "tab-delimited",
        "feature_current",
        "f.csv",
        "a\tb\n1\t2\n",
        "looks like tab-delimited: use commas",
        line=1,
    ),
    Case(
        "invalid-utf8",
        "predictions",
        "p.csv",
        b"y_true,y_score,gender\n1,0.5,F\n0,0.2,M\n1,0.4,Fran\xe7ois\n",
        "invalid UTF-8 (byte 0xe7",
        line=4,
    ),
    Case(
        "truncated-utf8-at-end",
        "feature_current",
        "f.csv",
        b"name\nJos\xc3",
        "invalid UTF-8",
        line=2,
    ),
    Case("utf16", "predictions", "p.csv", "y_true,y_score\n1,0.5\n".encode("utf-16"), "UTF-16"),
    Case(
        "duplicate-columns",
        "predictions",
        "p.csv",
        "y_true,y_score,y_score\n1,0.5,0.5\n",
        "duplicate column name 'y_score'",
        line=1,
    ),
    Case(
        "unnamed-index-column",
        "predictions",
        "p.csv",
        ",y_true,y_score\n0,1,0.5\n",
        "column 1 has no name (was it written with a DataFrame index? use index=False)",
        line=1,
    ),
    Case(
        "ragged-row-too-many",
        "predictions",
        "p.csv",
        HEADER + _rows(1) + "1,0.5,0.5,1,F,extra\n",
        "expected 5 fields like the header, found 6",
        line=3,
    ),
    Case(
        "ragged-row-too-few",
        "predictions",
        "p.csv",
        HEADER + _rows(3) + "1,0.5\n",
        "expected 5 fields like the header, found 2",
        line=5,
    ),
    Case(
        "too-many-columns",
        "feature_reference",
        "f.csv",
        ",".join(f"c{i}" for i in range(2001)) + "\n" + ",".join("1" for _ in range(2001)) + "\n",
        "2001 columns: at most 2000 are allowed",
        line=1,
    ),
    Case("binary-header", "feature_reference", "f.csv", b"a\x00b,c\n1,2\n", "looks binary", line=1),
    Case(
        "unterminated-quote-in-header",
        "feature_reference",
        "f.csv",
        'a,"b\n1,2\n',
        "the header is not valid CSV",
        line=1,
    ),
    Case(
        "excel-xlsx",
        "predictions",
        "p.xlsx",
        lambda: _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
        "Excel",
    ),
    Case(
        "excel-xls",
        "predictions",
        "p.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
        "Excel workbook: export it as CSV",
    ),
    Case(
        "bzip2",
        "predictions",
        "p.csv.bz2",
        lambda: bz2.compress(b"y_true,y_score\n1,0.5\n"),
        "bzip2 compression is not supported",
    ),
    Case(
        "named-parquet-but-csv",
        "predictions",
        "p.parquet",
        "y_true,y_score\n1,0.5\n",
        "named .parquet but is not a Parquet file",
    ),
    # --- predictions rules -----------------------------------------------------------
    Case(
        "text-in-score",
        "predictions",
        "p.csv",
        HEADER + _rows(15) + "1,abc,0.5,1,F\n",
        "'abc' is not a number",
        line=17,
        column="y_score",
    ),
    Case(
        "long-text-truncated",
        "predictions",
        "p.csv",
        "y_true,y_score\n1,0.5\n" + "x" * 500 + ",0.5\n",
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a number",
        line=3,
        column="y_true",
    ),
    Case(
        "missing-y-true",
        "predictions",
        "p.csv",
        "label,y_score\n1,0.5\n",
        "missing required column 'y_true'",
        line=1,
    ),
    Case(
        "header-missing",
        "predictions",
        "p.csv",
        "1,0.5\n0,0.2\n",
        "the first line must be a header",
        line=1,
    ),
    Case(
        "wrong-case-column",
        "predictions",
        "p.csv",
        "Y_TRUE,y_score\n1,0.5\n",
        "found 'Y_TRUE': names are case-sensitive",
        line=1,
    ),
    Case(
        "nan-score",
        "predictions",
        "p.csv",
        HEADER + _rows(2) + "1,NaN,0.5,1,F\n",
        "'NaN' is a missing value: every row needs a number",
        line=4,
        column="y_score",
    ),
    Case(
        "empty-y-true",
        "predictions",
        "p.csv",
        HEADER + _rows(4) + ",0.5,0.5,1,F\n",
        "the value is empty",
        line=6,
        column="y_true",
    ),
    Case(
        "inf-baseline",
        "predictions",
        "p.csv",
        HEADER + _rows(2) + "1,0.5,inf,1,F\n",
        "'inf' is not a finite number",
        line=4,
        column="baseline_score",
    ),
    Case(
        "score-out-of-range",
        "predictions",
        "p.csv",
        HEADER + _rows(7) + "1,1.7,0.5,1,F\n" + _rows(5) + "1,-2,0.5,1,F\n",
        "1.7 is outside [0, 1]",
        line=9,
        column="y_score",
    ),
    Case(
        "baseline-out-of-range",
        "predictions",
        "p.csv",
        HEADER + _rows(2) + "0,0.5,3,0,F\n",
        "3 is outside [0, 1]",
        line=4,
        column="baseline_score",
    ),
    Case(
        "y-pred-not-binary",
        "predictions",
        "p.csv",
        HEADER + _rows(2) + "1,0.5,0.5,2,F\n",
        "'2' must be 0 or 1",
        line=4,
        column="y_pred",
    ),
    Case(
        "earliest-line-wins-across-columns",
        "predictions",
        "p.csv",
        HEADER + "1,0.5,0.5,7,F\n" + "zz,0.5,0.5,1,F\n",
        "'7' must be 0 or 1",
        line=2,
        column="y_pred",
    ),
    # --- latency / features ----------------------------------------------------------
    Case(
        "negative-latency",
        "latency",
        "l.csv",
        "latency_ms\n12\n-3\n",
        "'-3' is negative",
        line=3,
        column="latency_ms",
    ),
    Case(
        "nan-latency",
        "latency",
        "l.csv",
        "latency_ms\n12\nnan\n",
        "is a missing value",
        line=3,
        column="latency_ms",
    ),
    Case(
        "latency-error-flag",
        "latency",
        "l.csv",
        "latency_ms,error\n12,0\n13,yes\n",
        "'yes' is not a number",
        line=3,
        column="error",
    ),
    Case(
        "latency-missing-column",
        "latency",
        "l.csv",
        "duration\n12\n",
        "missing required column 'latency_ms'",
        line=1,
    ),
    Case(
        "feature-infinite",
        "feature_reference",
        "f.csv",
        "income,region\n100,n\n-inf,s\n",
        "'-inf' is not a finite number",
        line=3,
        column="income",
    ),
    # --- containers and bombs --------------------------------------------------------
    Case(
        "gzip-truncated",
        "predictions",
        "p.csv.gz",
        lambda: gzip.compress((HEADER + _rows(500)).encode())[:-30],
        "the gzip archive is corrupt",
    ),
    Case(
        "gzip-bomb-csv-rows",
        "predictions",
        "p.csv.gz",
        lambda: _gzip_bomb(64, csv=True),
        "compression ratio exceeds 200:1",
    ),
    Case(
        "gzip-bomb-zeros-json",
        "metrics",
        "m.json.gz",
        lambda: _gzip_bomb(64),
        "compression ratio exceeds 200:1",
    ),
    Case(
        "gzip-bomb-zeros-csv",
        "predictions",
        "p.csv.gz",
        lambda: _gzip_bomb(64),
        "the file looks binary",
        line=1,
    ),
    Case(
        "gzip-over-size-limit",
        "predictions",
        "p.csv.gz",
        lambda: gzip.compress((HEADER + _rows(50_000)).encode()),
        "exceeds 256.0 KiB uncompressed",
        limits={"max_uncompressed_bytes": 256 * 1024},
    ),
    Case(
        "plain-over-size-limit",
        "predictions",
        "p.csv",
        HEADER + _rows(20_000),
        "exceeds 100.0 KiB uncompressed",
        limits={"max_uncompressed_bytes": 100 * 1024},
    ),
    Case(
        "zip-declares-10-gb",
        "predictions",
        "p.zip",
        lambda: _zip_declaring(10 * 1024**3),
        "declares 10.0 GiB uncompressed",
    ),
    Case(
        "zip-declared-ratio",
        "predictions",
        "p.zip",
        lambda: _zip_bomb(32),
        "declares a compression ratio over 200:1",
        limits={"max_uncompressed_bytes": 2 * 1024**3},
    ),
    Case(
        "zip-lying-small",
        "predictions",
        "p.zip",
        _zip_lying_small,
        "the zip archive is corrupt",
    ),
    Case(
        "zip-two-members",
        "predictions",
        "p.zip",
        lambda: _zip({"a.csv": b"y_true,y_score\n1,0.5\n", "b.csv": b"y_true,y_score\n"}),
        "must contain exactly one CSV file, found 2: 'a.csv', 'b.csv'",
    ),
    Case(
        "zip-path-traversal",
        "predictions",
        "p.zip",
        lambda: _zip({"../../etc/preds.csv": b"y_true,y_score\n1,0.5\n"}),
        "unsafe path in zip archive: '../../etc/preds.csv'",
    ),
    Case(
        "zip-absolute-path",
        "predictions",
        "p.zip",
        lambda: _zip({"/tmp/preds.csv": b"y_true,y_score\n1,0.5\n"}),
        "unsafe path in zip archive",
    ),
    Case(
        "zip-nested-by-name",
        "predictions",
        "p.zip",
        lambda: _zip({"inner.zip": _zip({"p.csv": b"y_true,y_score\n1,0.5\n"})}),
        "nested archives are not supported",
    ),
    Case(
        "zip-nested-by-magic",
        "predictions",
        "p.zip",
        lambda: _zip({"preds.csv": _zip({"p.csv": b"y_true,y_score\n1,0.5\n"})}),
        "nested archives are not supported",
    ),
    Case(
        "gzip-in-gzip",
        "predictions",
        "p.csv.gz",
        lambda: gzip.compress(gzip.compress(b"y_true,y_score\n1,0.5\n")),
        "nested archives are not supported",
    ),
    Case(
        "zip-empty",
        "predictions",
        "p.zip",
        lambda: _zip({}),
        "the zip archive contains no file",
    ),
    Case(
        "zip-encrypted",
        "predictions",
        "p.zip",
        _zip_encrypted,
        "encrypted zip archives are not supported",
    ),
    Case(
        "zip-garbage",
        "predictions",
        "p.zip",
        b"PK\x03\x04" + bytes(50),
        "not a valid zip archive",
    ),
    # --- Parquet ---------------------------------------------------------------------
    Case(
        "parquet-garbage",
        "predictions",
        "p.parquet",
        b"PAR1" + bytes(64),
        "not a readable Parquet file",
    ),
    Case(
        "parquet-nan-score",
        "predictions",
        "p.parquet",
        lambda: _parquet(pa.table({"y_true": [1, 0, 1], "y_score": [0.5, 0.1, float("nan")]})),
        "every row needs a number",
        row=3,
        column="y_score",
    ),
    Case(
        "parquet-null-y-true",
        "predictions",
        "p.parquet",
        lambda: _parquet(pa.table({"y_true": [1, None], "y_score": [0.5, 0.1]})),
        "the value is empty",
        row=2,
        column="y_true",
    ),
    Case(
        "parquet-missing-column",
        "predictions",
        "p.parquet",
        lambda: _parquet(pa.table({"y_true": [1, 0]})),
        "missing required column 'y_score'",
    ),
    Case(
        "parquet-nested-type",
        "feature_current",
        "f.parquet",
        lambda: _parquet(pa.table({"x": [[1, 2], [3]]})),
        "unsupported column type list<element: int64>",
        column="x",
    ),
    Case(
        "parquet-zero-rows",
        "feature_current",
        "f.parquet",
        lambda: _parquet(pa.table({"x": pa.array([], pa.float64())})),
        "no data rows",
    ),
    Case(
        "parquet-in-zip",
        "feature_current",
        "f.zip",
        lambda: _zip({"f.csv": _parquet(pa.table({"x": [1.0]}))}),
        "upload Parquet files uncompressed",
    ),
    # --- JSON kinds ------------------------------------------------------------------
    Case("metrics-not-object", "metrics", "m.json", "[0.9]", "metrics must be a JSON object"),
    Case("metrics-empty", "metrics", "m.json", "{}", "metrics is an empty object"),
    Case(
        "metrics-string-value",
        "metrics",
        "m.json",
        '{"auc": "0.9"}',
        "at 'auc': expected a number (or an object of numbers), found the string '0.9'",
    ),
    Case(
        "metrics-boolean-nested",
        "metrics",
        "m.json",
        '{"by_group": {"f": {"auc": true}}}',
        "at 'by_group.f.auc'",
    ),
    Case(
        "metrics-invalid-json",
        "metrics",
        "m.json",
        '{\n  "auc": 0.9,\n  "ks" 0.4\n}',
        "invalid JSON: Expecting ':' delimiter",
        line=3,
    ),
    Case("metrics-nan", "metrics", "m.json", '{"auc": NaN}', "NaN is not a valid JSON number"),
    Case("metrics-huge-number", "metrics", "m.json", '{"auc": 1e999}', "numbers must be finite"),
    Case("metrics-duplicate-key", "metrics", "m.json", '{"auc": 1, "auc": 2}', "duplicate key"),
    Case("json-too-deep", "metrics", "m.json", _deep_json(100), "nested too deeply"),
    Case("json-recursion-bomb", "metrics", "m.json", "[" * 100_000, "nested too deeply"),
    Case(
        "json-too-large",
        "metrics",
        "m.json",
        '{"auc": 0.9, "pad": "' + "x" * 5000 + '"}',
        "the file is larger than 4.0 KiB",
        patch={"JSON_MAX_BYTES": 4096},
    ),
    Case("robustness-no-tests", "robustness", "r.json", '{"tests": []}', 'non-empty "tests" list'),
    Case(
        "robustness-bad-number",
        "robustness",
        "r.json",
        json.dumps({"tests": [{"name": "n", "metric": "auc", "baseline": 0.9, "perturbed": "x"}]}),
        "at 'tests[0].perturbed': expected a number",
    ),
    Case("cost-negative", "cost", "c.json", '{"cost_per_1k": -1}', "must not be negative"),
    Case(
        "cost-zero-predictions",
        "cost",
        "c.json",
        '{"total_cost": 10, "predictions": 0}',
        "expected a whole number > 0",
    ),
    Case("cost-missing", "cost", "c.json", '{"price": 1}', 'cost needs "cost_per_1k"'),
    Case(
        "sbom-spdx",
        "sbom",
        "s.json",
        '{"spdxVersion": "SPDX-2.3", "packages": []}',
        "this is an SPDX document",
    ),
    Case(
        "sbom-wrong-format",
        "sbom",
        "s.json",
        '{"bomFormat": "Other", "specVersion": "1.5", "components": []}',
        'not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"',
    ),
    Case(
        "sbom-no-components",
        "sbom",
        "s.json",
        '{"bomFormat": "CycloneDX", "specVersion": "1.5"}',
        'no "components" list',
    ),
    Case("sbom-xml", "sbom", "s.xml", "<bom xmlns='cyclonedx'/>", "CycloneDX XML is not supported"),
    Case(
        "licenses-json-missing-license",
        "licenses",
        "l.json",
        '[{"name": "a", "license": "MIT"}, {"name": "b"}]',
        "at '[1].license': a non-empty string is required",
    ),
    Case(
        "licenses-csv-missing-column",
        "licenses",
        "l.csv",
        "name,version\nnumpy,1\n",
        "missing required column 'license'",
        line=1,
    ),
    Case(
        "licenses-csv-empty-name",
        "licenses",
        "l.csv",
        "name,license\nnumpy,BSD\n,MIT\n",
        "a non-empty string is required",
        line=3,
        column="name",
    ),
    Case(
        "licenses-csv-ragged",
        "licenses",
        "l.csv",
        "name,license\nnumpy,BSD,extra\n",
        "expected 2 fields like the header, found 3",
        line=2,
    ),
    Case(
        "training-config-list",
        "training_config",
        "t.yaml",
        "- a\n- b\n",
        "must be a mapping, found a list",
    ),
    Case("training-config-empty", "training_config", "t.json", "{}", "the training config is empty"),
    Case(
        "training-config-yaml-aliases",
        "training_config",
        "t.yaml",
        'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n',
        "YAML aliases are not allowed",
        line=2,
    ),
    Case(
        "training-config-yaml-syntax",
        "training_config",
        "t.yaml",
        "lr: 0.1\nlayers: [1, 2\nseed: 3\n",
        "invalid YAML",
        line=3,
    ),
    Case(
        "training-config-yaml-python-tag",
        "training_config",
        "t.yaml",
        "x: !!python/object/apply:os.system ['true']\n",
        "invalid YAML",
        line=1,
    ),
    Case("attachment-empty", "attachment", "a.pdf", b"", "the file is empty"),
    Case("unknown-kind", "model_weights", "w.bin", b"x", "unknown evidence kind", error_field="kind"),
]


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_it_refuses_malformed_evidence(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 35
    assert len({case.id for case in CORPUS}) == len(CORPUS)


def test_it_rejects_a_zip_declaring_10_gb_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(_zip_declaring(10 * 1024**3))
    assert path.stat().st_size < 1024

    with pytest.raises(EvidenceError, match="possible zip bomb"):
        parse_evidence("predictions", str(path), original_name="bomb.zip", columnar_dir=str(tmp_path / "c"))


def test_it_stops_inflating_a_gzip_bomb_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 GiB of zeros in ~1 MiB: aborted once it inflates past 200 x the compressed size
    # (~200 MiB), not after the whole GiB. The JSON size cap is lifted to see the guard.
    monkeypatch.setattr(json_kinds, "JSON_MAX_BYTES", 2 * 1024**3)
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(_gzip_bomb(1024))
    assert path.stat().st_size < 2 * 1024 * 1024

    # The size cap is lifted, so only the running ratio guard can stop it: partway through.
    with pytest.raises(EvidenceError, match="compression ratio exceeds 200:1"):
        parse_evidence("metrics", str(path), original_name="bomb.json.gz", columnar_dir=str(tmp_path / "c"))


def test_it_removes_the_partial_parquet_when_a_late_row_is_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Several row groups are written before the bad line is reached.
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 500)
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _rows(5_000) + "1,oops,0.5,1,F\n")
    columnar_dir = tmp_path / "columnar"

    with pytest.raises(EvidenceError) as caught:
        parse_evidence("predictions", str(path), original_name="p.csv", columnar_dir=str(columnar_dir))

    assert caught.value.line == 5_002
    assert os.listdir(columnar_dir) == []


def test_it_removes_the_partial_parquet_on_unexpected_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: object) -> dict:
        raise RuntimeError("disk full")

    monkeypatch.setattr(tables._TableBuilder, "finish", explode)
    path = tmp_path / "p.csv"
    path.write_text(HEADER + _rows(10))
    columnar_dir = tmp_path / "columnar"

    with pytest.raises(RuntimeError, match="disk full"):
        parse_evidence("predictions", str(path), original_name="p.csv", columnar_dir=str(columnar_dir))

    assert os.listdir(columnar_dir) == []


CSV_ALPHABET = "y_true,y_score;\t\n\r\"' 0123456789.-eEnaNAinf\x00\ufeffé"


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["predictions", "latency", "feature_current", "licenses", "metrics", "training_config"]),
    content=st.one_of(
        st.binary(max_size=400),
        st.text(alphabet=CSV_ALPHABET, max_size=400).map(lambda text: text.encode("utf-8")),
        st.text(alphabet=CSV_ALPHABET, max_size=400).map(lambda text: ("y_true,y_score\n" + text).encode()),
    ),
    name=st.sampled_from(["e.csv", "e.json", "e.yaml", "e.parquet", "e.zip"]),
)
def test_arbitrary_bytes_are_accepted_or_refused_cleanly(tmp_path: Path, kind: str, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    columnar_dir = tmp_path / "columnar"

    try:
        result = parse_evidence(kind, str(path), original_name=name, columnar_dir=str(columnar_dir))
    except EvidenceError as error:
        assert str(error)
        assert not columnar_dir.exists() or os.listdir(columnar_dir) == []
    else:
        if result.columnar_path:
            os.remove(result.columnar_path)

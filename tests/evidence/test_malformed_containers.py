"""Hostile and malformed containers: files that are not the CSV they claim (Excel, bzip2),
gzip and zip archives (bombs, lies about their size, unsafe paths, nesting, encryption)
and Parquet files.

The shared parts of the corpus are in malformed.py.
"""

from __future__ import annotations

import bz2
import gzip
import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from governance.evidence.parsers import EvidenceError, json_kinds, parse_evidence
from tests.evidence.malformed import HEADER, Case, assert_refused, rows


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
        archive.writestr("preds.csv", HEADER + rows(3))
        archive.filelist[0].file_size = file_size  # written into the central directory
    return buffer.getvalue()


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
    data = bytearray(_zip({"preds.csv": (HEADER + rows(2)).encode()}))
    data[6] |= 0x1  # local header: general purpose flag, bit 0 = encrypted
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1
    return bytes(data)


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


CONTAINER_CASES = [
    # --- not the CSV they claim ------------------------------------------------------
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
    # --- containers and bombs --------------------------------------------------------
    Case(
        "gzip-truncated",
        "predictions",
        "p.csv.gz",
        lambda: gzip.compress((HEADER + rows(500)).encode())[:-30],
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
        lambda: gzip.compress((HEADER + rows(50_000)).encode()),
        "exceeds 256.0 KiB uncompressed",
        limits={"max_uncompressed_bytes": 256 * 1024},
    ),
    Case(
        "plain-over-size-limit",
        "predictions",
        "p.csv",
        HEADER + rows(20_000),
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
]


@pytest.mark.parametrize("case", CONTAINER_CASES, ids=[case.id for case in CONTAINER_CASES])
def test_it_refuses_malformed_evidence(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_refused(case, tmp_path, monkeypatch)


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

"""Malformed CSV tables (predictions, latency, features): broken CSV, then each kind's rules.

The shared parts of the corpus are in malformed.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.evidence.parsers import EvidenceError, parse_evidence, tables
from tests.evidence.malformed import HEADER, Case, assert_refused, rows

TABLE_CASES = [
    # --- general CSV problems --------------------------------------------------------
    Case("empty", "predictions", "p.csv", b"", "the file is empty"),
    Case("only-whitespace", "predictions", "p.csv", "\n\n  \n", "the file is empty"),
    Case("bom-only", "predictions", "p.csv", b"\xef\xbb\xbf", "the file is empty"),
    # An empty first line, then data: a kind with no required column (found by the fuzzer:
    # it reached the parser with no columns at all and failed an assertion) and one with.
    Case("empty-header-line", "feature_current", "e.csv", b"\n\r\x00", "the first line is empty", line=1),
    Case("empty-header-line-predictions", "predictions", "p.csv", "\n1,0.5\n", "the first line is empty", line=1),
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
        HEADER + rows(1) + "1,0.5,0.5,1,F,extra\n",
        "expected 5 fields like the header, found 6",
        line=3,
    ),
    Case(
        "ragged-row-too-few",
        "predictions",
        "p.csv",
        HEADER + rows(3) + "1,0.5\n",
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
    # --- predictions rules -----------------------------------------------------------
    Case(
        "text-in-score",
        "predictions",
        "p.csv",
        HEADER + rows(15) + "1,abc,0.5,1,F\n",
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
        HEADER + rows(2) + "1,NaN,0.5,1,F\n",
        "'NaN' is a missing value: every row needs a number",
        line=4,
        column="y_score",
    ),
    Case(
        "empty-y-true",
        "predictions",
        "p.csv",
        HEADER + rows(4) + ",0.5,0.5,1,F\n",
        "the value is empty",
        line=6,
        column="y_true",
    ),
    Case(
        "inf-baseline",
        "predictions",
        "p.csv",
        HEADER + rows(2) + "1,0.5,inf,1,F\n",
        "'inf' is not a finite number",
        line=4,
        column="baseline_score",
    ),
    Case(
        "score-out-of-range",
        "predictions",
        "p.csv",
        HEADER + rows(7) + "1,1.7,0.5,1,F\n" + rows(5) + "1,-2,0.5,1,F\n",
        "1.7 is outside [0, 1]",
        line=9,
        column="y_score",
    ),
    Case(
        "baseline-out-of-range",
        "predictions",
        "p.csv",
        HEADER + rows(2) + "0,0.5,3,0,F\n",
        "3 is outside [0, 1]",
        line=4,
        column="baseline_score",
    ),
    Case(
        "y-pred-not-binary",
        "predictions",
        "p.csv",
        HEADER + rows(2) + "1,0.5,0.5,2,F\n",
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
]


@pytest.mark.parametrize("case", TABLE_CASES, ids=[case.id for case in TABLE_CASES])
def test_it_refuses_malformed_evidence(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_refused(case, tmp_path, monkeypatch)


def test_it_removes_the_partial_parquet_when_a_late_row_is_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Several row groups are written before the bad line is reached.
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 500)
    path = tmp_path / "p.csv"
    path.write_text(HEADER + rows(5_000) + "1,oops,0.5,1,F\n")
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
    path.write_text(HEADER + rows(10))
    columnar_dir = tmp_path / "columnar"

    with pytest.raises(RuntimeError, match="disk full"):
        parse_evidence("predictions", str(path), original_name="p.csv", columnar_dir=str(columnar_dir))

    assert os.listdir(columnar_dir) == []

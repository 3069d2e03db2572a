"""Valid evidence files of every kind and format: what parse_evidence reports and writes."""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.core.vocabulary import EVIDENCE_KINDS
from governance.evidence.parsers import (
    EvidenceError,
    ParsedEvidence,
    load_columns,
    parse_evidence,
    preview_rows,
    tables,
)

PREDICTIONS = (
    "y_true,y_score,baseline_score,y_pred,gender,age_band\n"
    "1,0.9,0.8,1,F,18-25\n"
    "0,0.2,0.3,0,M,26-40\n"
    "1,0.7,0.4,1,F,\n"
    "0,0.4,0.6,0,X,NA\n"
)


def _write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def _parse(tmp_path: Path, kind: str, name: str, data: bytes | str, **limits) -> ParsedEvidence:
    return parse_evidence(
        kind,
        _write(tmp_path, name, data),
        original_name=name,
        columnar_dir=str(tmp_path / "columnar"),
        **limits,
    )


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _parquet(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


# --- contract -------------------------------------------------------------------------


def test_every_design_kind_has_a_parser_and_anything_else_is_refused(tmp_path: Path) -> None:
    for kind in EVIDENCE_KINDS:
        try:
            _parse(tmp_path, kind, "x.bin", b"\x00\x01 not a valid file of any kind")
        except EvidenceError as exc:
            assert "unknown evidence kind" not in str(exc), kind
    with pytest.raises(EvidenceError, match="unknown evidence kind 'weights'") as refused:
        _parse(tmp_path, "weights", "w.bin", b"123")
    assert refused.value.field == "kind"


def test_it_formats_errors_with_line_and_column() -> None:
    error = EvidenceError("'abc' is not a number", line=17, column="y_score")
    assert str(error) == "line 17, column 'y_score': 'abc' is not a number"
    assert (error.line, error.column, error.field) == (17, "y_score", "file")
    assert isinstance(error, ValueError)
    assert str(EvidenceError("bad", row=3)) == "row 3: bad"
    assert str(EvidenceError("plain")) == "plain"


# --- predictions ------------------------------------------------------------------------


def test_it_parses_a_predictions_csv(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", PREDICTIONS)

    assert result.kind == "predictions"
    assert result.format == "csv"
    assert result.row_count == 4
    assert result.columns == ["y_true", "y_score", "baseline_score", "y_pred", "gender", "age_band"]
    assert result.data is None
    profile = result.profile
    assert profile["task"] == "classification"
    assert profile["positives"] == 2
    assert profile["positive_rate"] == 0.5
    score = profile["columns"]["y_score"]
    assert score["type"] == "numeric"
    assert score["nulls"] == 0
    assert score["min"] == 0.2
    assert score["max"] == 0.9
    assert score["mean"] == pytest.approx(0.55)
    assert score["std"] == pytest.approx(np.std([0.9, 0.2, 0.7, 0.4]))
    gender = profile["columns"]["gender"]
    assert gender["type"] == "categorical"
    assert gender["distinct"] == 3
    assert gender["top_values"][0] == {"value": "F", "count": 2}
    age = profile["columns"]["age_band"]
    assert age["nulls"] == 2  # "" and "NA"
    assert age["distinct"] == 2
    assert profile["source"] == {"format": "csv", "container": "plain"}
    json.dumps(profile)  # stored as JSON


def test_it_writes_a_normalised_parquet_copy(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", PREDICTIONS)

    assert result.columnar_path is not None
    assert os.path.dirname(result.columnar_path) == str(tmp_path / "columnar")
    assert os.listdir(tmp_path / "columnar") == [os.path.basename(result.columnar_path)]
    schema = pq.read_schema(result.columnar_path)
    assert schema.field("y_true").type == pa.float64()
    assert schema.field("gender").type == pa.string()
    assert pq.ParquetFile(result.columnar_path).metadata.num_rows == 4


def test_it_loads_only_the_requested_columns(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", PREDICTIONS)

    columns = load_columns(result.columnar_path, ["y_true", "y_score", "age_band"])

    assert list(columns) == ["y_true", "y_score", "age_band"]
    assert columns["y_true"].dtype == np.float64
    np.testing.assert_array_equal(columns["y_true"], [1, 0, 1, 0])
    np.testing.assert_array_equal(columns["y_score"], [0.9, 0.2, 0.7, 0.4])
    assert columns["age_band"].tolist() == ["18-25", "26-40", None, None]


def test_it_refuses_to_load_an_unknown_column(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", PREDICTIONS)

    with pytest.raises(EvidenceError, match="no such column") as caught:
        load_columns(result.columnar_path, ["y_true", "nope"])
    assert caught.value.column == "nope"


def test_it_previews_the_first_rows(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", PREDICTIONS)

    columns, rows = preview_rows(result.columnar_path, n=2)

    assert columns == result.columns
    assert rows == [
        [1.0, 0.9, 0.8, 1.0, "F", "18-25"],
        [0.0, 0.2, 0.3, 0.0, "M", "26-40"],
    ]
    assert preview_rows(result.columnar_path, n=0) == (columns, [])


def test_it_previews_nan_as_none(tmp_path: Path) -> None:
    result = _parse(tmp_path, "feature_reference", "f.csv", "x,c\n1,a\n,b\n")

    assert preview_rows(result.columnar_path)[1] == [[1.0, "a"], [None, "b"]]


def test_it_detects_a_regression_task(tmp_path: Path) -> None:
    csv = "y_true,y_score\n12.5,11\n-3,-2.5\n7,70\n"

    result = _parse(tmp_path, "predictions", "reg.csv", csv)

    assert result.profile["task"] == "regression"
    assert "positives" not in result.profile
    assert result.profile["columns"]["y_score"]["max"] == 70


def test_it_tolerates_bom_crlf_padding_and_blank_lines(tmp_path: Path) -> None:
    csv = "\ufeffy_true , y_score\r\n 1 , 0.5 \r\n\r\n0,0.25\r\n\r\n\r\n"

    result = _parse(tmp_path, "predictions", "preds.csv", csv.encode("utf-8"))

    assert result.columns == ["y_true", "y_score"]
    assert result.row_count == 2
    np.testing.assert_array_equal(load_columns(result.columnar_path, ["y_score"])["y_score"], [0.5, 0.25])


def test_it_counts_blank_lines_in_line_numbers(tmp_path: Path) -> None:
    csv = "y_true,y_score\n1,0.5\n\n\n0,oops\n"

    with pytest.raises(EvidenceError) as caught:
        _parse(tmp_path, "predictions", "preds.csv", csv)

    assert caught.value.line == 5


def test_it_counts_quoted_line_breaks_in_line_numbers(tmp_path: Path) -> None:
    csv = 'y_true,y_score,note\n1,0.5,"two\nlines"\n0,0.1,"three\nmore\nlines"\n1,bad,x\n'

    with pytest.raises(EvidenceError) as caught:
        _parse(tmp_path, "predictions", "preds.csv", csv)

    assert caught.value.line == 7
    assert caught.value.column == "y_score"


def test_it_reports_the_right_line_across_many_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    rows = ["1,0.5"] * 20_000
    rows[14_998] = "1,nope"  # file line 15,000
    csv = "y_true,y_score\n" + "\n".join(rows) + "\n"

    with pytest.raises(EvidenceError) as caught:
        _parse(tmp_path, "predictions", "preds.csv", csv)

    assert caught.value.line == 15_000
    assert "'nope' is not a number" in str(caught.value)
    assert os.listdir(tmp_path / "columnar") == []


def test_it_finds_the_first_ragged_row_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    rows = ["1,0.5"] * 5_000
    rows[3_000] = "1,0.5,extra"  # file line 3,002
    csv = "y_true,y_score\n" + "\n".join(rows) + "\n"

    with pytest.raises(EvidenceError, match="expected 2 fields") as caught:
        _parse(tmp_path, "predictions", "preds.csv", csv)

    assert caught.value.line == 3_002


def test_it_rejects_text_in_a_column_that_was_numeric_in_earlier_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 4096)
    rows = [f"{i},{i % 3}" for i in range(3_000)]
    rows[2_500] = "2500,unknown"
    csv = "a,b\n" + "\n".join(rows) + "\n"

    with pytest.raises(EvidenceError) as caught:
        _parse(tmp_path, "feature_current", "f.csv", csv)

    assert caught.value.line == 2_502
    assert caught.value.column == "b"
    assert "earlier rows of this column were numeric" in str(caught.value)


def test_it_writes_many_row_groups_and_keeps_every_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 8192)
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 1000)
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 10_000)
    y_score = rng.random(10_000).round(6)
    csv = "y_true,y_score\n" + "".join(f"{a},{b}\n" for a, b in zip(y_true, y_score, strict=True))

    result = _parse(tmp_path, "predictions", "preds.csv", csv)

    assert result.row_count == 10_000
    assert pq.ParquetFile(result.columnar_path).metadata.num_row_groups > 1
    loaded = load_columns(result.columnar_path, ["y_true", "y_score"])
    np.testing.assert_array_equal(loaded["y_true"], y_true)
    np.testing.assert_array_equal(loaded["y_score"], y_score)
    assert result.profile["columns"]["y_score"]["mean"] == pytest.approx(y_score.mean())
    assert result.profile["columns"]["y_score"]["std"] == pytest.approx(y_score.std())
    assert result.profile["positives"] == int(y_true.sum())


def test_it_caps_distinct_counts(tmp_path: Path) -> None:
    rows = "".join(f"{i},id-{i}\n" for i in range(1_500))

    result = _parse(tmp_path, "feature_reference", "f.csv", "x,user\n" + rows)

    user = result.profile["columns"]["user"]
    assert user["distinct"] == "1000+"
    assert len(user["top_values"]) == tables.TOP_VALUES


def test_it_reads_pandas_booleans_in_label_columns(tmp_path: Path) -> None:
    csv = "y_true,y_score,y_pred,flag\nTrue,0.5,False,True\nFALSE,0.2,true,False\n"

    result = _parse(tmp_path, "predictions", "preds.csv", csv)

    assert result.profile["task"] == "classification"
    loaded = load_columns(result.columnar_path, ["y_true", "y_pred", "flag"])
    np.testing.assert_array_equal(loaded["y_true"], [1, 0])
    np.testing.assert_array_equal(loaded["y_pred"], [0, 1])
    assert loaded["flag"].tolist() == ["True", "False"]  # other columns stay as written


def test_it_reads_a_wide_feature_table(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    values = rng.random((300, 600)).round(3)
    header = ",".join(f"f{i}" for i in range(600))
    csv = header + "\n" + "\n".join(",".join(map(str, row)) for row in values) + "\n"

    result = _parse(tmp_path, "feature_reference", "wide.csv", csv)

    assert result.row_count == 300
    assert len(result.columns) == 600
    np.testing.assert_array_equal(load_columns(result.columnar_path, ["f599"])["f599"], values[:, 599])


def test_a_header_starting_like_a_bzip2_magic_is_still_csv(tmp_path: Path) -> None:
    result = _parse(tmp_path, "feature_current", "f.csv", "BZh_score,x\n1,2\n")

    assert result.columns == ["BZh_score", "x"]


# --- containers -------------------------------------------------------------------------


def test_it_reads_gzip(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv.gz", gzip.compress(PREDICTIONS.encode()))

    assert result.row_count == 4
    assert result.profile["source"]["container"] == "gzip"


def test_it_reads_concatenated_gzip_members(tmp_path: Path) -> None:
    data = gzip.compress(b"y_true,y_score\n1,0.5\n") + gzip.compress(b"0,0.25\n")

    assert _parse(tmp_path, "predictions", "p.csv.gz", data).row_count == 2


def test_it_detects_gzip_by_magic_not_name(tmp_path: Path) -> None:
    result = _parse(tmp_path, "predictions", "preds.csv", gzip.compress(PREDICTIONS.encode()))

    assert result.profile["source"]["container"] == "gzip"
    assert _parse(tmp_path, "predictions", "plain.csv.gz", PREDICTIONS).row_count == 4


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_it_reads_a_zip_with_one_csv(tmp_path: Path, compression: int) -> None:
    data = _zip({"export/": b"", "export/preds.csv": PREDICTIONS.encode()}, compression)

    result = _parse(tmp_path, "predictions", "preds.zip", data)

    assert result.row_count == 4
    assert result.profile["source"]["container"] == "zip"


def test_it_accepts_small_but_very_repetitive_gzip(tmp_path: Path) -> None:
    # ratio far above 200:1, but it inflates to < 1 MiB: not a bomb
    data = gzip.compress(b"y_true,y_score\n" + b"1,0.5\n" * 100_000, 9)
    assert 600_000 / len(data) > 200

    assert _parse(tmp_path, "predictions", "p.csv.gz", data).row_count == 100_000


def test_it_reads_parquet(tmp_path: Path) -> None:
    table = pa.table(
        {
            "y_true": pa.array([1, 0, 1, 0], pa.int8()),
            "y_score": pa.array([0.9, 0.1, 0.6, 0.3], pa.float32()),
            "y_pred": pa.array([True, False, True, False]),
            "gender": pa.array(["F", "M", None, "F"]).dictionary_encode(),
            "region": pa.array(["n", "s", "n", "e"], pa.large_string()),
        }
    )

    result = _parse(tmp_path, "predictions", "preds.parquet", _parquet(table, row_group_size=2))

    assert result.format == "parquet"
    assert result.row_count == 4
    assert result.profile["task"] == "classification"
    assert result.profile["columns"]["gender"]["nulls"] == 1
    assert result.profile["columns"]["region"]["type"] == "categorical"
    loaded = load_columns(result.columnar_path, ["y_pred", "gender", "y_score"])
    np.testing.assert_array_equal(loaded["y_pred"], [1, 0, 1, 0])
    assert loaded["gender"].tolist() == ["F", "M", None, "F"]
    np.testing.assert_allclose(loaded["y_score"], [0.9, 0.1, 0.6, 0.3], rtol=1e-6)


def test_it_reads_parquet_with_numbers_stored_as_text(tmp_path: Path) -> None:
    table = pa.table({"y_true": ["1", "0"], "y_score": [" 0.5", "0.25 "]})

    result = _parse(tmp_path, "predictions", "p.parquet", _parquet(table))

    np.testing.assert_array_equal(load_columns(result.columnar_path, ["y_score"])["y_score"], [0.5, 0.25])


# --- other table kinds ------------------------------------------------------------------


def test_it_parses_latency(tmp_path: Path) -> None:
    csv = "timestamp,latency_ms,error\n2024-01-01T00:00:00,12.5,0\n2024-01-01T00:00:01,0,1\n"

    result = _parse(tmp_path, "latency", "lat.csv", csv)

    assert result.row_count == 2
    assert result.profile["columns"]["latency_ms"]["max"] == 12.5
    assert result.profile["columns"]["timestamp"]["type"] == "categorical"
    assert "task" not in result.profile


def test_it_parses_feature_tables_counting_missing_values(tmp_path: Path) -> None:
    csv = "income,region,score\n100,north,1.5\n,south,NaN\n300,,2.5\n"

    for kind in ("feature_reference", "feature_current"):
        result = _parse(tmp_path, kind, "f.csv", csv)
        columns = result.profile["columns"]
        assert columns["income"] == {
            "type": "numeric",
            "count": 2,
            "nulls": 1,
            "min": 100.0,
            "max": 300.0,
            "mean": 200.0,
            "std": 100.0,
        }
        assert columns["score"]["nulls"] == 1
        assert columns["region"]["nulls"] == 1
        loaded = load_columns(result.columnar_path, ["income"])["income"]
        assert math.isnan(loaded[1])


def test_it_accepts_a_single_column_feature_table(tmp_path: Path) -> None:
    result = _parse(tmp_path, "feature_current", "f.csv", "age\n31\n45\n")

    assert result.columns == ["age"]
    assert result.row_count == 2


# --- JSON / YAML kinds ------------------------------------------------------------------


def test_it_parses_metrics_with_nested_objects(tmp_path: Path) -> None:
    data = {"auc": 0.91, "ks": 0.4, "by_segment": {"retail": {"auc": 0.9}, "sme": {"auc": 0.8}}}

    result = _parse(tmp_path, "metrics", "m.json", json.dumps(data))

    assert (result.format, result.row_count, result.columns) == ("json", None, [])
    assert result.data == data
    assert result.columnar_path is None
    assert result.profile["metrics"] == 4
    assert "by_segment.retail.auc" in result.profile["keys"]


def test_it_parses_robustness(tmp_path: Path) -> None:
    data = {
        "tests": [
            {"name": "gaussian noise", "metric": "auc", "baseline": 0.9, "perturbed": 0.88},
            {"name": "missing income", "metric": "auc", "baseline": 0.9, "perturbed": 0.85},
        ]
    }

    result = _parse(tmp_path, "robustness", "r.json", json.dumps(data))

    assert result.profile == {"tests": 2, "metrics": ["auc"]}
    assert result.data == data


@pytest.mark.parametrize(
    ("document", "per_1k"),
    [
        ({"cost_per_1k": 0.25, "currency": "EUR"}, 0.25),
        ({"total_cost": 12.0, "predictions": 48_000}, 0.25),
        ({"cost_per_1k": 0}, 0.0),
    ],
)
def test_it_parses_cost(tmp_path: Path, document: dict, per_1k: float) -> None:
    result = _parse(tmp_path, "cost", "c.json", json.dumps(document))

    assert result.profile["cost_per_1k"] == pytest.approx(per_1k)


def test_it_parses_a_cyclonedx_sbom(tmp_path: Path) -> None:
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
    }

    result = _parse(tmp_path, "sbom", "bom.json", json.dumps(sbom))

    assert result.profile == {"spec_version": "1.5", "components": 1}
    assert result.data == sbom


def test_it_parses_licenses_json_including_pip_licenses_output(tmp_path: Path) -> None:
    data = [
        {"Name": "numpy", "Version": "2.0.0", "License": "BSD-3-Clause"},
        {"name": "left-pad", "license": "MIT"},
    ]

    result = _parse(tmp_path, "licenses", "l.json", json.dumps(data))

    assert result.format == "json"
    assert result.row_count == 2
    assert result.data == [
        {"name": "numpy", "version": "2.0.0", "license": "BSD-3-Clause"},
        {"name": "left-pad", "version": None, "license": "MIT"},
    ]
    assert result.profile["licenses"] == {"BSD-3-Clause": 1, "MIT": 1}


def test_it_parses_licenses_csv(tmp_path: Path) -> None:
    csv = "Name,Version,License\nnumpy,2.0.0,BSD-3-Clause\n\nrequests,,Apache-2.0\n"

    result = _parse(tmp_path, "licenses", "l.csv", csv)

    assert result.format == "csv"
    assert result.columnar_path is None
    assert result.data == [
        {"name": "numpy", "version": "2.0.0", "license": "BSD-3-Clause"},
        {"name": "requests", "version": None, "license": "Apache-2.0"},
    ]


def test_it_parses_training_config_json_and_yaml(tmp_path: Path) -> None:
    as_json = _parse(tmp_path, "training_config", "t.json", '{"lr": 0.1, "seed": 7}')
    as_yaml = _parse(
        tmp_path,
        "training_config",
        "t.yaml",
        "lr: 0.1\nseed: 7\ndata:\n  snapshot: 2024-05-01\n  splits: [train, test]\n1: one\n",
    )

    assert (as_json.format, as_json.data) == ("json", {"lr": 0.1, "seed": 7})
    assert as_yaml.format == "yaml"
    assert as_yaml.data == {
        "lr": 0.1,
        "seed": 7,
        "data": {"snapshot": "2024-05-01", "splits": ["train", "test"]},
        "1": "one",
    }
    json.dumps(as_yaml.data)
    assert as_yaml.profile["keys"] == ["1", "data", "lr", "seed"]


def test_it_reads_json_evidence_from_gzip(tmp_path: Path) -> None:
    result = _parse(tmp_path, "metrics", "m.json.gz", gzip.compress(b'{"auc": 0.8}'))

    assert result.data == {"auc": 0.8}


# --- attachments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (b"%PDF-1.7\n%...", "pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"plain notes\n", "text"),
        (b"\x00\x01\x02\xff", "binary"),
    ],
)
def test_it_keeps_attachments_unparsed(tmp_path: Path, content: bytes, detected: str) -> None:
    result = _parse(tmp_path, "attachment", "Report.PDF", content)

    assert result.format == "binary"
    assert (result.row_count, result.columns, result.data, result.columnar_path) == (
        None,
        [],
        None,
        None,
    )
    assert result.profile == {"bytes": len(content), "type": detected, "extension": ".pdf"}
    assert not (tmp_path / "columnar").exists()


# --- properties -------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32), min_size=1, max_size=60),
    labels=st.lists(st.sampled_from(["a", "b", "c", ""]), min_size=60, max_size=60),
)
def test_it_round_trips_any_numeric_table(tmp_path: Path, values: list[float], labels: list[str]) -> None:
    rows = "".join(f"{value!r},{label}\n" for value, label in zip(values, labels, strict=False))
    name = f"f{abs(hash((tuple(values), tuple(labels))))}.csv"

    result = _parse(tmp_path, "feature_reference", name, "x,group\n" + rows)

    expected = np.array(values, dtype=np.float64)
    loaded = load_columns(result.columnar_path, ["x", "group"])
    np.testing.assert_array_equal(loaded["x"], expected)
    profile = result.profile["columns"]["x"]
    assert profile["min"] == expected.min()
    assert profile["max"] == expected.max()
    assert profile["mean"] == pytest.approx(expected.mean(), rel=1e-9, abs=1e-6)
    used = labels[: len(values)]
    assert result.profile["columns"]["group"]["nulls"] == used.count("")
    os.remove(result.columnar_path)

"""Table evidence (predictions, latency, feature tables): CSV or Parquet in, a profile and
a normalised Parquet copy out.

CSV (plain, gzip or a zip with one member) goes through pyarrow's incremental reader,
Parquet by batches; each batch is validated, profiled and appended to the Parquet copy in
`columnar_dir`, which the gates read back with `load_columns`. Memory stays bounded by the
batch size, not the file size. CSV lines are 1-based file lines (the header is line 1),
Parquet rows 1-based data rows. On any error nothing is left in `columnar_dir`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from governance.evidence.parsers.arrays import (
    EMPTY_STRING,
    Unparsable,
    bool_numpy,
    float_arrow,
    float_numpy,
    infer_type,
    int_numpy,
    string_array,
    to_float,
    to_strings,
)
from governance.evidence.parsers.errors import EvidenceError, human_bytes, show_value
from governance.evidence.parsers.parsed import ParsedEvidence
from governance.evidence.parsers.sources import CORRUPT_ARCHIVE_ERRORS, Source

MAX_COLUMNS = 2_000
MAX_HEADER_BYTES = 1024 * 1024
DISTINCT_CAP = 1_000
TOP_VALUES = 10
# CSV blocks: big enough for ~2,048 rows per batch (per-batch cost is per column), at least
# 512 KiB, at most 8 MiB. pyarrow's streaming reader would read up to 32 blocks ahead;
# the stream lets it run only CSV_BLOCKS_AHEAD blocks ahead of the batches consumed.
# Row groups are flushed at 64k rows or 16 MiB. All measured with
# bench/bench_evidence_parse.py: bigger values cost RSS, not speed.
CSV_BLOCK_BYTES = 512 * 1024
MAX_CSV_BLOCK_BYTES = 8 * 1024 * 1024
CSV_BATCH_ROWS = 2_048
CSV_BLOCKS_AHEAD = 4
ROW_GROUP_ROWS = 64 * 1024
ROW_GROUP_BYTES = 16 * 1024 * 1024
PARQUET_BATCH_ROWS = 64 * 1024
PARQUET_BATCH_CELLS = 2_000_000  # fewer rows per batch for wide tables
MAX_PARQUET_ROW_GROUP_BYTES = 512 * 1024 * 1024

# Columns with strict rules per kind: (required, allowed values or None, minimum or None)
_STRICT_COLUMNS: dict[str, dict[str, tuple[bool, tuple[float, ...] | None, float | None]]] = {
    "predictions": {
        "y_true": (True, None, None),
        "y_score": (True, None, None),
        "baseline_score": (False, None, None),
        "y_pred": (False, (0.0, 1.0), None),
    },
    "latency": {
        "latency_ms": (True, None, 0.0),
        "error": (False, (0.0, 1.0), None),
    },
}


def load_columns(columnar_path: str, columns: list[str]) -> dict[str, np.ndarray]:
    """Read only `columns` from a Parquet copy written by `parse_evidence`.

    Numeric columns come back as float64 arrays (NaN for missing values), the others as
    object arrays of str (None for missing values).
    """
    available = pq.read_schema(columnar_path).names
    for name in columns:
        if name not in available:
            raise EvidenceError("no such column in the evidence table", column=name)
    table = pq.read_table(columnar_path, columns=list(columns))
    result: dict[str, np.ndarray] = {}
    for name in columns:
        chunked = table.column(name)
        if pa.types.is_floating(chunked.type):
            parts = [float_numpy(chunk) for chunk in chunked.chunks]
            result[name] = np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
        else:
            result[name] = np.asarray(chunked.to_pylist(), dtype=object)
    return result


def preview_rows(columnar_path: str, n: int = 20) -> tuple[list[str], list[list[Any]]]:
    """The column names and the first `n` rows (NaN shown as None) for the evidence page."""
    with pq.ParquetFile(columnar_path) as parquet_file:
        names = parquet_file.schema_arrow.names
        if n <= 0 or parquet_file.metadata.num_rows == 0:
            return names, []
        batch = next(parquet_file.iter_batches(batch_size=n))
    rows = []
    for record in batch.slice(0, n).to_pylist():
        rows.append([_json_safe(record[name]) for name in names])
    return names, rows


def parse_table(kind: str, source: Source, columnar_dir: str) -> ParsedEvidence:
    os.makedirs(columnar_dir, exist_ok=True)
    token = uuid.uuid4().hex
    partial_path = os.path.join(columnar_dir, f".{kind}-{token}.parquet.partial")
    final_path = os.path.join(columnar_dir, f"{kind}-{token}.parquet")
    builder: _TableBuilder | None = None
    try:
        if source.container == "parquet":
            builder = _read_parquet(kind, source, partial_path)
            fmt = "parquet"
        else:
            builder = _read_csv(kind, source, partial_path)
            fmt = "csv"
        profile = builder.finish()
        os.replace(partial_path, final_path)
    except BaseException:
        if builder is not None:
            builder.abort()
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial_path)
        raise
    profile["source"] = {"format": fmt, "container": source.container}
    return ParsedEvidence(
        kind=kind,
        format=fmt,
        row_count=builder.rows,
        columns=list(builder.names),
        profile=profile,
        data=None,
        columnar_path=final_path,
    )


def _check_column_names(kind: str, names: list[str], *, line: int | None) -> None:
    if not names:
        raise EvidenceError("the first line is empty: it must be a header naming the columns", line=line)
    if len(names) > MAX_COLUMNS:
        raise EvidenceError(f"{len(names)} columns: at most {MAX_COLUMNS} are allowed", line=line)
    for position, name in enumerate(names, start=1):
        if not name:
            hint = " (was it written with a DataFrame index? use index=False)" * (position == 1)
            raise EvidenceError(f"column {position} has no name{hint}", line=line)
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise EvidenceError(f"duplicate column name {name!r}", line=line)
        seen.add(name)
    for required in (c for c, rule in _STRICT_COLUMNS.get(kind, {}).items() if rule[0]):
        if required not in seen:
            near = [n for n in names if n.strip().lower() == required]
            hint = f" (found {near[0]!r}: names are case-sensitive)" if near else ""
            if not hint:
                shown = ", ".join(repr(n) for n in names[:8]) + (", ..." * (len(names) > 8))
                hint = f"; the first line must be a header, found: {shown}"
            raise EvidenceError(f"missing required column {required!r}{hint}", line=line)


def _read_header(source: Source) -> tuple[list[str], int]:
    """The header's column names, and a CSV block size fitted to the rows' width."""
    with source.stream() as stream:
        head = stream.read_prefix(MAX_HEADER_BYTES + 1, stop=b"\n")
    if not head.strip():
        raise EvidenceError("the file is empty")
    newline = head.find(b"\n")
    if b"\x00" in (head if newline < 0 else head[:newline]):
        raise EvidenceError("the file looks binary (NUL byte in the header): expected a CSV", line=1)
    if newline < 0:
        if len(head) > MAX_HEADER_BYTES:
            raise EvidenceError("the header line is longer than 1 MiB", line=1)
        first = head
    else:
        first = head[:newline]
    text = first.decode("utf-8").rstrip("\r")
    try:
        names = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        raise EvidenceError(f"the header is not valid CSV: {exc}", line=1) from None
    names = [name.strip() for name in names]
    if len(names) == 1:
        for delimiter, label in ((";", "';'"), ("\t", "tab"), ("|", "'|'")):
            if delimiter in names[0]:
                raise EvidenceError(f"looks like {label}-delimited: use commas", line=1)
    sample = head[len(first) + 1 :] if newline >= 0 else b""
    rows_seen = sample.count(b"\n")
    row_bytes = len(sample) / rows_seen if rows_seen else max(len(sample), len(first))
    block_size = int(min(MAX_CSV_BLOCK_BYTES, max(CSV_BLOCK_BYTES, row_bytes * CSV_BATCH_ROWS)))
    return names, block_size


def _read_csv(kind: str, source: Source, partial_path: str) -> _TableBuilder:
    names, block_size = _read_header(source)
    _check_column_names(kind, names, line=1)
    invalid: list[Any] = []

    def on_invalid_row(row: Any) -> str:
        invalid.append(row)
        return "error"

    read_options = pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size, use_threads=False)
    parse_options = pa_csv.ParseOptions(
        newlines_in_values=True,
        ignore_empty_lines=False,
        invalid_row_handler=on_invalid_row,
    )
    convert_options = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        check_utf8=True,
    )
    builder = _TableBuilder(kind, names, partial_path, position="line")
    next_line = 2
    try:
        with source.stream() as stream:
            stream.throttle(CSV_BLOCKS_AHEAD)
            try:
                reader = pa_csv.open_csv(
                    stream,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
                for batch in reader:
                    columns = {name: batch.column(i) for i, name in enumerate(names)}
                    lines = np.arange(next_line, next_line + batch.num_rows, dtype=np.int64)
                    extra = _embedded_newlines(columns.values(), batch.num_rows)
                    if extra is not None:
                        # Quoted values spanning lines: shift later rows' line numbers.
                        lines += np.concatenate(([0], np.cumsum(extra)[:-1]))
                        next_line += int(extra.sum())
                    next_line += batch.num_rows
                    columns, lines = _drop_blank_rows(columns, lines)
                    if len(lines):
                        builder.add(columns, lines)
                    stream.batch_consumed()
            except pa.ArrowException as exc:
                if isinstance(exc.__context__, EvidenceError):
                    raise exc.__context__ from None
                if invalid:
                    raise _ragged_row_error(source, names, invalid[0]) from None
                raise EvidenceError(f"could not parse the CSV: {_arrow_message(exc)}") from None
            finally:
                stream.release()
    except BaseException:
        builder.abort()
        raise
    return builder


def _embedded_newlines(columns: Any, num_rows: int) -> np.ndarray | None:
    extra: np.ndarray | None = None
    for column in columns:
        counts = pc.count_substring(column, "\n")
        if pc.max(counts).as_py():
            values = int_numpy(counts)
            extra = values if extra is None else extra + values
    return extra


def _drop_blank_rows(columns: dict[str, pa.Array], lines: np.ndarray) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Blank lines (every field empty) are skipped; they still count as lines."""
    blank: pa.Array | None = None
    for column in columns.values():
        empty = pc.equal(column, EMPTY_STRING)
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return columns, lines
    assert blank is not None
    keep = pc.invert(blank)
    kept = {name: column.filter(keep) for name, column in columns.items()}
    return kept, lines[bool_numpy(keep)]


def _ragged_row_error(source: Source, names: list[str], row: Any) -> EvidenceError:
    message = f"expected {len(names)} fields like the header, found {row.actual_columns}"
    line = _find_ragged_line(source, len(names))
    if line is None:
        return EvidenceError(f"{message}: {show_value(row.text)}")
    return EvidenceError(message, line=line)


def _find_ragged_line(source: Source, expected: int) -> int | None:
    """Error path only: re-read the CSV with the csv module to find the record's line."""
    try:
        with source.stream() as stream:
            text = io.TextIOWrapper(
                io.BufferedReader(stream),
                encoding="utf-8",
                errors="replace",
                newline="",
            )
            reader = csv.reader(text)
            next(reader, None)
            previous = reader.line_num
            for record in reader:
                start = previous + 1
                previous = reader.line_num
                if record and len(record) != expected:
                    return start
    except (csv.Error, EvidenceError, OSError, *CORRUPT_ARCHIVE_ERRORS):
        return None
    return None


def _read_parquet(kind: str, source: Source, partial_path: str) -> _TableBuilder:
    try:
        # Buffered column reads: without them pyarrow loads whole column chunks at once.
        parquet_file = pq.ParquetFile(source.path, buffer_size=64 * 1024, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise EvidenceError(f"not a readable Parquet file: {_arrow_message(exc)}") from None
    try:
        return _read_parquet_file(kind, source, parquet_file, partial_path)
    finally:
        parquet_file.close()


def _read_parquet_file(kind: str, source: Source, parquet_file: pq.ParquetFile, partial_path: str) -> _TableBuilder:
    schema = parquet_file.schema_arrow
    metadata = parquet_file.metadata
    names = list(schema.names)
    if not names:
        raise EvidenceError("the Parquet file has no columns")
    _check_column_names(kind, names, line=None)
    for schema_field in schema:
        if not _supported_parquet_type(schema_field.type):
            raise EvidenceError(
                f"unsupported column type {schema_field.type}: use numbers or strings",
                column=schema_field.name,
            )
    declared = 0
    for index in range(metadata.num_row_groups):
        group_bytes = metadata.row_group(index).total_byte_size
        declared += group_bytes
        if group_bytes > MAX_PARQUET_ROW_GROUP_BYTES:
            raise EvidenceError(
                f"row group {index} is {human_bytes(group_bytes)} uncompressed: "
                f"write smaller row groups (e.g. row_group_size=100_000)"
            )
    if declared > source.limit:
        raise EvidenceError(
            f"the Parquet file declares {human_bytes(declared)} uncompressed, "
            f"over the limit of {human_bytes(source.limit)}"
        )
    builder = _TableBuilder(kind, names, partial_path, position="row")
    next_row = 1
    total_bytes = 0
    try:
        batch_rows = max(1024, min(PARQUET_BATCH_ROWS, PARQUET_BATCH_CELLS // len(names)))
        batches = parquet_file.iter_batches(batch_size=batch_rows, use_threads=False)
        for batch in batches:
            total_bytes += batch.nbytes
            if total_bytes > source.limit:
                raise EvidenceError(f"the content exceeds {human_bytes(source.limit)} uncompressed")
            columns = {name: batch.column(i) for i, name in enumerate(names)}
            rows = np.arange(next_row, next_row + batch.num_rows, dtype=np.int64)
            next_row += batch.num_rows
            if batch.num_rows:
                builder.add(columns, rows)
    except pa.ArrowException as exc:
        builder.abort()
        raise EvidenceError(f"not a readable Parquet file: {_arrow_message(exc)}") from None
    except BaseException:
        builder.abort()
        raise
    return builder


def _supported_parquet_type(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return _supported_parquet_type(data_type.value_type)
    return (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_boolean(data_type)
        or pa.types.is_decimal(data_type)
        or pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_temporal(data_type)
        or pa.types.is_null(data_type)
    )


@dataclass
class _ColumnState:
    name: str
    strict: tuple[bool, tuple[float, ...] | None, float | None] | None
    type: str | None = None  # numeric | categorical
    nulls: int = 0
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    counts: dict[str, int] = field(default_factory=dict)
    distinct_overflow: bool = False

    def add_numeric(self, values: np.ndarray, missing: np.ndarray) -> None:
        present = values[~missing] if missing.any() else values
        self.nulls += int(missing.sum())
        n = int(present.size)
        if not n:
            return
        with np.errstate(over="ignore", invalid="ignore"):  # huge finite values: see profile()
            batch_mean = float(present.mean())
            batch_m2 = float(((present - batch_mean) ** 2).sum())
        total = self.count + n
        delta = batch_mean - self.mean
        # Chan et al.: combine running mean/M2 with the batch's.
        self.mean += delta * n / total
        self.m2 += batch_m2 + delta * delta * self.count * n / total
        self.count = total
        self.minimum = min(self.minimum, float(present.min()))
        self.maximum = max(self.maximum, float(present.max()))

    def add_categorical(self, values: pa.Array) -> None:
        self.nulls += values.null_count
        self.count += len(values) - values.null_count
        if self.distinct_overflow:
            values = values.filter(pc.is_in(values, value_set=string_array(self.counts)))
        if not len(values):
            return
        counted = pc.value_counts(values)
        for value, count in zip(
            counted.field("values").to_pylist(),
            counted.field("counts").to_pylist(),
            strict=True,
        ):
            if value is None:
                continue
            if value in self.counts:
                self.counts[value] += count
            elif len(self.counts) < DISTINCT_CAP:
                self.counts[value] = count
            else:
                self.distinct_overflow = True

    def profile(self) -> dict[str, Any]:
        if self.type == "numeric":
            has = self.count > 0
            return {
                "type": "numeric",
                "count": self.count,
                "nulls": self.nulls,
                "min": self.minimum if has else None,
                "max": self.maximum if has else None,
                # Values near the float limit (a latency of 1e308) overflow the mean or the
                # spread: stored as unknown (null), never as Infinity (not valid in jsonb).
                "mean": _json_safe(self.mean) if has else None,
                "std": _json_safe(math.sqrt(self.m2 / self.count)) if has else None,
            }
        top = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]
        return {
            "type": "categorical",
            "count": self.count,
            "nulls": self.nulls,
            "distinct": f"{DISTINCT_CAP}+" if self.distinct_overflow else len(self.counts),
            # Exact while distinct is under the cap; counts of the kept values otherwise.
            "top_values": [{"value": value, "count": count} for value, count in top],
        }


class _TableBuilder:
    """Validates, profiles and writes batches of a table; one instance per file."""

    def __init__(self, kind: str, names: list[str], path: str, *, position: str) -> None:
        self.kind = kind
        self.names = names
        self.path = path
        self.position = position  # "line" (CSV) or "row" (Parquet)
        strict = _STRICT_COLUMNS.get(kind, {})
        self.states = {name: _ColumnState(name, strict.get(name)) for name in names}
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.pending_bytes = 0
        # predictions: classification iff every y_true is 0 or 1; then scores in [0, 1].
        self.all_binary = True
        self.positives = 0
        self.first_score_out_of_range: tuple[int, str, float] | None = None

    def _error(self, message: str, position: int | None, column: str | None) -> EvidenceError:
        if self.position == "line":
            return EvidenceError(message, line=position, column=column)
        return EvidenceError(message, row=position, column=column)

    def add(self, columns: dict[str, pa.Array], positions: np.ndarray) -> None:
        problems: list[tuple[int, str, str]] = []  # (index, column, message)
        arrays: list[pa.Array] = []
        numeric: dict[str, np.ndarray] = {}
        for name in self.names:
            state = self.states[name]
            raw = columns[name]
            if state.type is None:
                state.type = infer_type(raw, strict=state.strict is not None)
            if state.type == "numeric":
                try:
                    values = to_float(raw, booleans=self._boolean_column(name))
                except Unparsable as bad:
                    hint = ""
                    if state.strict is None and self.rows:
                        hint = " (earlier rows of this column were numeric)"
                    shown = show_value(_raw_value(raw, bad.index))
                    problems.append((bad.index, name, f"{shown} is not a number{hint}"))
                    continue
                missing = np.isnan(values)
                infinite = np.isinf(values)
                if infinite.any():
                    index = int(np.argmax(infinite))
                    shown = show_value(_raw_value(raw, index))
                    problems.append((index, name, f"{shown} is not a finite number"))
                if state.strict is not None:
                    self._check_strict(name, state, raw, values, missing, problems)
                numeric[name] = values
                state.add_numeric(values, missing | infinite)
                arrays.append(float_arrow(values))
            else:
                strings = to_strings(raw)
                state.add_categorical(strings)
                arrays.append(strings)
        if problems:
            index, column, message = min(problems, key=lambda item: item[0])
            raise self._error(message, int(positions[index]), column)
        if self.kind == "predictions":
            self._track_task(numeric, columns, positions)
        self.rows += len(positions)
        if self.schema is None:
            self.schema = pa.schema(
                [
                    pa.field(
                        name,
                        pa.float64() if self.states[name].type == "numeric" else pa.string(),
                    )
                    for name in self.names
                ]
            )
        self.pending.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.pending_rows += len(positions)
        self.pending_bytes += self.pending[-1].nbytes
        if self.pending_rows >= ROW_GROUP_ROWS or self.pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _boolean_column(self, name: str) -> bool:
        strict = self.states[name].strict
        return name == "y_true" or (strict is not None and strict[1] == (0.0, 1.0))

    def _check_strict(
        self,
        name: str,
        state: _ColumnState,
        raw: pa.Array,
        values: np.ndarray,
        missing: np.ndarray,
        problems: list[tuple[int, str, str]],
    ) -> None:
        assert state.strict is not None
        _, allowed, minimum = state.strict
        if missing.any():
            index = int(np.argmax(missing))
            value = _raw_value(raw, index)
            if value is None or (isinstance(value, str) and not value.strip()):
                message = "the value is empty: every row needs a number"
            else:
                message = f"{show_value(value)} is a missing value: every row needs a number"
            problems.append((index, name, message))
            return
        if allowed is not None:
            bad = ~np.isin(values, allowed)
            if bad.any():
                index = int(np.argmax(bad))
                shown = show_value(_raw_value(raw, index))
                problems.append((index, name, f"{shown} must be 0 or 1"))
        if minimum is not None:
            below = values < minimum
            if below.any():
                index = int(np.argmax(below))
                shown = show_value(_raw_value(raw, index))
                problems.append((index, name, f"{shown} is negative: must be >= {minimum:g}"))

    def _track_task(
        self,
        numeric: dict[str, np.ndarray],
        raw: dict[str, pa.Array],
        positions: np.ndarray,
    ) -> None:
        y_true = numeric["y_true"]
        if self.all_binary:
            binary = (y_true == 0) | (y_true == 1)
            if binary.all():
                self.positives += int((y_true == 1).sum())
            else:
                self.all_binary = False
        if self.all_binary and self.first_score_out_of_range is None:
            for column in ("y_score", "baseline_score"):
                if column not in numeric:
                    continue
                scores = numeric[column]
                outside = (scores < 0) | (scores > 1)
                if outside.any():
                    index = int(np.argmax(outside))
                    found = (int(positions[index]), column, float(scores[index]))
                    if self.first_score_out_of_range is None or found < self.first_score_out_of_range:
                        self.first_score_out_of_range = found

    def _flush(self) -> None:
        if not self.pending:
            return
        assert self.schema is not None
        if self.writer is None:
            # Dictionary pages only help (and only cost memory) for string columns.
            strings = [field.name for field in self.schema if pa.types.is_string(field.type)]
            self.writer = pq.ParquetWriter(
                self.path, self.schema, compression="snappy", use_dictionary=strings or False
            )
        self.writer.write_table(pa.Table.from_batches(self.pending, schema=self.schema))
        self.pending = []
        self.pending_rows = 0
        self.pending_bytes = 0

    def finish(self) -> dict[str, Any]:
        if self.rows == 0:
            raise EvidenceError("no data rows: the file has a header only")
        profile: dict[str, Any] = {"rows": self.rows}
        if self.kind == "predictions":
            profile["task"] = "classification" if self.all_binary else "regression"
            if self.all_binary:
                if self.first_score_out_of_range is not None:
                    position, column, value = self.first_score_out_of_range
                    raise self._error(
                        f"{value:g} is outside [0, 1]: y_true is 0/1 (classification), so scores must be probabilities",
                        position,
                        column,
                    )
                profile["positives"] = self.positives
                profile["positive_rate"] = self.positives / self.rows
        self._flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        profile["columns"] = {name: self.states[name].profile() for name in self.names}
        return profile

    def abort(self) -> None:
        self.pending = []
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None


def _raw_value(raw: pa.Array, index: int) -> Any:
    return raw[index].as_py()


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

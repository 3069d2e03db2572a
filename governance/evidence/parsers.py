"""Parse and validate uploaded evidence files, without Django.

`parse_evidence` reads a file the upload handler has already streamed to disk, checks it
against the rules of its evidence kind (DESIGN.md: predictions, latency and feature tables;
metrics, cost, sbom, licenses, robustness, training_config documents; attachments) and
returns a `ParsedEvidence`. Tables are streamed: CSV (plain, gzip or a zip with one member)
through pyarrow's incremental reader, Parquet by batches; each batch is validated, profiled
and appended to a normalised Parquet copy in `columnar_dir`, which the gates read back with
`load_columns`. Memory stays bounded by the batch size, not the file size.

Every problem is an `EvidenceError` whose text names the line (CSV lines are 1-based file
lines, the header is line 1) or row (Parquet, 1-based data rows), the column and the value.
On any error nothing is left in `columnar_dir`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import math
import os
import re
import threading
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import yaml

from governance.core.errors import DomainError

KINDS = (
    "predictions",
    "metrics",
    "latency",
    "cost",
    "sbom",
    "licenses",
    "training_config",
    "feature_reference",
    "feature_current",
    "robustness",
    "attachment",
)
TABLE_KINDS = frozenset({"predictions", "latency", "feature_reference", "feature_current"})
JSON_KINDS = frozenset({"metrics", "cost", "sbom", "licenses", "training_config", "robustness"})

MAX_COLUMNS = 2_000
MAX_HEADER_BYTES = 1024 * 1024
JSON_MAX_BYTES = 50 * 1024 * 1024
YAML_MAX_BYTES = 5 * 1024 * 1024  # PyYAML is pure Python here: keep it quick
JSON_MAX_DEPTH = 64
DISTINCT_CAP = 1_000
TOP_VALUES = 10
# A file that inflates to less than this is never called a bomb, whatever its ratio: tiny
# but very repetitive CSVs legitimately compress beyond 200:1.
RATIO_GRACE_BYTES = 1024 * 1024
# CSV blocks: big enough for ~2,048 rows per batch (per-batch cost is per column), at least
# 512 KiB, at most 8 MiB. pyarrow's streaming reader would read up to 32 blocks ahead;
# the stream lets it run only CSV_BLOCKS_AHEAD blocks ahead of the batches consumed.
# Row groups are flushed at 64k rows or 16 MiB. All measured with
# bench/bench_evidence_parse.py: bigger values cost RSS, not speed.
CSV_BLOCK_BYTES = 512 * 1024
MAX_CSV_BLOCK_BYTES = 8 * 1024 * 1024
CSV_BATCH_ROWS = 2_048
CSV_BLOCKS_AHEAD = 4
THROTTLE_MAX_WAIT_SECONDS = 5.0  # a safety net only: the consumer normally frees it
ROW_GROUP_ROWS = 64 * 1024
ROW_GROUP_BYTES = 16 * 1024 * 1024
PARQUET_BATCH_ROWS = 64 * 1024
PARQUET_BATCH_CELLS = 2_000_000  # fewer rows per batch for wide tables
MAX_PARQUET_ROW_GROUP_BYTES = 512 * 1024 * 1024
VALUE_SHOWN_CHARS = 40

# What a human or pandas writes for "no value" (pandas' default na_values).
NULL_TOKENS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_PARQUET_MAGIC = b"PAR1"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_BZIP2_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")
_OTHER_ARCHIVES = {
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!\x1a\x07": "rar",
}


# pyarrow imports pandas (~50 MB) the first time pa.array(), pa.scalar() or to_numpy() is
# called; these few conversions go through raw buffers instead so a parsing worker stays
# small.
def _string_array(values: Any) -> pa.Array:
    encoded = [str(value).encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def _validity(array: pa.Array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].astype(bool)


def _float_numpy(array: pa.Array) -> np.ndarray:
    """float64 Arrow array -> numpy float64, nulls as NaN."""
    if len(array) == 0:
        return np.empty(0, dtype=np.float64)
    values = np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array), offset=array.offset * 8)
    valid = _validity(array)
    if valid is not None:
        values = values.copy()
        values[~valid] = np.nan
    return values


def _int_numpy(array: pa.Array) -> np.ndarray:
    """int32/int64 Arrow array without nulls -> numpy int64."""
    dtype = np.int32 if array.type == pa.int32() else np.int64
    width = np.dtype(dtype).itemsize
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width)
    return values.astype(np.int64)


def _bool_numpy(array: pa.Array) -> np.ndarray:
    """Boolean Arrow array -> numpy bool (nulls as False)."""
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    values = np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].astype(bool)
    valid = _validity(array)
    return values if valid is None else values & valid


def _float_arrow(values: np.ndarray) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])


_NULL_TOKEN_SET = _string_array(NULL_TOKENS)
_TRUE_TOKENS = _string_array(["True", "true", "TRUE"])
_FALSE_TOKENS = _string_array(["False", "false", "FALSE"])
_ONE = _string_array(["1"])[0]
_ZERO = _string_array(["0"])[0]
_EMPTY_STRING = _string_array([""])[0]


class EvidenceError(DomainError):
    """The file is not acceptable evidence. The message is a sentence for the uploader.

    `line` is a 1-based CSV file line (header = line 1), `row` a 1-based Parquet data row,
    `column` the offending column, `field` the upload form field the error belongs to;
    the message starts with where the problem is ("line 3, column 'y_true': ...").
    """

    default_code = "invalid_evidence"

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        field: str = "file",
        row: int | None = None,
    ) -> None:
        self.line = line
        self.row = row
        self.column = column
        where = [f"line {line}"] if line is not None else []
        where += [f"row {row}"] if row is not None else []
        where += [f"column {column!r}"] if column is not None else []
        super().__init__(f"{', '.join(where)}: {message}" if where else message, field=field or "file")


@dataclass(frozen=True)
class ParsedEvidence:
    kind: str
    format: str  # csv | parquet | json | yaml | binary
    row_count: int | None
    columns: list[str]
    profile: dict
    data: dict | list | None
    columnar_path: str | None


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
    if kind not in KINDS:
        raise EvidenceError(f"unknown evidence kind {kind!r}", field="kind")
    size = os.path.getsize(path)
    if size == 0:
        raise EvidenceError("the file is empty")
    if kind == "attachment":
        return _parse_attachment(path, original_name, size)

    source = _Source.open(
        path,
        original_name=original_name,
        size=size,
        max_uncompressed_bytes=max_uncompressed_bytes,
        max_ratio=max_ratio,
    )
    try:
        if kind in TABLE_KINDS:
            return _parse_table(kind, source, columnar_dir)
        return _parse_document_kind(kind, source)
    except (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise EvidenceError(f"the {source.container} archive is corrupt: {exc}") from None


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
            parts = [_float_numpy(chunk) for chunk in chunked.chunks]
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


# --------------------------------------------------------------------------------------
# Containers: plain file, gzip, zip with one member, Parquet. Decompression is streamed
# with a running total; declared sizes are only ever used to refuse early.
# --------------------------------------------------------------------------------------


class _Source:
    def __init__(self, path: str, container: str, size: int, limit: int, max_ratio: int):
        self.path = path
        self.container = container  # plain | gzip | zip | parquet
        self.size = size
        self.limit = limit
        self.max_ratio = max_ratio
        self.zip_member: zipfile.ZipInfo | None = None
        self.original_name = ""

    @classmethod
    def open(
        cls,
        path: str,
        *,
        original_name: str,
        size: int,
        max_uncompressed_bytes: int,
        max_ratio: int,
    ) -> _Source:
        with open(path, "rb") as handle:
            head = handle.read(16)
        name = original_name.lower()
        if head.startswith(_PARQUET_MAGIC):
            container = "parquet"
        elif head.startswith(_GZIP_MAGIC):
            container = "gzip"
        elif head.startswith(_ZIP_MAGICS):
            container = "zip"
        else:
            container = "plain"
            if head.startswith(_OLE_MAGIC) or name.endswith((".xls", ".xlsx")):
                raise EvidenceError("this looks like an Excel workbook: export it as CSV")
            other = _other_compression(head)
            if other is not None:
                raise EvidenceError(f"{other} compression is not supported: use gzip (.csv.gz) or zip")
            if name.endswith(".parquet"):
                raise EvidenceError("the file is named .parquet but is not a Parquet file")
        source = cls(path, container, size, max_uncompressed_bytes, max_ratio)
        source.original_name = original_name
        if container == "zip":
            source.zip_member = source._check_zip()
        return source

    def _ratio_limit(self) -> int:
        return max(self.max_ratio * self.size, RATIO_GRACE_BYTES)

    def _check_zip(self) -> zipfile.ZipInfo:
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise EvidenceError(f"not a valid zip archive: {exc}") from None
        for info in infos:
            _check_member_name(info.filename)
        if any(info.filename == "[Content_Types].xml" for info in infos):
            raise EvidenceError("this looks like an Excel/Office document: export it as CSV")
        members = [info for info in infos if not info.is_dir()]
        if not members:
            raise EvidenceError("the zip archive contains no file")
        if len(members) > 1:
            names = ", ".join(repr(m.filename) for m in members[:5])
            more = ", ..." if len(members) > 5 else ""
            raise EvidenceError(
                f"the zip archive must contain exactly one CSV file, found {len(members)}: {names}{more}"
            )
        member = members[0]
        if member.flag_bits & 0x1:
            raise EvidenceError("encrypted zip archives are not supported")
        if member.filename.lower().endswith((".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".zst")):
            raise EvidenceError(f"nested archives are not supported (the zip contains {member.filename!r})")
        if member.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
            zipfile.ZIP_BZIP2,
            zipfile.ZIP_LZMA,
        ):
            raise EvidenceError(f"unsupported zip compression method {member.compress_type}")
        # Refuse early on what the archive claims; the streamed total below is what counts.
        if member.file_size > self.limit:
            raise EvidenceError(
                f"the zip member declares {_human_bytes(member.file_size)} uncompressed, "
                f"over the limit of {_human_bytes(self.limit)} (possible zip bomb)"
            )
        if member.file_size > self._ratio_limit():
            raise EvidenceError(
                f"the zip member declares a compression ratio over {self.max_ratio}:1 (possible zip bomb)"
            )
        return member

    @contextlib.contextmanager
    def stream(self, *, check_utf8: bool = True) -> Iterator[_GuardedStream]:
        """A fresh, bounded, decompressed byte stream of the content (BOM removed)."""
        with contextlib.ExitStack() as stack:
            inner: BinaryIO = stack.enter_context(open(self.path, "rb"))
            if self.container == "gzip":
                inner = stack.enter_context(gzip.GzipFile(fileobj=inner, mode="rb"))
            elif self.container == "zip":
                assert self.zip_member is not None
                archive = stack.enter_context(zipfile.ZipFile(inner))
                inner = stack.enter_context(archive.open(self.zip_member))
            compressed = self.container in ("gzip", "zip")
            yield _GuardedStream(
                inner,
                limit=self.limit,
                ratio_limit=self._ratio_limit() if compressed else None,
                max_ratio=self.max_ratio,
                check_utf8=check_utf8,
                nested_check=compressed,
            )


def _other_compression(head: bytes) -> str | None:
    if _BZIP2_MAGIC.match(head):
        return "bzip2"
    for magic, label in _OTHER_ARCHIVES.items():
        if head.startswith(magic):
            return label
    return None


def _check_member_name(name: str) -> None:
    normalised = name.replace("\\", "/")
    parts = normalised.split("/")
    if (
        normalised.startswith("/")
        or ".." in parts
        or "\x00" in name
        or (len(normalised) > 1 and normalised[1] == ":")
        or "\\" in name
    ):
        raise EvidenceError(f"unsafe path in zip archive: {_show(name)}")


class _GuardedStream(io.RawIOBase):
    """Counts what it hands out, enforces the size/ratio limits, strips a UTF-8 BOM and
    (optionally) validates UTF-8 while counting lines, so an invalid byte can be reported
    with its line."""

    def __init__(
        self,
        inner: BinaryIO,
        *,
        limit: int,
        ratio_limit: int | None,
        max_ratio: int,
        check_utf8: bool,
        nested_check: bool,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._ratio_limit = ratio_limit
        self._max_ratio = max_ratio
        self._check_utf8 = check_utf8
        self._nested_check = nested_check
        self._first = True
        self._pending = b""
        self.total = 0
        self.newlines = 0
        self._throttle: threading.Condition | None = None
        self._blocks_ahead = 0
        self._reads = 0
        self._consumed = 0
        self._released = False

    def throttle(self, blocks_ahead: int) -> None:
        """Let reads run at most `blocks_ahead` reads ahead of `batch_consumed()` calls.

        pyarrow reads on its own IO thread and queues up to 32 blocks; this bounds that
        queue. The consumer is never starved: a batch needs at most two blocks.
        """
        self._throttle = threading.Condition()
        self._blocks_ahead = blocks_ahead

    def batch_consumed(self) -> None:
        if self._throttle is not None:
            with self._throttle:
                self._consumed += 1
                self._throttle.notify_all()

    def release(self) -> None:
        """Stop throttling and make further reads return EOF (the consumer is gone)."""
        if self._throttle is not None:
            with self._throttle:
                self._released = True
                self._throttle.notify_all()

    def _wait_for_consumer(self) -> None:
        assert self._throttle is not None
        with self._throttle:
            deadline = time.monotonic() + THROTTLE_MAX_WAIT_SECONDS
            while self._reads - self._consumed >= self._blocks_ahead and not self._released:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._throttle.wait(remaining)
            self._reads += 1

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        # Overridden (not just readinto) so pyarrow's reads cost no extra copies.
        if size is None or size < 0:
            parts = []
            while part := self._take(CSV_BLOCK_BYTES):
                parts.append(part)
            return b"".join(parts)
        return self._take(size)

    def readinto(self, buffer: Any) -> int:
        data = self._take(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _take(self, size: int) -> bytes:
        if self._throttle is not None:
            self._wait_for_consumer()
            if self._released:
                return b""
        data = self._inner.read(size)
        if self._first and data:
            self._first = False
            self._check_start(data)
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
                self.total += len(_BOM)
        self.total += len(data)
        if self.total > self._limit:
            raise EvidenceError(
                f"the content exceeds {_human_bytes(self._limit)} uncompressed: "
                f"refusing to read further (possible zip bomb)"
            )
        if self._ratio_limit is not None and self.total > self._ratio_limit:
            raise EvidenceError(
                f"the compression ratio exceeds {self._max_ratio}:1: refusing to decompress further (possible zip bomb)"
            )
        if self._check_utf8:
            self._validate(data, final=not data)
        return data

    def _check_start(self, data: bytes) -> None:
        if self._nested_check and data.startswith((_GZIP_MAGIC, *_ZIP_MAGICS)):
            raise EvidenceError("nested archives are not supported")
        if self._nested_check and data.startswith(_PARQUET_MAGIC):
            raise EvidenceError("upload Parquet files uncompressed, not inside an archive")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise EvidenceError("the file is UTF-16 encoded: save it as UTF-8")

    def _validate(self, data: bytes, *, final: bool) -> None:
        if not self._pending and data.isascii():  # the common case: no decoding
            self.newlines += data.count(b"\n")
            return
        chunk = self._pending + data
        try:
            _, consumed = codecs.utf_8_decode(chunk, "strict", final)
        except UnicodeDecodeError as exc:
            line = self.newlines + chunk.count(b"\n", 0, exc.start) + 1
            offset = self.total - len(data) - len(self._pending) + exc.start
            bad = chunk[exc.start]
            raise EvidenceError(
                f"invalid UTF-8 (byte 0x{bad:02x} at byte offset {offset}): save the file as UTF-8",
                line=line,
            ) from None
        self._pending = chunk[consumed:]
        self.newlines += data.count(b"\n")

    def read_prefix(self, limit: int, *, stop: bytes | None = None) -> bytes:
        """Read up to `limit` bytes, stopping early once `stop` has been seen."""
        parts: list[bytes] = []
        got = 0
        while got < limit:
            part = self.read(min(256 * 1024, limit - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
            if stop is not None and stop in part:
                break
        return b"".join(parts)


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------

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


def _parse_table(kind: str, source: _Source, columnar_dir: str) -> ParsedEvidence:
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


def _read_header(source: _Source) -> tuple[list[str], int]:
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


def _read_csv(kind: str, source: _Source, partial_path: str) -> _TableBuilder:
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
            values = _int_numpy(counts)
            extra = values if extra is None else extra + values
    return extra


def _drop_blank_rows(columns: dict[str, pa.Array], lines: np.ndarray) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Blank lines (every field empty) are skipped; they still count as lines."""
    blank: pa.Array | None = None
    for column in columns.values():
        empty = pc.equal(column, _EMPTY_STRING)
        blank = empty if blank is None else pc.and_(blank, empty)
        if not pc.any(blank).as_py():
            return columns, lines
    assert blank is not None
    keep = pc.invert(blank)
    kept = {name: column.filter(keep) for name, column in columns.items()}
    return kept, lines[_bool_numpy(keep)]


def _ragged_row_error(source: _Source, names: list[str], row: Any) -> EvidenceError:
    message = f"expected {len(names)} fields like the header, found {row.actual_columns}"
    line = _find_ragged_line(source, len(names))
    if line is None:
        return EvidenceError(f"{message}: {_show(row.text)}")
    return EvidenceError(message, line=line)


def _find_ragged_line(source: _Source, expected: int) -> int | None:
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
    except (
        csv.Error,
        EvidenceError,
        OSError,
        EOFError,
        zlib.error,
        zipfile.BadZipFile,
    ):
        return None
    return None


def _read_parquet(kind: str, source: _Source, partial_path: str) -> _TableBuilder:
    try:
        # Buffered column reads: without them pyarrow loads whole column chunks at once.
        parquet_file = pq.ParquetFile(source.path, buffer_size=64 * 1024, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise EvidenceError(f"not a readable Parquet file: {_arrow_message(exc)}") from None
    try:
        return _read_parquet_file(kind, source, parquet_file, partial_path)
    finally:
        parquet_file.close()


def _read_parquet_file(kind: str, source: _Source, parquet_file: pq.ParquetFile, partial_path: str) -> _TableBuilder:
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
                f"row group {index} is {_human_bytes(group_bytes)} uncompressed: "
                f"write smaller row groups (e.g. row_group_size=100_000)"
            )
    if declared > source.limit:
        raise EvidenceError(
            f"the Parquet file declares {_human_bytes(declared)} uncompressed, "
            f"over the limit of {_human_bytes(source.limit)}"
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
                raise EvidenceError(f"the content exceeds {_human_bytes(source.limit)} uncompressed")
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


class _Unparsable(Exception):
    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


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
            values = values.filter(pc.is_in(values, value_set=_string_array(self.counts)))
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
                "mean": self.mean if has else None,
                "std": math.sqrt(self.m2 / self.count) if has else None,
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
                state.type = _infer_type(raw, strict=state.strict is not None)
            if state.type == "numeric":
                try:
                    values = _to_float(raw, booleans=self._boolean_column(name))
                except _Unparsable as bad:
                    hint = ""
                    if state.strict is None and self.rows:
                        hint = " (earlier rows of this column were numeric)"
                    shown = _show(_raw_value(raw, bad.index))
                    problems.append((bad.index, name, f"{shown} is not a number{hint}"))
                    continue
                missing = np.isnan(values)
                infinite = np.isinf(values)
                if infinite.any():
                    index = int(np.argmax(infinite))
                    shown = _show(_raw_value(raw, index))
                    problems.append((index, name, f"{shown} is not a finite number"))
                if state.strict is not None:
                    self._check_strict(name, state, raw, values, missing, problems)
                numeric[name] = values
                state.add_numeric(values, missing | infinite)
                arrays.append(_float_arrow(values))
            else:
                strings = _to_strings(raw)
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
                message = f"{_show(value)} is a missing value: every row needs a number"
            problems.append((index, name, message))
            return
        if allowed is not None:
            bad = ~np.isin(values, allowed)
            if bad.any():
                index = int(np.argmax(bad))
                shown = _show(_raw_value(raw, index))
                problems.append((index, name, f"{shown} must be 0 or 1"))
        if minimum is not None:
            below = values < minimum
            if below.any():
                index = int(np.argmax(below))
                shown = _show(_raw_value(raw, index))
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


def _infer_type(raw: pa.Array, *, strict: bool) -> str:
    if strict:
        return "numeric"
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        return "numeric"
    if pa.types.is_boolean(raw.type) or pa.types.is_decimal(raw.type):
        return "numeric"
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        return "categorical"  # dictionary, dates, timestamps...: shown as strings
    cleaned = _clean_strings(raw)
    if cleaned.null_count == len(cleaned):
        return "categorical"
    try:
        pc.cast(cleaned, pa.float64())
    except pa.ArrowInvalid:
        return "categorical"
    return "numeric"


def _clean_strings(raw: pa.Array) -> pa.Array:
    """Trimmed strings with the usual "no value" spellings turned into nulls."""
    if pa.types.is_large_string(raw.type):
        raw = raw.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(raw)
    missing = pc.or_kleene(pc.is_null(trimmed), pc.is_in(trimmed, value_set=_NULL_TOKEN_SET))
    if not pc.any(missing).as_py():
        return trimmed
    return pc.if_else(missing, pa.nulls(len(trimmed), pa.string()), trimmed)


def _to_float(raw: pa.Array, *, booleans: bool = False) -> np.ndarray:
    """Numbers as float64 (NaN for missing); `booleans` also reads true/false as 1/0."""
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        try:  # fast path: clean numbers, no blanks or "NA" spellings
            return _float_numpy(pc.cast(raw, pa.float64()))
        except pa.ArrowInvalid:
            pass
        cleaned = _clean_strings(raw)
        if booleans:  # pandas writes bool columns as True/False
            cleaned = pc.if_else(pc.is_in(cleaned, value_set=_TRUE_TOKENS), _ONE, cleaned)
            cleaned = pc.if_else(pc.is_in(cleaned, value_set=_FALSE_TOKENS), _ZERO, cleaned)
        try:
            as_float = pc.cast(cleaned, pa.float64())
        except pa.ArrowInvalid:
            raise _Unparsable(_first_unparsable(cleaned)) from None
    elif pa.types.is_dictionary(raw.type):
        return _to_float(raw.dictionary_decode(), booleans=booleans)
    else:
        try:
            as_float = pc.cast(raw, pa.float64(), safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _Unparsable(0) from None
    return _float_numpy(as_float)


def _first_unparsable(cleaned: pa.Array) -> int:
    """Index of the first value Arrow cannot cast to float (bisection, linear work)."""
    low, high = (
        0,
        len(cleaned),
    )  # cleaned[:low] casts; cleaned[low:high] holds a failure
    while high - low > 1:
        middle = (low + high) // 2
        try:
            pc.cast(cleaned.slice(low, middle - low), pa.float64())
            low = middle
        except pa.ArrowInvalid:
            high = middle
    return low


def _to_strings(raw: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(raw.type):
        raw = raw.dictionary_decode()
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        raw = pc.cast(raw, pa.string())
    return _clean_strings(raw)


def _raw_value(raw: pa.Array, index: int) -> Any:
    return raw[index].as_py()


# --------------------------------------------------------------------------------------
# JSON / YAML kinds
# --------------------------------------------------------------------------------------


def _parse_document_kind(kind: str, source: _Source) -> ParsedEvidence:
    if source.container == "parquet":
        raise EvidenceError(f"{kind} evidence must be JSON, not Parquet")
    raw = _read_bounded(source, JSON_MAX_BYTES)
    text = raw.decode("utf-8")
    if not text.strip():
        raise EvidenceError("the file is empty")
    first = text.lstrip()[:1]
    if kind == "licenses" and first not in ("[", "{"):
        return _licenses_from_csv(text)
    yaml_named = source.original_name.lower().endswith((".yaml", ".yml"))
    if kind == "training_config" and (yaml_named or first not in ("[", "{")):
        return _training_config_from_yaml(raw, text)
    if kind == "sbom" and first == "<":
        raise EvidenceError("CycloneDX XML is not supported: upload the JSON SBOM")
    data = _load_json(text)
    if kind == "licenses":
        packages = _normalise_licenses_json(data)
        return ParsedEvidence(
            kind,
            "json",
            len(packages),
            ["name", "version", "license"],
            _licenses_profile(packages),
            packages,
            None,
        )
    profile = _JSON_VALIDATORS[kind](data)
    return ParsedEvidence(kind, "json", None, [], profile, data, None)


def _read_bounded(source: _Source, limit: int) -> bytes:
    with source.stream() as stream:
        raw = stream.read_prefix(limit + 1)
    if len(raw) > limit:
        raise EvidenceError(f"the file is larger than {_human_bytes(limit)}")
    return raw


def _load_json(text: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _JsonProblem(f"duplicate key {_show(key)}")
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise _JsonProblem(f"{name} is not a valid JSON number")

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except _JsonProblem as exc:
        raise EvidenceError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise EvidenceError(f"the JSON is nested too deeply (limit {JSON_MAX_DEPTH})") from None
    _check_tree(data)
    return data


class _JsonProblem(ValueError):
    pass


def _check_tree(data: Any) -> None:
    """Depth limit and finite numbers, without recursion."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise EvidenceError(f"the document is nested too deeply (limit {JSON_MAX_DEPTH})")
        if isinstance(node, dict):
            for key, value in node.items():
                stack.append((value, depth + 1, _join(path, key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                stack.append((value, depth + 1, f"{path}[{index}]"))
        elif isinstance(node, float) and not math.isfinite(node):
            raise EvidenceError(f"at {path or 'top level'!r}: numbers must be finite")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require_object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EvidenceError(f"{what} must be a JSON object, found {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return f"the number {value!r}"


def _validate_metrics(data: Any) -> dict[str, Any]:
    metrics = _require_object(data, "metrics")
    if not metrics:
        raise EvidenceError("metrics is an empty object: give at least one metric")
    leaves: list[str] = []
    stack: list[tuple[str, Any]] = [(str(k), v) for k, v in metrics.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            if not value:
                raise EvidenceError(f"at {path!r}: empty object")
            stack.extend((_join(path, k), v) for k, v in value.items())
        elif _is_number(value):
            leaves.append(path)
        else:
            raise EvidenceError(f"at {path!r}: expected a number (or an object of numbers), found {_json_type(value)}")
    leaves.sort()
    return {"metrics": len(leaves), "keys": leaves[:100]}


def _validate_robustness(data: Any) -> dict[str, Any]:
    document = _require_object(data, "robustness")
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests:
        raise EvidenceError('robustness needs a non-empty "tests" list')
    for index, test in enumerate(tests):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            raise EvidenceError(f"at {where!r}: expected an object, found {_json_type(test)}")
        for key in ("name", "metric"):
            value = test.get(key)
            if not isinstance(value, str) or not value.strip():
                raise EvidenceError(f"at {where + '.' + key!r}: a non-empty string is required")
        for key in ("baseline", "perturbed"):
            value = test.get(key)
            if not _is_number(value):
                raise EvidenceError(f"at {where + '.' + key!r}: expected a number, found {_json_type(value)}")
    return {"tests": len(tests), "metrics": sorted({test["metric"] for test in tests})}


def _validate_cost(data: Any) -> dict[str, Any]:
    document = _require_object(data, "cost")

    def number(key: str) -> float:
        value = document[key]
        if not _is_number(value):
            raise EvidenceError(f"at {key!r}: expected a number, found {_json_type(value)}")
        if value < 0:
            raise EvidenceError(f"at {key!r}: must not be negative")
        return float(value)

    if "cost_per_1k" in document:
        per_1k = number("cost_per_1k")
    elif "total_cost" in document and "predictions" in document:
        total = number("total_cost")
        predictions = document["predictions"]
        if not isinstance(predictions, int) or isinstance(predictions, bool) or predictions <= 0:
            raise EvidenceError(f"at 'predictions': expected a whole number > 0, found {_json_type(predictions)}")
        per_1k = total / predictions * 1000
    else:
        raise EvidenceError('cost needs "cost_per_1k", or "total_cost" and "predictions"')
    return {"cost_per_1k": per_1k}


def _validate_sbom(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and "spdxVersion" in data:
        raise EvidenceError("this is an SPDX document: a CycloneDX JSON SBOM is required")
    document = _require_object(data, "a CycloneDX SBOM")
    if document.get("bomFormat") != "CycloneDX":
        raise EvidenceError('not a CycloneDX SBOM: "bomFormat" must be "CycloneDX"')
    spec_version = document.get("specVersion")
    if not isinstance(spec_version, str) or not spec_version:
        raise EvidenceError('not a CycloneDX SBOM: "specVersion" (a string) is missing')
    components = document.get("components")
    if not isinstance(components, list):
        raise EvidenceError('the CycloneDX SBOM has no "components" list')
    return {"spec_version": spec_version, "components": len(components)}


def _validate_training_config(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise EvidenceError(f"the training config must be a mapping, found {_json_type(data)}")
    if not data:
        raise EvidenceError("the training config is empty")
    return {"keys": sorted(str(key) for key in data)[:100]}


_JSON_VALIDATORS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "metrics": _validate_metrics,
    "robustness": _validate_robustness,
    "cost": _validate_cost,
    "sbom": _validate_sbom,
    "training_config": _validate_training_config,
}


def _normalise_licenses_json(data: Any) -> list[dict[str, str | None]]:
    if not isinstance(data, list):
        raise EvidenceError(f"licenses must be a JSON list of {{name, version, license}}, found {_json_type(data)}")
    packages = []
    for index, item in enumerate(data):
        where = f"[{index}]"
        if not isinstance(item, dict):
            raise EvidenceError(f"at {where!r}: expected an object, found {_json_type(item)}")
        lowered = {str(key).lower(): value for key, value in item.items()}  # pip-licenses: Name
        packages.append(
            _license_entry(
                lowered,
                lambda key, message, w=where: EvidenceError(f"at {w + '.' + key!r}: {message}"),
            )
        )
    return packages


def _license_entry(record: dict[str, Any], error: Callable[[str, str], EvidenceError]) -> dict[str, str | None]:
    entry: dict[str, str | None] = {}
    for key in ("name", "license"):
        value = record.get(key)
        if not isinstance(value, str) or not value.strip():
            raise error(key, "a non-empty string is required")
        entry[key] = value.strip()
    version = record.get("version")
    if version is not None and not isinstance(version, str | int | float):
        raise error("version", "expected a string")
    entry["version"] = None if version in (None, "") else str(version).strip()
    return {
        "name": entry["name"],
        "version": entry["version"],
        "license": entry["license"],
    }


def _licenses_from_csv(text: str) -> ParsedEvidence:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise EvidenceError(f"the header is not valid CSV: {exc}", line=1) from None
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        label = "';'" if ";" in header[0] else "tab"
        raise EvidenceError(f"looks like {label}-delimited: use commas", line=1)
    if len(set(header)) != len(header):
        duplicate = next(name for name in header if header.count(name) > 1)
        raise EvidenceError(f"duplicate column name {duplicate!r}", line=1)
    for required in ("name", "license"):
        if required not in header:
            raise EvidenceError(f"missing required column {required!r}", line=1)
    packages = []
    previous = reader.line_num
    try:
        for record in reader:
            line = previous + 1
            previous = reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                raise EvidenceError(
                    f"expected {len(header)} fields like the header, found {len(record)}",
                    line=line,
                )
            values = dict(zip(header, record, strict=True))
            packages.append(
                _license_entry(
                    values,
                    lambda key, message, n=line: EvidenceError(message, line=n, column=key),
                )
            )
    except csv.Error as exc:
        raise EvidenceError(f"could not parse the CSV: {exc}", line=previous + 1) from None
    if not packages:
        raise EvidenceError("no data rows: the file has a header only")
    return ParsedEvidence(
        "licenses",
        "csv",
        len(packages),
        ["name", "version", "license"],
        _licenses_profile(packages),
        packages,
        None,
    )


def _licenses_profile(packages: list[dict[str, str | None]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for package in packages:
        license_name = package["license"] or ""
        counts[license_name] = counts.get(license_name, 0) + 1
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:50]
    return {
        "packages": len(packages),
        "licenses": dict(top),
        "distinct_licenses": len(counts),
    }


class _StrictYamlLoader(yaml.SafeLoader):
    """Safe loader without aliases (no "billion laughs") and with dates kept as text."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed", event.start_mark)
        return super().compose_node(parent, index)


_StrictYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _training_config_from_yaml(raw: bytes, text: str) -> ParsedEvidence:
    if len(raw) > YAML_MAX_BYTES:
        raise EvidenceError(f"the YAML file is larger than {_human_bytes(YAML_MAX_BYTES)}")
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise EvidenceError(f"invalid YAML: {exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise EvidenceError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise EvidenceError(f"the YAML is nested too deeply (limit {JSON_MAX_DEPTH})") from None
    data = _yaml_to_json(data)
    _check_tree(data)
    profile = _validate_training_config(data)
    return ParsedEvidence("training_config", "yaml", None, [], profile, data, None)


def _yaml_to_json(data: Any, depth: int = 0) -> Any:
    """Keys as strings; only JSON types survive (the caller stores `data` as JSON)."""
    if depth > JSON_MAX_DEPTH:
        raise EvidenceError(f"the YAML is nested too deeply (limit {JSON_MAX_DEPTH})")
    if isinstance(data, dict):
        return {str(key): _yaml_to_json(value, depth + 1) for key, value in data.items()}
    if isinstance(data, list):
        return [_yaml_to_json(value, depth + 1) for value in data]
    if data is None or isinstance(data, str | int | float | bool):
        return data
    raise EvidenceError(f"unsupported YAML value of type {type(data).__name__}")


# --------------------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------------------

_ATTACHMENT_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"PAR1", "parquet"),
    (_OLE_MAGIC, "ole"),
)


def _parse_attachment(path: str, original_name: str, size: int) -> ParsedEvidence:
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


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > VALUE_SHOWN_CHARS:
        text = text[: VALUE_SHOWN_CHARS - 3] + "..."
    return repr(text)


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

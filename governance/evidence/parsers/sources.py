"""Opening an evidence file: plain, gzip, zip with one member, or Parquet.

Decompression is streamed with a running total; declared sizes are only ever used to
refuse early. `GuardedStream` enforces the size and compression-ratio limits (zip bombs),
strips a UTF-8 BOM and validates UTF-8 while counting lines.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from governance.evidence.parsers.errors import EvidenceError, human_bytes, show_value

# A file that inflates to less than this is never called a bomb, whatever its ratio: tiny
# but very repetitive CSVs legitimately compress beyond 200:1.
RATIO_GRACE_BYTES = 1024 * 1024
THROTTLE_MAX_WAIT_SECONDS = 5.0  # a safety net only: the consumer normally frees it
_READ_ALL_CHUNK_BYTES = 512 * 1024
_RATIO_CHECK_BYTES = 256 * 1024  # compressed content is inflated and ratio-checked in slices this size

_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_PARQUET_MAGIC = b"PAR1"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_BZIP2_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")
_OTHER_ARCHIVES = {
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!\x1a\x07": "rar",
}

# What a damaged gzip or zip raises while it is being read.
CORRUPT_ARCHIVE_ERRORS = (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError)


class Source:
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
    ) -> Source:
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
            if head.startswith(OLE_MAGIC) or name.endswith((".xls", ".xlsx")):
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
                f"the zip member declares {human_bytes(member.file_size)} uncompressed, "
                f"over the limit of {human_bytes(self.limit)} (possible zip bomb)"
            )
        if member.file_size > self._ratio_limit():
            raise EvidenceError(
                f"the zip member declares a compression ratio over {self.max_ratio}:1 (possible zip bomb)"
            )
        return member

    @contextlib.contextmanager
    def stream(self, *, check_utf8: bool = True) -> Iterator[GuardedStream]:
        """A fresh, bounded, decompressed byte stream of the content (BOM removed)."""
        with contextlib.ExitStack() as stack:
            raw: BinaryIO = stack.enter_context(open(self.path, "rb"))
            inner: BinaryIO = raw
            start = 0
            if self.container == "gzip":
                inner = stack.enter_context(gzip.GzipFile(fileobj=inner, mode="rb"))
            elif self.container == "zip":
                assert self.zip_member is not None
                archive = stack.enter_context(zipfile.ZipFile(inner))
                inner = stack.enter_context(archive.open(self.zip_member))
                start = self.zip_member.header_offset
            compressed = self.container in ("gzip", "zip")
            yield GuardedStream(
                inner,
                limit=self.limit,
                ratio_limit=self._ratio_limit() if compressed else None,
                max_ratio=self.max_ratio,
                check_utf8=check_utf8,
                nested_check=compressed,
                compressed_read=(lambda: max(0, raw.tell() - start)) if compressed else None,
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
        raise EvidenceError(f"unsafe path in zip archive: {show_value(name)}")


class GuardedStream(io.RawIOBase):
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
        compressed_read: Callable[[], int] | None = None,
    ) -> None:
        super().__init__()
        self._compressed_read = compressed_read
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
            while part := self._take(_READ_ALL_CHUNK_BYTES):
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
        if self._compressed_read is None:
            data = self._inner.read(size)
        else:  # decompress in slices, each checked, so one big read cannot inflate a bomb
            parts = []
            got = 0
            while got < size:
                part = self._inner.read(min(size - got, _RATIO_CHECK_BYTES))
                if not part:
                    break
                parts.append(part)
                got += len(part)
                self._check_ratio(self.total + got)
            data = b"".join(parts)
        if self._first and data:
            self._first = False
            self._check_start(data)
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
                self.total += len(_BOM)
        self.total += len(data)
        if self.total > self._limit:
            raise EvidenceError(
                f"the content exceeds {human_bytes(self._limit)} uncompressed: "
                f"refusing to read further (possible zip bomb)"
            )
        if self._ratio_limit is not None and self.total > self._ratio_limit:
            raise EvidenceError(
                f"the compression ratio exceeds {self._max_ratio}:1: refusing to decompress further (possible zip bomb)"
            )

        if self._check_utf8:
            self._validate(data, final=not data)
        return data

    def _check_ratio(self, total: int) -> None:
        """The ratio so far, against the compressed bytes read so far: a bomb is refused after
        about RATIO_GRACE_BYTES of output, not after max_ratio times the whole upload."""
        if total <= RATIO_GRACE_BYTES:
            return
        assert self._compressed_read is not None
        read = self._compressed_read()
        if total > self._max_ratio * max(read, 1):
            self.total = total
            raise EvidenceError(
                f"the compression ratio exceeds {self._max_ratio}:1 ({human_bytes(total)} from the first "
                f"{human_bytes(read)}): refusing to decompress further (possible zip bomb)"
            )

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


def read_bounded(source: Source, limit: int) -> bytes:
    with source.stream() as stream:
        raw = stream.read_prefix(limit + 1)
    if len(raw) > limit:
        raise EvidenceError(f"the file is larger than {human_bytes(limit)}")
    return raw

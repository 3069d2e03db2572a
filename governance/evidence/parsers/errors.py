"""`EvidenceError`, and how its messages show the values they quote."""

from __future__ import annotations

from typing import Any

from governance.core.errors import DomainError

VALUE_SHOWN_CHARS = 40


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


def show_value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > VALUE_SHOWN_CHARS:
        text = text[: VALUE_SHOWN_CHARS - 3] + "..."
    return repr(text)


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {show_value(value)}"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    return f"the number {value!r}"

"""Waiting a little for a worker's result while a web request is open."""

from __future__ import annotations

import time
from typing import TypeVar

Row = TypeVar("Row")

POLL_SECONDS = 0.05


def wait_finished(row: Row, seconds: float) -> Row:
    """Re-read `row` (a model instance with a `finished` property) until it is finished or
    `seconds` pass; the row as it is then."""
    deadline = time.monotonic() + seconds
    while True:
        row.refresh_from_db()
        if row.finished or time.monotonic() >= deadline:
            return row
        time.sleep(POLL_SECONDS)

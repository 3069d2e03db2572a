"""Findings of the security checks, and masking: no detected value ever leaves a check.

A check reports each problem as a `Finding`; secrets and PII carry only `mask_value` of
what was found (a short prefix, an ellipsis and the length).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from governance.gates.stats.outcome import GateInputError


@dataclass(frozen=True)
class Finding:
    """One problem found by a check. `masked` never holds the raw value."""

    check: str  # "secrets" | "pii" | "sbom" | "licenses"
    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    row: int | None = None
    masked: str | None = None
    component: str | None = None

    @classmethod
    def of_value(cls, check: str, kind: str, value: str, **where: Any) -> Finding:
        """A secret or PII `value` found at `where` (file and line, or column and row),
        reported masked: "aws access key in config.yaml line 3"."""
        found = cls(check=check, kind=kind, message="", masked=mask_value(value), **where)
        return replace(found, message=f"{kind.replace('_', ' ')} in {found.location()}")

    def location(self) -> str:
        if self.file is not None:
            return f"{self.file} line {self.line}" if self.line else self.file
        if self.column is not None:
            return f"column {self.column} row {self.row}"
        if self.component is not None:
            return self.component
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("check", self.check),
                ("kind", self.kind),
                ("message", self.message),
                ("file", self.file),
                ("line", self.line),
                ("column", self.column),
                ("row", self.row),
                ("masked", self.masked),
                ("component", self.component),
            )
            if v is not None
        }


class Findings(list):
    """A list of `Finding`, possibly capped, that still knows how many there were.

    `counts` maps a location (file name, column name) to the number of findings there,
    including those not stored; `total` is the number of findings, stored or not.
    """

    def __init__(
        self,
        items: Iterable[Finding] = (),
        *,
        counts: Mapping[str, int] | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(items)
        self.counts: dict[str, int] = dict(counts or {})
        self._total = total

    @property
    def total(self) -> int:
        return len(self) if self._total is None else self._total

    @property
    def truncated(self) -> bool:
        return self.total > len(self)


def mask_value(value: str) -> str:
    """``'AKIA…(20 chars)'``: at most 4 leading characters (a third of short values).

    Never contains `value` itself (non-empty values).
    """
    value = str(value)
    if not value:
        return "…(0 chars)"
    keep = min(4, len(value) // 3)
    n = len(value)
    # The fallbacks only matter for adversarial values such as "ab…(8 ch"; the last two
    # share no character, so no non-empty value is contained in both.
    for masked in (
        f"{value[:keep]}…({n} chars)",
        f"…({n} chars)",
        "<redacted>",
        "*" * 8,
    ):
        if value not in masked:
            return masked
    return "*" * 8


def named_sources(sources: Mapping[str, Any] | None, refusal: str) -> Mapping[str, Any]:
    """What a scan reads, by name (files, columns): None is nothing, anything but a
    mapping is refused with the message `refusal`."""
    if sources is None:
        return {}
    if not isinstance(sources, Mapping):
        raise GateInputError(refusal)
    return sources


def short_repr(value: Any, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters with an ellipsis."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does [start, end) overlap one of `spans` (already claimed by a detector)?"""
    return any(start < e and s < end for s, e in spans)


def unclaimed(pattern: re.Pattern[str], text: str, spans: list[tuple[int, int]], group: int = 0) -> Iterator[re.Match]:
    """The matches of `pattern` whose `group` overlaps no claimed span (`spans` may grow
    while this runs: each match is checked against the spans claimed so far)."""
    for m in pattern.finditer(text):
        if not overlaps(spans, *m.span(group)):
            yield m

"""Licences evidence: a JSON list of {name, version, license} (pip-licenses output works)
or a CSV with those columns. The licence is kept as written; the security gate reads it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from governance.evidence.parsers.errors import EvidenceError, json_type
from governance.evidence.parsers.parsed import ParsedEvidence


def licenses_from_json(data: Any) -> ParsedEvidence:
    """`data` is the already loaded JSON document."""
    if not isinstance(data, list):
        raise EvidenceError(f"licenses must be a JSON list of {{name, version, license}}, found {json_type(data)}")
    packages = []
    for index, item in enumerate(data):
        where = f"[{index}]"
        if not isinstance(item, dict):
            raise EvidenceError(f"at {where!r}: expected an object, found {json_type(item)}")
        lowered = {str(key).lower(): value for key, value in item.items()}  # pip-licenses: Name
        packages.append(
            _license_entry(
                lowered,
                lambda key, message, w=where: EvidenceError(f"at {w + '.' + key!r}: {message}"),
            )
        )
    return _licenses_evidence("json", packages)


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


def licenses_from_csv(text: str) -> ParsedEvidence:
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
    return _licenses_evidence("csv", packages)


def _licenses_evidence(fmt: str, packages: list[dict[str, str | None]]) -> ParsedEvidence:
    columns = ["name", "version", "license"]
    return ParsedEvidence("licenses", fmt, len(packages), columns, _licenses_profile(packages), packages, None)


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

"""The security gate: runs the requested checks (sbom, licenses, secrets, pii) over the
evidence and fails on any finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.core.vocabulary import SECURITY_CHECKS
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.params import GateParams, checked, names_from, optional

from .findings import Finding, Findings
from .licences import check_licenses, spdx_ids
from .pii import scan_pii
from .sbom import check_sbom, components_from_sbom
from .secrets import scan_secrets

MAX_DETAIL_FINDINGS = 100  # findings kept in GateResult.details
MAX_EXPLAINED_PER_CHECK = 5

# check -> (one finding, several findings), as the explanation counts them
_NOUNS = {
    "secrets": ("secret", "secrets"),
    "pii": ("PII value", "PII values"),
    "sbom": ("SBOM problem", "SBOM problems"),
    "licenses": ("licence problem", "licence problems"),
}


@dataclass(frozen=True, kw_only=True)
class SecurityParams(GateParams):
    gate = "security"
    checks: list[str] = checked(
        names_from(SECURITY_CHECKS, what="security checks", in_allowed_order=True), default=None
    )
    license_deny: list[str] = checked(spdx_ids, default=None)  # None: deny nothing
    license_allow: list[str] | None = checked(optional(spdx_ids), default=None)  # None: allow all not denied

    def check_together(self) -> None:
        if not self.checks:
            raise GateInputError("checks is empty: name at least one of " + ", ".join(SECURITY_CHECKS))


@dataclass
class _Report:
    """What one check found: the stored findings, how many there were in all, and what
    was scanned ("in 3 files")."""

    findings: list[Finding]
    total: int
    scanned: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # added to the check's group


def security_gate(
    *,
    sbom: Mapping[str, Any] | None = None,
    licenses: list[dict[str, Any]] | Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
    feature_samples: Mapping[str, Iterable[Any]] | None = None,
    **spec: Any,
) -> GateResult:
    """The security gate: failed when any requested check has a finding.

    Parameters (`SecurityParams`): checks, a subset of sbom, licenses, secrets, pii
    (default all four); license_deny and license_allow, SPDX ids.
    licenses: component dicts from the licences artifact; when None, the SBOM's
    components (and their CycloneDX licences) are judged instead; when neither exists
    the licences check reports that there is no licence evidence.
    No text files / feature samples means nothing to scan (0 findings, reported as
    "0 files"/"0 columns" scanned in the explanation).
    Value = number of findings (all of them, including PII beyond the per-column cap),
    threshold 0; groups = {check: {"findings": n, "by_kind": {...}}}; details carries the
    first 100 findings (masked).
    """
    params = SecurityParams.from_spec(spec)
    run = {
        "sbom": lambda: _sbom_report(sbom),
        "licenses": lambda: _licences_report(licenses, sbom, params),
        "secrets": lambda: _scan_report(scan_secrets(text_files or {}), len(text_files or {}), "file"),
        "pii": lambda: _scan_report(scan_pii(feature_samples or {}), len(feature_samples or {}), "column"),
    }
    reports = {check: run[check]() for check in params.checks}

    total = sum(report.total for report in reports.values())
    groups = {
        check: {"findings": r.total, "by_kind": dict(Counter(f.kind for f in r.findings)), **r.extra}
        for check, r in reports.items()
    }
    found = [f for report in reports.values() for f in report.findings]
    explanation = "; ".join(f"{check}: {_explain(check, report)}" for check, report in reports.items())
    details: dict[str, Any] = {
        "checks": params.checks,
        "findings": [f.to_dict() for f in found[:MAX_DETAIL_FINDINGS]],
        "findings_total": total,
        "findings_truncated": total > min(len(found), MAX_DETAIL_FINDINGS),
        "license_deny": params.license_deny,
        "license_allow": params.license_allow,
    }
    return judged(
        not total,
        explanation,
        metric="security_findings",
        value=float(total),
        threshold=0.0,
        groups=groups,
        details=details,
    )


def _sbom_report(sbom: Mapping[str, Any] | None) -> _Report:
    kind = "sbom_missing" if sbom is None else "sbom_invalid"
    found = [Finding(check="sbom", kind=kind, message=problem) for problem in check_sbom(sbom)]
    return _Report(found, len(found))


def _licences_report(
    licenses: list[dict[str, Any]] | Mapping[str, Any] | None,
    sbom: Mapping[str, Any] | None,
    params: SecurityParams,
) -> _Report:
    """Judge the licences artifact, else the SBOM's components, else report no evidence."""
    if licenses is not None:
        components, source = licenses, "licences artifact"
    elif isinstance(sbom, Mapping) and isinstance(sbom.get("components"), list):
        components, source = components_from_sbom(sbom), "SBOM"
    else:
        message = "no licences artifact and no SBOM components to judge"
        return _Report([Finding(check="licenses", kind="license_evidence_missing", message=message)], 1)
    found = check_licenses(components, params.license_deny, params.license_allow)
    scanned = f"in {len(components)} components from the {source}" if isinstance(components, list) else ""
    return _Report(found, len(found), scanned)


def _scan_report(found: Findings, n_scanned: int, unit: str) -> _Report:
    """A scan of files (secrets) or columns (pii); PII also reports its counts per column."""
    report = _Report(list(found), found.total, f"in {n_scanned} {unit}{'s' if n_scanned != 1 else ''}")
    if unit == "column":
        report.extra["by_column"] = {column: n for column, n in found.counts.items() if n}
        if found.truncated:
            report.extra["stored"] = len(found)
    return report


def _explain(check: str, report: _Report) -> str:
    one, several = _NOUNS[check]
    text = f"{report.total} {one if report.total == 1 else several}"
    if report.scanned:
        text += f" {report.scanned}"
    if report.total:
        items = [_describe(check, f) for f in report.findings[:MAX_EXPLAINED_PER_CHECK]]
        more = report.total - len(items)
        if more > 0:
            items.append(f"… {more} more")
        text += " (" + "; ".join(items) + ")"
    return text


def _describe(check: str, finding: Finding) -> str:
    if check == "secrets":
        return f"{finding.file} line {finding.line} {finding.kind}"
    if check == "pii":
        return f"{finding.kind} in {finding.column} row {finding.row}"
    return finding.message

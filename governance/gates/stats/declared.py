"""Declared metrics gate: do the numbers a team reports agree with its own evidence?

A team uploads a metrics file ("auc": 0.81) and a predictions table. The gates recompute
their metrics from the predictions; when the reported number and the recomputed one differ
by more than a tolerance, the report does not describe the evidence, and an approver who
reads both cannot know which one to trust. This gate fails on that disagreement.

Decision rule (docs/gates.md, "Declared metrics"): for every compared metric m,
    |declared_m - recomputed_m| <= allowed_m = max(tolerance, relative_tolerance * |recomputed_m|)
passes; one metric beyond its allowance fails the gate. There is no interval: both
numbers describe the *same* rows, so the recomputation is exact and the tolerance only
absorbs rounding. A declared metric that cannot be recomputed from the predictions (one
class only, no positives for recall, non-0/1 labels for AUC...) makes the gate
inconclusive (unless another metric already fails it): the data cannot tell whether the
reported number is right.

Each metric is recomputed with the very functions the other gates use (`roc_auc` of the
performance gate, `ks_statistic`, the threshold gate's confusion counts and proportions,
`mae` / `rmse`), so "declared" is checked against exactly what the gates decide on.

Pure: numpy and scipy (through those functions); no Django, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.core.vocabulary import DECLARED_METRICS

from .explain import fmt
from .outcome import GateInputError, GateResult, judged, undecided
from .params import GateParams, at_least, between, checked, fraction, names_from, optional
from .performance import mae, metric_from_counts, rmse, roc_auc
from .performance_ks import ks_statistic
from .threshold import _LABELS, as_binary, check_same_length, confusion_counts, predictions_from, proportion_for

__all__ = [
    "DeclaredParams",
    "allowed_difference",
    "declared_metrics_gate",
    "declared_numbers",
    "disagrees",
    "recompute_metric",
]


def allowed_difference(recomputed: float, *, tolerance: float, relative_tolerance: float | None = None) -> float:
    """The largest tolerated |declared - recomputed|: the absolute `tolerance`, or
    `relative_tolerance` of the recomputed value when that is larger."""
    return max(tolerance, (relative_tolerance or 0.0) * abs(recomputed))


def disagrees(declared: float, recomputed: float, *, tolerance: float, relative_tolerance: float | None = None) -> bool:
    """True when the declared number differs from the recomputed one beyond the allowance."""
    allowed = allowed_difference(recomputed, tolerance=tolerance, relative_tolerance=relative_tolerance)
    return abs(declared - recomputed) > allowed


def declared_numbers(data: Any) -> dict[str, float]:
    """The top-level numbers of a metrics file, by lower-cased name ("AUC" is "auc").
    Nested objects, strings and booleans are not declared metrics. Two names that differ
    only by case are refused (which one is the report?)."""
    if not isinstance(data, Mapping):
        raise GateInputError("the metrics file must be a JSON object of numbers")
    numbers: dict[str, float] = {}
    spelled: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        name = str(key).strip().lower()
        if name in numbers:
            raise GateInputError(f"the metrics file declares {name} twice ({spelled[name]!r} and {key!r})")
        if not math.isfinite(float(value)):
            raise GateInputError(f"the metrics file declares {key!r} as {value!r}, not a finite number")
        numbers[name], spelled[name] = float(value), str(key)
    return numbers


def recompute_metric(metric: str, y_true: Any, y_score: Any, *, y_pred: Any = None, threshold: float = 0.5) -> float:
    """`metric` recomputed from the predictions with the gates' own functions.

    auc, ks: from y_score; mae, rmse: y_score is the prediction (regression); the others:
    confusion counts of the 0/1 decisions (y_pred, else y_score >= threshold). Raises
    GateInputError (with the reason) when the predictions cannot give the metric.
    """
    if metric == "auc":
        return roc_auc(y_true, y_score)
    if metric == "ks":
        return ks_statistic(y_true, y_score)
    if metric == "mae":
        return mae(y_true, y_score)
    if metric == "rmse":
        return rmse(y_true, y_score)
    if metric not in DECLARED_METRICS:
        raise GateInputError(f"{metric} cannot be recomputed from predictions")
    yt = as_binary("y_true", y_true)
    yp = predictions_from(y_score, y_pred, threshold)
    check_same_length(y_true=yt, y_pred=yp)
    tn, fp, fn, tp = confusion_counts(yt, yp)
    if metric == "f1":
        if tp + fp + fn == 0:
            raise GateInputError("F1 is undefined: there are no positives and no predicted positives")
        return float(metric_from_counts("f1", tn, fp, fn, tp))
    k, n = proportion_for(metric, tn, fp, fn, tp)
    if n == 0:
        label, over = _LABELS[metric]
        raise GateInputError(f"{label} is undefined: there are no {over}")
    return k / n


@dataclass(frozen=True, kw_only=True)
class DeclaredParams(GateParams):
    """Parameters of the declared_metrics gate (docs/policies.md)."""

    gate = "declared_metrics"
    # None: every declared metric the gate can recompute.
    metrics: list[str] | None = checked(optional(names_from(DECLARED_METRICS, what="declared metrics")), default=None)
    tolerance: float = checked(at_least(0.0, finite=True), default=0.02)
    relative_tolerance: float | None = checked(optional(between(0.0, 1.0)), default=None)
    threshold: float = checked(fraction, default=0.5)


def _declared_text(value: float) -> str:
    """A declared number as the team wrote it (0.81, not 0.810)."""
    return f"{value:g}" if abs(value) < 1e6 else fmt(value)


def _tolerance_text(allowed: float, params: DeclaredParams) -> str:
    if params.relative_tolerance and allowed > params.tolerance:
        return f"tolerance {fmt(allowed)}: {params.relative_tolerance * 100:g}% of the recomputed value"
    return f"tolerance {params.tolerance:g}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def declared_metrics_gate(
    declared: Any, y_true: Any, y_score: Any = None, *, y_pred: Any = None, **spec: Any
) -> GateResult:
    """Gate `declared_metrics`: the metrics file against the metrics recomputed from the
    predictions (see the module docstring for the rule).

    declared: the metrics file (a JSON object; its top-level numbers are the declared
    metrics, names compared case-insensitively). Parameters (`DeclaredParams`):
    `metrics` (the metrics to compare; default every declared one in DECLARED_METRICS;
    a listed metric the file does not declare fails the gate), `tolerance` (absolute,
    default 0.02), `relative_tolerance` (optional fraction of the recomputed value),
    `threshold` (decisions from y_score when there is no y_pred).
    `value`/`threshold` are the difference and the allowance of the metric furthest beyond
    (or closest to) its allowance, `metric` its name, `n` the rows; `groups` one row per
    declared metric {declared, recomputed, difference, allowed, status: match | mismatch |
    not_recomputable | not_declared | not_compared}.
    """
    params = DeclaredParams.from_spec(spec)
    numbers = declared_numbers(declared)
    n_rows = int(np.asarray(y_true).size)
    wanted = params.metrics if params.metrics is not None else [m for m in DECLARED_METRICS if m in numbers]

    groups: dict[str, dict[str, Any]] = {}
    mismatches: list[str] = []
    unavailable: list[str] = []
    worst: tuple[float, str, float, float] | None = None  # (difference / allowed, metric, difference, allowed)
    for metric in wanted:
        if metric not in numbers:
            groups[metric] = {"declared": None, "recomputed": None, "status": "not_declared"}
            mismatches.append(f"the metrics file does not declare {metric}, which the policy compares")
            continue
        reported = numbers[metric]
        try:
            value = recompute_metric(metric, y_true, y_score, y_pred=y_pred, threshold=params.threshold)
        except GateInputError as exc:
            groups[metric] = {
                "declared": reported,
                "recomputed": None,
                "status": "not_recomputable",
                "reason": str(exc),
            }
            unavailable.append(f"declared {metric} {_declared_text(reported)} cannot be recomputed: {exc}")
            continue
        allowed = allowed_difference(value, tolerance=params.tolerance, relative_tolerance=params.relative_tolerance)
        difference = abs(reported - value)
        bad = difference > allowed
        groups[metric] = {
            "declared": reported,
            "recomputed": value,
            "difference": difference,
            "allowed": allowed,
            "status": "mismatch" if bad else "match",
        }
        ratio = difference / allowed if allowed > 0 else (math.inf if difference > 0 else 0.0)
        if worst is None or ratio > worst[0]:
            worst = (ratio, metric, difference, allowed)
        if bad:
            mismatches.append(
                f"declared {metric} {_declared_text(reported)}, recomputed {fmt(value)} "
                f"({_tolerance_text(allowed, params)})"
            )
    ignored = sorted(name for name in numbers if name not in wanted)
    for name in ignored:
        groups[name] = {"declared": numbers[name], "recomputed": None, "status": "not_compared"}

    details = {
        "compared": [m for m in wanted if groups[m]["status"] in ("match", "mismatch")],
        "not_compared": ignored,
        "recomputable": list(DECLARED_METRICS),
        "tolerance": params.tolerance,
        "relative_tolerance": params.relative_tolerance,
        "threshold": params.threshold if y_pred is None else None,
    }
    result = {
        "metric": worst[1] if worst else None,
        "value": worst[2] if worst else None,
        "threshold": worst[3] if worst else params.tolerance,
        "n": n_rows,
        "groups": groups,
        "details": details,
    }
    if mismatches:
        text = "The reported metric does not match the evidence: " + "; ".join(mismatches)
        if unavailable:
            text += "; also " + "; ".join(unavailable)
        return judged(False, text, **result)
    if unavailable:
        names = ", ".join(m for m in wanted if groups[m]["status"] == "not_recomputable")
        result.update(metric=names.split(", ")[0], value=None, threshold=params.tolerance)
        return undecided(
            _sentence("; ".join(unavailable)),
            {"text": f"predictions from which {names} can be recomputed (the reason is given above)"},
            **result,
        )
    if not wanted:
        listed = ", ".join(sorted(numbers)) or "no numbers"
        return undecided(
            f"The metrics file declares no metric this gate can recompute (it declares {listed}; "
            f"the gate recomputes {', '.join(DECLARED_METRICS)})",
            {"text": f"a metrics file declaring at least one of {', '.join(DECLARED_METRICS)}"},
            **result,
        )
    agree = "; ".join(
        f"{m} declared {_declared_text(groups[m]['declared'])}, recomputed {fmt(groups[m]['recomputed'])}"
        for m in wanted
    )
    text = f"The reported metrics match the evidence within the tolerance: {agree} ({_tolerance_text(params.tolerance, params)}"
    if params.relative_tolerance:
        text += f" or {params.relative_tolerance * 100:g}% of the recomputed value"
    text += ")"
    if ignored:
        text += f"; not compared: {', '.join(ignored)}"
    return judged(True, text, **result)

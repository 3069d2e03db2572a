"""Drift gate: feature distributions of the current data against the reference data.

Per feature, both a test and the population stability index (PSI) are computed and
reported; `method` picks which one decides whether the feature drifted:
* method="ks" (default): numeric features use the two-sample Kolmogorov-Smirnov test
  (scipy.stats.ks_2samp), categorical ones the chi-square test of homogeneity on the
  2 x K table of category counts (scipy.stats.chi2_contingency, categories of both
  samples aligned; Yates' correction applies when K == 2, as scipy does by default).
  A feature drifts when its p-value, adjusted for testing several features
  (`p_adjust`, default Holm's step-down), is below `max_p_value_drift`: that level is the
  family-wise one, the chance that a gate on features none of which drifted reports any
  (with 5 features and no adjustment it was 1 - 0.95^5 = 23%, measured 22-23%, bench/RESULTS.md).
  `p_adjust: none` compares each raw p-value (a per-feature level).
* method="psi": a feature drifts when its PSI exceeds `psi_max`.
The gate passes when at most `max_drifted_features` features drifted.

KS method: scipy's "exact" distribution is quadratic in the sample sizes and explodes on
large samples, so the exact method is allowed only while n_ref * n_cur <= 1e6
(scipy's method="auto"), above that method="asymp" is forced.

PSI binning (numeric): `bins` quantile bins *of the reference sample*
(np.quantile, linear interpolation, at 0, 1/bins, ..., 1); the interior edges are
deduplicated (np.unique), so heavily tied or discrete features get fewer, non-empty
reference bins; the outer bins are open (-inf, e1) and [e_last, +inf) so current values
outside the reference range are counted; a value equal to an edge belongs to the bin
above it (np.searchsorted side="right"). Categorical PSI uses one bin per category seen
in either sample. Proportions are floored at PSI_EPS = 1e-4 (no renormalisation) before
PSI = sum((cur - ref) * ln(cur / ref)), so an empty bin contributes a finite amount.

Feature kinds: a feature is numeric when both samples have an integer or float dtype,
otherwise categorical (bool, strings, objects). Numeric NaN/inf are rejected
(GateInputError naming the feature); in categorical features None/NaN form the category
"(missing)".

Pure: numpy and scipy only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2_contingency, ks_2samp

from governance.core.vocabulary import DRIFT_METHODS, DRIFT_P_ADJUST
from governance.gates.stats.explain import fmt
from governance.gates.stats.fairness import encode_groups
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.params import GateParams, at_least, checked, fraction, one_of, whole_number
from governance.gates.stats.threshold import as_numeric

PSI_EPS = 1e-4
EXACT_KS_MAX_PRODUCT = 1_000_000


def ks_method_for(n_ref: int, n_cur: int) -> str:
    """'auto' (scipy may use the exact distribution) for small samples, else 'asymp'."""
    return "auto" if n_ref * n_cur <= EXACT_KS_MAX_PRODUCT else "asymp"


def ks_test(reference: Any, current: Any) -> tuple[float, float, str]:
    """(statistic, p_value, method) of the two-sample KS test."""
    ref = as_numeric("reference", reference)
    cur = as_numeric("current", current)
    method = ks_method_for(ref.size, cur.size)
    res = ks_2samp(ref, cur, method=method)
    return float(res.statistic), float(res.pvalue), method


def category_table(reference: Any, current: Any) -> tuple[list[str], np.ndarray]:
    """(categories, 2 x K counts) with the categories of both samples aligned."""
    ref = np.asarray(reference)
    cur = np.asarray(current)
    if ref.size == 0 or cur.size == 0:
        raise GateInputError("categorical drift needs non-empty reference and current samples")
    both = np.concatenate([ref.astype(object), cur.astype(object)])
    labels, codes = encode_groups("feature", both)
    k = len(labels)
    table = np.vstack(
        [
            np.bincount(codes[: ref.size], minlength=k),
            np.bincount(codes[ref.size :], minlength=k),
        ]
    )
    return labels, table


def chi2_test(reference: Any, current: Any) -> tuple[float, float, int]:
    """(statistic, p_value, dof) of the chi-square test of homogeneity.

    A single category in both samples means no difference can be seen: (0, 1, 0)."""
    _, table = category_table(reference, current)
    if table.shape[1] < 2:
        return 0.0, 1.0, 0
    res = chi2_contingency(table)
    return float(res.statistic), float(res.pvalue), int(res.dof)


def _psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float) -> float:
    r = np.maximum(ref_counts / ref_counts.sum(), eps)
    c = np.maximum(cur_counts / cur_counts.sum(), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Interior bin edges: reference quantiles at 1/bins .. (bins-1)/bins, deduplicated."""
    q = np.quantile(reference, np.linspace(0.0, 1.0, bins + 1))
    return np.unique(q[1:-1])


def psi(reference: Any, current: Any, *, bins: int = 10, eps: float = PSI_EPS) -> float:
    """Population stability index of a numeric feature (binning in the module docstring)."""
    ref = as_numeric("reference", reference)
    cur = as_numeric("current", current)
    edges = psi_edges(ref, bins)
    k = edges.size + 1
    rc = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=k)
    cc = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=k)
    return _psi_from_counts(rc, cc, eps)


def psi_categorical(reference: Any, current: Any, *, eps: float = PSI_EPS) -> float:
    """Population stability index over the categories seen in either sample."""
    _, table = category_table(reference, current)
    return _psi_from_counts(table[0], table[1], eps)


def _is_numeric(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "iuf"


def adjusted_p_values(p_values: list[float], how: str) -> list[float]:
    """p-values adjusted for K simultaneous tests, in the input order.

    holm: Holm (1979) step-down, p_(i) -> max over j <= i of min(1, (K - j + 1) p_(j)) for
    the ascending p_(1) <= ... <= p_(K); bonferroni: min(1, K p); none: unchanged. Rejecting
    where the adjusted p is below alpha keeps the family-wise error rate at alpha under any
    dependence between the features."""
    k = len(p_values)
    if how == "none" or k <= 1:
        return [float(p) for p in p_values]
    if how == "bonferroni":
        return [min(1.0, k * float(p)) for p in p_values]
    order = np.argsort(p_values, kind="stable")
    adjusted = [0.0] * k
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (k - rank) * float(p_values[index])))
        adjusted[index] = running
    return adjusted


def _feature_names(name: str, features: Any) -> list[str] | None:
    if features is None:
        return None
    names = list(features)
    if not names:
        raise GateInputError(f"{name} is empty")
    return names


@dataclass(frozen=True, kw_only=True)
class DriftParams(GateParams):
    gate = "drift"
    method: str = checked(one_of(DRIFT_METHODS), default="ks")
    max_p_value_drift: float = checked(fraction, default=0.05)
    p_adjust: str = checked(one_of(DRIFT_P_ADJUST), default="holm")
    psi_max: float = checked(at_least(0, strict=True), default=0.2)
    bins: int = checked(whole_number(2, 100), default=10)  # PSI bins of numeric features
    features: list[str] | None = checked(_feature_names, default=None)  # None: all shared columns
    max_drifted_features: int = checked(whole_number(0), default=0)


def drift_gate(reference: dict[str, Any], current: dict[str, Any], **spec: Any) -> GateResult:
    """Gate `drift` over the feature tables.

    Evidence: `reference` = feature_reference table and `current` = feature_current table,
    each {feature name: 1-D array}. Parameters: `DriftParams`; `features` defaults to the
    columns present in both. `value` = number of drifted features, `threshold` = max_drifted_features, `p_value` =
    the smallest test p-value over the features (method ks; None for psi), `n` = rows of
    the current table; `details["features"]` has one row per feature
    {feature, kind, test, statistic, p_value, psi, drifted, n_reference, n_current}.
    """
    params = DriftParams.from_spec(spec)
    method = params.method
    if not isinstance(reference, dict) or not isinstance(current, dict):
        raise GateInputError("reference and current must be {feature name: array} mappings")
    if params.features is None:
        names = [f for f in reference if f in current]
        if not names:
            raise GateInputError("the reference and current tables share no feature column")
    else:
        names = params.features
        missing = [f for f in names if f not in reference or f not in current]
        if missing:
            raise GateInputError(f"feature(s) missing from the reference or current table: {', '.join(missing)}")

    rows: list[dict[str, Any]] = []
    n_current = None
    for name in names:
        ref = np.asarray(reference[name])
        cur = np.asarray(current[name])
        for label, arr in (("reference", ref), ("current", cur)):
            if arr.ndim != 1:
                raise GateInputError(f"feature {name!r} ({label}): expected a 1-D array")
            if arr.size == 0:
                raise GateInputError(f"feature {name!r} ({label}) is empty")
        if n_current is None:
            n_current = int(cur.size)
        if _is_numeric(ref) and _is_numeric(cur):
            ref = as_numeric(f"feature {name!r} (reference)", ref)
            cur = as_numeric(f"feature {name!r} (current)", cur)
            ks_method = ks_method_for(ref.size, cur.size)
            res = ks_2samp(ref, cur, method=ks_method)
            stat, p = float(res.statistic), float(res.pvalue)
            value_psi = psi(ref, cur, bins=params.bins)
            kind, test = "numeric", "ks"
        else:
            _, table = category_table(ref, cur)
            if table.shape[1] < 2:
                stat, p = 0.0, 1.0
            else:
                res = chi2_contingency(table)
                stat, p = float(res.statistic), float(res.pvalue)
            value_psi = _psi_from_counts(table[0], table[1], PSI_EPS)
            kind, test, ks_method = "categorical", "chi2", None
        rows.append(
            {
                "feature": str(name),
                "kind": kind,
                "test": test,
                "statistic": stat,
                "p_value": p,
                "psi": value_psi,
                "n_reference": int(ref.size),
                "n_current": int(cur.size),
                **({"ks_method": ks_method} if ks_method else {}),
            }
        )

    adjusted = adjusted_p_values([r["p_value"] for r in rows], params.p_adjust)
    for row, p_adj in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p_adj
        row["drifted"] = bool(p_adj < params.max_p_value_drift if method == "ks" else row["psi"] > params.psi_max)
    drifted_rows = [r for r in rows if r["drifted"]]
    count = len(drifted_rows)
    passed = count <= params.max_drifted_features
    if method == "ks":
        adjustment = {"holm": ", Holm-adjusted over the features", "bonferroni": ", Bonferroni-adjusted"}
        rule = f"KS/chi-square p-value below {fmt(params.max_p_value_drift)}{adjustment.get(params.p_adjust, '')}"
        worst = sorted(drifted_rows, key=lambda r: r["p_value"])
        p_min = float(np.min([r["p_value"] for r in rows]))
    else:
        rule = f"PSI above {fmt(params.psi_max)}"
        worst = sorted(drifted_rows, key=lambda r: -r["psi"])
        p_min = None
    listed = "; ".join(
        f"{r['feature']} (p={_fmt_p(r['p_value'])}"
        + (f", adjusted {_fmt_p(r['p_adjusted'])}" if method == "ks" and r["p_adjusted"] != r["p_value"] else "")
        + f", PSI {fmt(r['psi'])})"
        for r in worst[:3]
    )
    if len(worst) > 3:
        listed += f"; and {len(worst) - 3} more"
    text = f"{count} of {len(rows)} feature(s) drifted ({rule})"
    if listed:
        text += f": {listed}"
    text += f"; at most {params.max_drifted_features} allowed"
    details = {
        "method": method,
        "max_p_value_drift": params.max_p_value_drift,
        "p_adjust": params.p_adjust,
        "psi_max": params.psi_max,
        "bins": params.bins,
        "psi_eps": PSI_EPS,
        "features": rows,
    }
    return judged(
        passed,
        text,
        metric=f"drifted_features_{method}",
        value=float(count),
        threshold=float(params.max_drifted_features),
        p_value=p_min,
        n=n_current,
        details=details,
    )


def _fmt_p(p: float) -> str:
    if p == 0:
        return "0"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.{max(3, 1 - math.floor(math.log10(p)))}f}" if p < 0.01 else f"{p:.3f}"

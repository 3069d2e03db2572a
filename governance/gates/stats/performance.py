"""Performance gate: the candidate's metric against the production baseline on the same rows.

Metrics (`metric`): auc, ks, accuracy, precision, recall, f1, ctr (higher is better) and
mae, rmse (lower is better). Both models are scored on the same rows, so every interval is
for the *paired* difference.

How the confidence interval of the difference is obtained
---------------------------------------------------------
* auc: DeLong's test for two correlated ROC curves, in the fast midrank formulation of
  Sun & Xu (2014, IEEE Signal Processing Letters 21(11)): one O(n log n) sort per model
  gives the structural components V10 (per positive: share of negatives scored below it,
  ties 1/2) and V01 (per negative: share of positives scored above it, ties 1/2);
  Var(AUC_a - AUC_b) = Var(V10_a - V10_b)/m + Var(V01_a - V01_b)/n (ddof=1), i.e.
  L (S10/m + S01/n) L' with L = [1, -1]. CI: diff +- z * se. Never the O(n^2) pairwise
  kernel.
* accuracy, precision, recall, f1, ctr: a seeded paired bootstrap that is *exact* and
  O(B) whatever n: these metrics depend on the rows only through the 8 counts of
  (y_true, candidate decision, baseline decision), and resampling n rows with replacement
  draws those counts from Multinomial(n, counts / n). So 1,000 resamples of 1,000,000
  rows cost one `Generator.multinomial` call (well under a millisecond).
* recall, accuracy: the interval is Tango's paired score interval (paired_proportions.py;
  pairs: the positives for recall, all rows for accuracy) - issue 12: the percentile
  interval of the cell bootstrap passed 4.6% at the margin with ~50 positives. The cell
  bootstrap below still gives their standard error (p-values).
* ks: cross-fitted thresholds (chosen on one half of the rows, evaluated on the other)
  and per-half multinomial cell bootstraps, for every n: see performance_ks.py (issue
  12: the plain bootstrap is not valid when the candidate's maximum is flat).
* mae, rmse: a seeded paired *row* bootstrap (the same resampled rows for both
  models), studentized (bootstrap-t: each resample's difference over its own standard
  error, the same formulas as the large-n approximations below; issue 12 calibration:
  the percentile interval passed 4.0% at the margin for rmse with 50 rows, nominal 2.5%),
  vectorised in chunks, while n * bootstrap_samples <= MAX_ROW_BOOTSTRAP_DRAWS
  (10 million row draws, e.g. 10,000 rows x 1,000 resamples; a few hundred ms). Above
  that budget an exact row bootstrap costs >= 10 ms per resample at 1M rows (drawing
  and gathering 1M indices), i.e. >= 10 s for 1,000 resamples, so we switch to a large-n
  approximation and say so in `details["ci_method"]`:
    - mae: normal interval of the mean paired difference |e_cand| - |e_base|
      (CLT; for n > 10,000 / B rows this is what the bootstrap converges to);
    - rmse: delta method on (mean e_cand^2, mean e_base^2) with their sample covariance;
  The other bootstrap intervals are percentile intervals of the B resampled
  differences; the bootstrap standard error (ddof=1) gives the p-value.

Decisions
---------
* non_inferiority (default): the worsening of the candidate (drop of a higher-is-better
  metric, increase of mae/rmse) has a two-sided `confidence` interval whose *upper* bound
  must be <= `max_drop`. `value`/`ci_low`/`ci_high`/`threshold` are the worsening, its
  interval and `max_drop`.
* superiority: the improvement's interval *lower* bound must be >= `min_improvement`, or
  >= `min_relative_improvement` * baseline value (exactly one of them). `value`,
  `ci_low`/`ci_high`, `threshold` are the improvement, its interval and the required
  improvement.
* `p_value` is the two-sided test of "no difference" (DeLong z for auc; difference over
  its bootstrap or normal standard error otherwise). `details["p_value_margin"]` is the
  one-sided p-value of the gate's own null hypothesis (worse than the margin / not
  better by the required amount).
* Ratios with an empty denominator (precision with no predicted positive, ...) count as
  0, like scikit-learn's `zero_division=0`, in the estimate and in every resample.

Pure: numpy and scipy only; no Django, no I/O, no clock. Randomness only from
`numpy.random.default_rng(seed)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from governance.core.vocabulary import LOWER_IS_BETTER_METRICS, PERFORMANCE_METRICS, PERFORMANCE_MODES
from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged
from governance.gates.stats.paired_proportions import tango_interval
from governance.gates.stats.params import (
    GateParams,
    at_least,
    bootstrap_count,
    checked,
    confidence_level,
    exactly_one,
    fraction,
    one_of,
)
from governance.gates.stats.performance_ks import (
    cross_fitted_ks_interval,
    ks_with_cut,
)
from governance.gates.stats.performance_ks import (
    ks_statistic as ks_statistic,  # re-exported: the performance metrics' public API
)
from governance.gates.stats.threshold import (
    as_binary,
    as_numeric,
    check_same_length,
    percentile_interval,
    predictions_from,
    z_value,
)

LOWER_IS_BETTER = frozenset(LOWER_IS_BETTER_METRICS)
CELL_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "ctr"})
PAIRED_PROPORTION_METRICS = frozenset({"recall", "accuracy"})
MAX_ROW_BOOTSTRAP_DRAWS = 10_000_000
_CHUNK_ELEMENTS = 2_000_000  # resample rows held in memory at once by row bootstraps

_DISPLAY = {
    "auc": "AUC",
    "ks": "KS",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "ctr": "CTR",
    "mae": "MAE",
    "rmse": "RMSE",
}


# ======================================================================================
# AUC and DeLong (Sun & Xu 2014 midrank formulation)
# ======================================================================================


def _check_two_classes(y: np.ndarray, what: str) -> tuple[int, int]:
    pos = int(np.count_nonzero(y))
    neg = int(y.size - pos)
    if pos == 0 or neg == 0:
        only = "1" if neg == 0 else "0"
        raise GateInputError(f"{what} needs both classes in y_true, but every row has y_true = {only}")
    return pos, neg


def delong_components(y_true: Any, y_score: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components from one sort (Sun & Xu 2014).

    Returns (auc, v10, v01): v10[i] = (1/n0) sum_j psi(x_i, y_j) for the i-th positive
    (original row order), v01[j] = (1/n1) sum_i psi(x_i, y_j) for the j-th negative,
    psi = 1 if the positive scores higher, 1/2 on ties, 0 otherwise. With midranks
    T_Z (all rows), T_X (positives), T_Y (negatives): v10 = (T_Z - T_X) / n0 and
    v01 = 1 - (T_Z - T_Y) / n1; both are read off tie blocks of the sorted scores.
    AUC = mean(v10) = mean(v01).
    """
    y = as_binary("y_true", y_true)
    s = as_numeric("y_score", y_score)
    check_same_length(y_true=y, y_score=s)
    _check_two_classes(y, "AUC")
    return _delong_components(y, s)


def _delong_components(y: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    n = s.size
    order = np.argsort(s)
    ss = s[order]
    ys = y[order]
    starts = np.flatnonzero(np.concatenate(([True], ss[1:] != ss[:-1])))
    ends = np.append(starts[1:], n)
    size = ends - starts
    cpos = np.concatenate(([0], np.cumsum(ys, dtype=np.int64)))
    n_pos = int(cpos[-1])
    n_neg = n - n_pos
    pos_before = cpos[starts]
    pos_in = cpos[ends] - pos_before
    neg_before = starts - pos_before
    neg_in = size - pos_in
    # per tie block: value of a positive / of a negative in that block
    v_pos_block = (neg_before + 0.5 * neg_in) / n_neg
    v_neg_block = (n_pos - pos_before - 0.5 * pos_in) / n_pos
    block_vals = np.where(ys == 1, np.repeat(v_pos_block, size), np.repeat(v_neg_block, size))
    v = np.empty(n, dtype=np.float64)
    v[order] = block_vals
    is_pos = y == 1
    v10 = v[is_pos]
    v01 = v[~is_pos]
    return float(v10.mean()), v10, v01


def roc_auc(y_true: Any, y_score: Any) -> float:
    """ROC AUC (equals sklearn.metrics.roc_auc_score, ties counted 1/2)."""
    return delong_components(y_true, y_score)[0]


@dataclass(frozen=True)
class DeLongResult:
    auc_a: float
    auc_b: float
    var_a: float
    var_b: float
    cov_ab: float
    diff: float  # auc_a - auc_b
    se: float  # standard error of diff
    z: float
    p_value: float  # two-sided, H0: auc_a == auc_b


def delong_paired_test(y_true: Any, score_a: Any, score_b: Any) -> DeLongResult:
    """DeLong test for two correlated AUCs on the same rows (fast midrank version)."""
    y = as_binary("y_true", y_true)
    a = as_numeric("score_a", score_a)
    b = as_numeric("score_b", score_b)
    check_same_length(y_true=y, score_a=a, score_b=b)
    return _delong_paired(y, a, b)


def _delong_paired(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> DeLongResult:
    m, k = _check_two_classes(y, "AUC")
    if m < 2 or k < 2:
        raise GateInputError(f"DeLong's variance needs at least 2 positives and 2 negatives (got {m} and {k})")
    auc_a, a10, a01 = _delong_components(y, a)
    auc_b, b10, b01 = _delong_components(y, b)
    s10 = np.cov(np.vstack([a10, b10]), ddof=1)
    s01 = np.cov(np.vstack([a01, b01]), ddof=1)
    var_a = s10[0, 0] / m + s01[0, 0] / k
    var_b = s10[1, 1] / m + s01[1, 1] / k
    cov_ab = s10[0, 1] / m + s01[0, 1] / k
    # variance of the difference from the differenced components (numerically safer than
    # var_a + var_b - 2 cov when the two models are nearly identical)
    var_d = np.var(a10 - b10, ddof=1) / m + np.var(a01 - b01, ddof=1) / k
    diff = auc_a - auc_b
    se = math.sqrt(max(float(var_d), 0.0))
    z, p = z_and_p(diff, se)
    return DeLongResult(
        float(auc_a),
        float(auc_b),
        float(var_a),
        float(var_b),
        float(cov_ab),
        diff,
        se,
        z,
        p,
    )


def z_and_p(diff: float, se: float) -> tuple[float, float]:
    if se > 0:
        z = diff / se
        return z, float(2.0 * ndtr(-abs(z)))
    if diff == 0:
        return 0.0, 1.0
    return math.copysign(math.inf, diff), 0.0


# ======================================================================================
# Counts-based metrics
# ======================================================================================


def _safe_div(num: Any, den: Any) -> Any:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def metric_from_counts(metric: str, tn: Any, fp: Any, fn: Any, tp: Any) -> Any:
    """accuracy / precision / recall / f1 / ctr from confusion counts (arrays allowed).

    ctr uses the decision "shown" as the positive prediction: tp / (tp + fp).
    Empty denominators give 0 (scikit-learn's zero_division=0).
    """
    if metric == "accuracy":
        return _safe_div(np.add(tp, tn), np.add(np.add(tp, tn), np.add(fp, fn)))
    if metric in ("precision", "ctr"):
        return _safe_div(tp, np.add(tp, fp))
    if metric == "recall":
        return _safe_div(tp, np.add(tp, fn))
    if metric == "f1":
        return _safe_div(np.multiply(tp, 2), np.add(np.multiply(tp, 2), np.add(fp, fn)))
    raise GateInputError(f"{metric!r} is not a counts metric")


def paired_cell_counts(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Counts of the 8 cells y*4 + a*2 + b for 0/1 arrays (one bincount pass)."""
    code = y.astype(np.intp) * 4 + a.astype(np.intp) * 2 + b
    return np.bincount(code, minlength=8)


def bootstrap_cell_counts(cells: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Paired row bootstrap of cell counts, drawn exactly as Multinomial(n, cells / n).

    Resampling n rows with replacement and counting them per cell has exactly this
    distribution, so this *is* the row bootstrap for any statistic of the cell counts.
    Returns an int array of shape (n_resamples, len(cells)).
    """
    cells = np.asarray(cells, dtype=np.int64)
    n = int(cells.sum())
    return rng.multinomial(n, cells / n, size=n_resamples)


def confusion_from_cells(cells: np.ndarray, model: str) -> tuple[Any, Any, Any, Any]:
    """(tn, fp, fn, tp) of model 'a' (candidate) or 'b' (baseline) from 8-cell counts
    (last axis), where a cell index is y*4 + a*2 + b."""
    c = np.asarray(cells)
    if model == "a":
        return (
            c[..., 0] + c[..., 1],
            c[..., 2] + c[..., 3],
            c[..., 4] + c[..., 5],
            c[..., 6] + c[..., 7],
        )
    return (
        c[..., 0] + c[..., 2],
        c[..., 1] + c[..., 3],
        c[..., 4] + c[..., 6],
        c[..., 5] + c[..., 7],
    )


def confusion_dict(cells: np.ndarray, model: str) -> dict[str, int]:
    """{"tn", "fp", "fn", "tp"} of model 'a' or 'b' from 8-cell counts, as ints."""
    tn, fp, fn, tp = confusion_from_cells(cells, model)
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


def _score_cut_for_top(s: np.ndarray, top_fraction: float) -> float:
    """Score of the k-th highest row, k = ceil(top_fraction * n) (at least 1)."""
    k = max(1, math.ceil(top_fraction * s.size - 1e-9))
    return float(np.partition(s, s.size - k)[s.size - k])


def ctr(
    y_true: Any,
    y_score: Any,
    *,
    threshold: float = 0.5,
    top_fraction: float | None = None,
) -> float:
    """Click-through rate: share of y_true == 1 among the rows the model would show.

    Shown: score >= threshold, or (with `top_fraction`) the top ceil(top_fraction * n)
    scores - all rows tied with the k-th highest score are shown too, so the shown set
    never depends on row order. 0 when nothing is shown.
    """
    y = as_binary("y_true", y_true)
    s = as_numeric("y_score", y_score)
    check_same_length(y_true=y, y_score=s)
    cut = threshold if top_fraction is None else _score_cut_for_top(s, top_fraction)
    shown = s >= cut
    return float(_safe_div(np.count_nonzero(y[shown]), np.count_nonzero(shown)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error (equals sklearn.metrics.mean_absolute_error)."""
    t = as_numeric("y_true", y_true)
    p = as_numeric("y_pred", y_pred)
    check_same_length(y_true=t, y_pred=p)
    return float(np.mean(np.abs(p - t)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error (equals sklearn.metrics.root_mean_squared_error)."""
    t = as_numeric("y_true", y_true)
    p = as_numeric("y_pred", y_pred)
    check_same_length(y_true=t, y_pred=p)
    return float(np.sqrt(np.mean((p - t) ** 2)))


# ======================================================================================
# Row bootstraps (small n) and large-n approximations
# ======================================================================================


def _chunks(n: int, n_resamples: int) -> list[int]:
    per = max(1, _CHUNK_ELEMENTS // max(n, 1))
    sizes = [per] * (n_resamples // per)
    if n_resamples % per:
        sizes.append(n_resamples % per)
    return sizes


def _row_bootstrap_studentized(
    err_a: np.ndarray, err_b: np.ndarray, metric: str, n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Paired row bootstrap of D = metric_a - metric_b (mae: err = |e|; rmse: err = e^2) and
    of its standard error in each resample (the same formulas as `_normal_error_diff`):
    returns (D*, se*), for the studentized interval."""
    n = err_a.size
    out_d, out_se = [], []
    diff = err_a - err_b
    for size in _chunks(n, n_resamples):
        idx = rng.integers(0, n, size=(size, n))
        if metric == "mae":
            d = diff[idx]
            out_d.append(d.mean(axis=1))
            out_se.append(d.std(axis=1, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(size))
            continue
        a, b = err_a[idx], err_b[idx]
        ma, mb = a.mean(axis=1), b.mean(axis=1)
        out_d.append(np.sqrt(ma) - np.sqrt(mb))
        if n < 2:
            out_se.append(np.zeros(size))
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ga = np.where(ma > 0, 0.5 / np.sqrt(ma), 0.0)
            gb = np.where(mb > 0, -0.5 / np.sqrt(mb), 0.0)
        a -= ma[:, None]
        b -= mb[:, None]
        # delta method: the variance of ga * a_i + gb * b_i over the resampled rows
        lin = ga[:, None] * a + gb[:, None] * b
        out_se.append(np.sqrt((lin * lin).sum(axis=1) / (n - 1) / n))
    return np.concatenate(out_d), np.concatenate(out_se)


def studentized_interval(
    estimate: float, se: float, boot: np.ndarray, boot_se: np.ndarray, confidence: float
) -> tuple[float, float]:
    """Bootstrap-t interval: t* = (D* - D) / se*, [D - t*_(1-a/2) se, D - t*_(a/2) se]
    (Efron & Tibshirani 1993, ch. 12; Hall 1988). With se = 0 the interval is the point.
    A resample with se* = 0 (all its rows alike: only with a handful of rows) has no t*:
    then the percentile interval of D* is used."""
    if se == 0:
        return estimate, estimate
    if not (boot_se > 0).all():
        return percentile_interval(boot, confidence)
    t = (boot - estimate) / boot_se
    alpha = 1.0 - confidence
    t_lo, t_hi = np.quantile(t, [alpha / 2.0, 1.0 - alpha / 2.0])
    return estimate - float(t_hi) * se, estimate - float(t_lo) * se


def _normal_error_diff(err_a: np.ndarray, err_b: np.ndarray, metric: str) -> float:
    """Standard error of (metric_a - metric_b) for mae (paired means) or rmse (delta)."""
    n = err_a.size
    if n < 2:
        return 0.0
    if metric == "mae":
        return float(np.std(err_a - err_b, ddof=1) / math.sqrt(n))
    ma, mb = float(err_a.mean()), float(err_b.mean())
    ga = 0.5 / math.sqrt(ma) if ma > 0 else 0.0
    gb = -0.5 / math.sqrt(mb) if mb > 0 else 0.0
    cov = np.cov(np.vstack([err_a, err_b]), ddof=1)
    var = ga * ga * cov[0, 0] + gb * gb * cov[1, 1] + 2 * ga * gb * cov[0, 1]
    return math.sqrt(max(float(var), 0.0) / n)


# ======================================================================================
# The gate
# ======================================================================================


@dataclass
class _Estimate:
    candidate: float
    baseline: float
    improvement: float  # > 0 means the candidate is better
    ci: tuple[float, float]  # interval of the improvement
    se: float
    method: str
    extra: dict[str, Any]


def _percentile_ci(boot: np.ndarray, confidence: float, metric: str) -> tuple[tuple[float, float], float, int]:
    finite = boot[np.isfinite(boot)]
    dropped = int(boot.size - finite.size)
    if finite.size < 0.5 * boot.size:
        raise GateInputError(
            f"{metric}: more than half of the bootstrap resamples were degenerate "
            "(a resample with one class only); the sample is too small"
        )
    se = float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0
    return percentile_interval(finite, confidence), se, dropped


def _estimate(
    metric: str,
    y_true: Any,
    y_score: Any,
    baseline_score: Any,
    *,
    y_pred: Any,
    threshold: float,
    top_fraction: float | None,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> tuple[_Estimate, int]:
    z = z_value(confidence)
    rng = np.random.default_rng(seed)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0

    if metric in LOWER_IS_BETTER:
        t = as_numeric("y_true", y_true)
        a = as_numeric("y_score", y_score)
        b = as_numeric("baseline_score", baseline_score)
        n = check_same_length(y_true=t, y_score=a, baseline_score=b)
        if metric == "mae":
            ea, eb = np.abs(a - t), np.abs(b - t)
            va, vb = float(ea.mean()), float(eb.mean())
        else:
            ea, eb = (a - t) ** 2, (b - t) ** 2
            va, vb = float(np.sqrt(ea.mean())), float(np.sqrt(eb.mean()))
        imp = sign * (va - vb)
        if n * n_resamples <= MAX_ROW_BOOTSTRAP_DRAWS:
            d_star, se_star = _row_bootstrap_studentized(ea, eb, metric, n_resamples, rng)
            d_lo, d_hi = studentized_interval(va - vb, _normal_error_diff(ea, eb, metric), d_star, se_star, confidence)
            ci = (-d_hi, -d_lo)  # of the improvement (lower is better)
            se = float(np.std(d_star, ddof=1)) if n_resamples > 1 else 0.0
            method = "studentized_paired_row_bootstrap"
        else:
            se = _normal_error_diff(ea, eb, metric)
            ci = (imp - z * se, imp + z * se)
            method = "normal_paired_mean" if metric == "mae" else "normal_delta_method"
        return _Estimate(va, vb, imp, ci, se, method, {}), n

    y = as_binary("y_true", y_true)
    if metric in ("auc", "ks"):
        a = as_numeric("y_score", y_score)
        b = as_numeric("baseline_score", baseline_score)
        n = check_same_length(y_true=y, y_score=a, baseline_score=b)
        n_pos, n_neg = _check_two_classes(y, metric.upper())
        extra: dict[str, Any] = {"n_positives": n_pos, "n_negatives": n_neg}
        if metric == "auc":
            d = _delong_paired(y, a, b)
            extra.update(
                var_candidate=d.var_a,
                var_baseline=d.var_b,
                covariance=d.cov_ab,
                correlation=(d.cov_ab / math.sqrt(d.var_a * d.var_b)) if d.var_a > 0 and d.var_b > 0 else None,
                z=d.z,
            )
            ci = (d.diff - z * d.se, d.diff + z * d.se)
            return _Estimate(d.auc_a, d.auc_b, d.diff, ci, d.se, "delong", extra), n
        ka = ks_with_cut(y, a)[0]
        kb = ks_with_cut(y, b)[0]
        ka_cf, kb_cf, ci, se, dropped, ks_extra = cross_fitted_ks_interval(y, a, b, confidence, n_resamples, rng)
        extra.update(ks_extra)
        extra.update(
            ks_candidate_cross_fitted=ka_cf,
            ks_baseline_cross_fitted=kb_cf,
            degenerate_resamples=dropped,
        )
        method = "cross_fitted_ks_cells_bootstrap"
        # the point estimate stays the full-sample difference (scipy's KS of both); the
        # interval is widened to contain it (only ever more conservative)
        ci = (min(ci[0], ka - kb), max(ci[1], ka - kb))
        return _Estimate(ka, kb, ka - kb, ci, se, method, extra), n

    # counts metrics: accuracy, precision, recall, f1, ctr
    extra = {}
    if metric == "ctr" and top_fraction is not None:
        a = as_numeric("y_score", y_score)
        b = as_numeric("baseline_score", baseline_score)
        check_same_length(y_true=y, y_score=a, baseline_score=b)
        cut_a = _score_cut_for_top(a, top_fraction)
        cut_b = _score_cut_for_top(b, top_fraction)
        pa = (a >= cut_a).astype(np.int8)
        pb = (b >= cut_b).astype(np.int8)
        extra.update(
            top_fraction=top_fraction,
            score_cut_candidate=cut_a,
            score_cut_baseline=cut_b,
        )
    else:
        pa = predictions_from(y_score, y_pred, threshold)
        if baseline_score is None:
            raise GateInputError("baseline_score is missing")
        pb = predictions_from(baseline_score, None, threshold, score_name="baseline_score")
        extra["threshold"] = threshold
    n = check_same_length(y_true=y, candidate=pa, baseline_score=pb)
    if metric == "recall" and not y.any():
        raise GateInputError("recall needs at least one positive in y_true (all rows are 0)")
    cells = paired_cell_counts(y, pa, pb)
    va = float(metric_from_counts(metric, *confusion_from_cells(cells, "a")))
    vb = float(metric_from_counts(metric, *confusion_from_cells(cells, "b")))
    boot = bootstrap_cell_counts(cells, n_resamples, rng)
    ba = metric_from_counts(metric, *confusion_from_cells(boot, "a"))
    bb = metric_from_counts(metric, *confusion_from_cells(boot, "b"))
    ci, se, _ = _percentile_ci(ba - bb, confidence, metric)
    method = "multinomial_cells_bootstrap"
    if metric in PAIRED_PROPORTION_METRICS:
        # Tango's paired score interval (paired_proportions.py); the bootstrap's SE
        # still gives the p-values
        e, f, g, h = _paired_table(cells, metric)
        _, lo, hi = tango_interval(f, g, e + f + g + h, confidence)
        ci = (lo, hi)
        method = "tango_paired_score"
        extra["paired_table"] = {"both": e, "candidate_only": f, "baseline_only": g, "neither": h}
    extra["confusion_candidate"] = confusion_dict(cells, "a")
    extra["confusion_baseline"] = confusion_dict(cells, "b")
    return _Estimate(va, vb, va - vb, ci, se, method, extra), n


def _paired_table(cells: np.ndarray, metric: str) -> tuple[int, int, int, int]:
    """(both right, candidate only, baseline only, neither) over the positives (recall)
    or all rows (accuracy), from 8-cell counts (index y*4 + a*2 + b)."""
    c = [int(v) for v in cells]
    if metric == "recall":
        return c[7], c[6], c[5], c[4]
    # accuracy: right means decision == y; y = 0 rows: right when the decision is 0
    return c[7] + c[0], c[6] + c[1], c[5] + c[2], c[4] + c[3]


@dataclass(frozen=True, kw_only=True)
class PerformanceParams(GateParams):
    gate = "performance"
    metric: str = checked(one_of(PERFORMANCE_METRICS, what="performance metric", lower=True))
    compare: str = checked(one_of(("baseline",)), default="baseline")
    mode: str = checked(one_of(PERFORMANCE_MODES), default="non_inferiority")
    confidence: float = checked(confidence_level, default=0.95)
    threshold: float = checked(fraction, default=0.5)  # decisions: score >= threshold
    bootstrap_samples: int = checked(bootstrap_count, default=1000)
    seed: int = 0
    top_fraction: float | None = None  # ctr only: show the top share of scores instead
    max_drop: float = 0.0  # non_inferiority: the margin
    min_improvement: float | None = None  # superiority: exactly one of these two
    min_relative_improvement: float | None = None

    def check_together(self) -> None:
        if self.metric == "ctr" and self.top_fraction is not None:
            if fraction("top_fraction", self.top_fraction) == 0:
                raise GateInputError("top_fraction must be greater than 0")
            self._set("top_fraction", float(self.top_fraction))
        else:
            self._set("top_fraction", None)
        if self.mode == "non_inferiority":
            self._set("max_drop", at_least(0)("max_drop", self.max_drop))
            return
        exactly_one(
            "superiority", min_improvement=self.min_improvement, min_relative_improvement=self.min_relative_improvement
        )
        for name in ("min_improvement", "min_relative_improvement"):
            if getattr(self, name) is not None:
                self._set(name, at_least(0, strict=True)(name, getattr(self, name)))


def performance_gate(
    y_true: Any, y_score: Any, baseline_score: Any = None, *, y_pred: Any = None, **spec: Any
) -> GateResult:
    """Gate `performance`: candidate (`y_score`, or `y_pred` for decisions) against the
    baseline (`baseline_score`) on the same rows of the predictions table.

    Evidence: `y_true` (0/1; numeric for mae/rmse), `y_score` (candidate score, or its
    prediction for mae/rmse), `baseline_score`, optional `y_pred` (candidate 0/1
    decisions; else `y_score >= threshold`; the baseline always uses
    `baseline_score >= threshold`). Parameters: `PerformanceParams`. See the module
    docstring for intervals and decisions.
    """
    params = PerformanceParams.from_spec(spec)
    if baseline_score is None:
        raise GateInputError(
            "compare=baseline needs a baseline_score column (the production model's scores "
            "on the same rows), but none was given"
        )
    est, n = _estimate(
        params.metric,
        y_true,
        y_score,
        baseline_score,
        y_pred=y_pred,
        threshold=params.threshold,
        top_fraction=params.top_fraction,
        confidence=params.confidence,
        n_resamples=params.bootstrap_samples,
        seed=params.seed,
    )
    return _decide(params, est, n)


def _decide(params: PerformanceParams, est: _Estimate, n: int) -> GateResult:
    metric = params.metric
    name = _DISPLAY[metric]
    lower_better = metric in LOWER_IS_BETTER
    _, p_equal = z_and_p(est.improvement, est.se)
    level = pct_level(params.confidence)
    head = f"{name} {fmt(est.candidate)} vs baseline {fmt(est.baseline)}"

    if params.mode == "non_inferiority":
        worse_word = "increase" if lower_better else "drop"
        value = -est.improvement
        lo, hi = -est.ci[1], -est.ci[0]
        limit = params.max_drop
        passed = hi <= limit
        p_margin = _one_sided_p(limit - value, est.se)
        hi_s, lim_s = fmt_vs(hi, limit)
        gain = " (a gain)" if value < 0 else ""
        text = (
            f"{head}: {worse_word} {fmt(value)}{gain}, {level} CI of the {worse_word} "
            f"[{fmt(lo)}, {fmt(hi)}], margin {fmt(limit)}: "
        )
        if passed:
            text += f"upper bound {hi_s} ≤ margin {lim_s}, not worse beyond the margin"
        else:
            text += f"upper bound {hi_s} exceeds the margin {lim_s}, so it may be worse beyond the margin"
        compared = worse_word
    else:
        value = est.improvement
        lo, hi = est.ci
        if params.min_improvement is not None:
            limit = params.min_improvement
            req_text = f"required at least {fmt(limit)}"
        else:
            limit = params.min_relative_improvement * abs(est.baseline)
            req_text = f"required at least {fmt(limit)} ({params.min_relative_improvement * 100:g}% of the baseline)"
        passed = lo >= limit
        p_margin = _one_sided_p(value - limit, est.se)
        lo_s, lim_s = fmt_vs(lo, limit)
        text = f"{head}: improvement {fmt(value)}, {level} CI of the improvement [{fmt(lo)}, {fmt(hi)}], {req_text}: "
        text += f"lower bound {lo_s} {'reaches the required' if passed else 'is below the required'} {lim_s}"
        compared = "improvement"

    details: dict[str, Any] = {
        "candidate": est.candidate,
        "baseline": est.baseline,
        "difference": est.candidate - est.baseline,
        "compared": compared,
        "ci": [lo, hi],
        "margin": limit,
        "mode": params.mode,
        "higher_is_better": not lower_better,
        "confidence": params.confidence,
        "ci_method": est.method,
        "se": est.se,
        "p_value_margin": p_margin,
    }
    if est.method != "delong":
        details["bootstrap_samples"] = params.bootstrap_samples
        details["seed"] = params.seed
    if params.mode == "superiority" and params.min_relative_improvement is not None:
        details["min_relative_improvement"] = params.min_relative_improvement
    details.update(est.extra)
    return judged(
        passed,
        text,
        metric=metric,
        value=value,
        threshold=limit,
        ci_low=lo,
        ci_high=hi,
        p_value=p_equal,
        n=n,
        details=details,
    )


def _one_sided_p(distance: float, se: float) -> float:
    """P-value of H0 'the margin is not cleared' given the signed distance by which the
    estimate clears it (> 0 means on the passing side)."""
    if se > 0:
        return float(ndtr(-distance / se))
    return 0.0 if distance > 0 else 1.0

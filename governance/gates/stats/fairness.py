"""Fairness gate: group rates of the model's decisions across sensitive attributes.

Definitions (the same as fairlearn.metrics, method="between_groups"):
* selection rate of a group: share of its rows with decision 1;
* demographic_parity_difference: max - min selection rate over the groups;
* disparate_impact_ratio (alias demographic_parity_ratio): min / max selection rate;
* equal_opportunity_difference: max - min true positive rate (TPR) over the groups;
* equalized_odds_difference: the larger of the TPR difference and the false positive
  rate (FPR) difference (fairlearn's default agg="worst_case").

Implementation: each sensitive column is turned into integer group codes (np.unique with
return_inverse for numeric and fixed-width string arrays; for object arrays - what pandas
and pyarrow hand over for strings - a hash-based factorisation, because np.unique on
object arrays sorts with Python comparisons and is ~6x slower); an intersection is the
mixed-radix combination of the codes. One np.bincount of group*4 + y_true*2 + y_pred gives
every group's confusion matrix in a single pass over the rows, from which all rates
follow. Missing values (None, NaN) in a sensitive column form their own group
"(missing)"; group labels are strings.

Rates that cannot be computed are excluded **per rate, not per group**: a group without
positives has no TPR but still has an FPR, which counts in the FPR difference of
equalized odds (and a group without negatives has no FPR but still a TPR). Each such rate
is named in the explanation and in `details.not_computable`. (fairlearn scores an
undefined rate as 0 with a warning; we leave it out instead, so on data where every rate
is defined the two agree exactly.) Equalized odds over an attribute where only one rate
can be compared between two groups is that rate's difference, said so.

Small groups: a group with fewer than `min_group_size` rows is *small*; so is, for equal
opportunity, a group without positives (it has no rate to compare). `small_groups`:
* warn (default): excluded from the metric and named in the explanation;
* ignore: excluded silently (still listed in `groups`);
* fail: the gate fails if any group is small (or has no rate to compare).
When fewer than two groups of an attribute remain, disparity cannot be measured and a
GateInputError is raised.

Several sensitive columns are evaluated one by one (plus their intersection when
`intersectional`); the gate value is the worst: the smallest ratio or largest difference.
Pure: numpy only, no Django, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.core.vocabulary import (
    FAIRNESS_DIFFERENCE_METRICS,
    FAIRNESS_METRICS,
    FAIRNESS_RATIO_METRICS,
    SMALL_GROUP_POLICIES,
)
from governance.gates.stats import fairness_intervals as fi
from governance.gates.stats.explain import fmt, fmt_vs, pct_level
from governance.gates.stats.outcome import GateInputError, GateResult, judged, undecided
from governance.gates.stats.params import (
    GateParams,
    checked,
    confidence_level,
    exactly_one,
    fraction,
    one_of,
    optional,
    whole_number,
)
from governance.gates.stats.threshold import as_binary, check_same_length, predictions_from

RATIO_METRICS = FAIRNESS_RATIO_METRICS
DIFFERENCE_METRICS = FAIRNESS_DIFFERENCE_METRICS
MISSING_LABEL = "(missing)"
MAX_DETAIL_ROWS = 500

_DISPLAY = {
    "disparate_impact_ratio": "Disparate impact ratio",
    "demographic_parity_ratio": "Demographic parity ratio",
    "demographic_parity_difference": "Demographic parity difference",
    "equal_opportunity_difference": "Equal opportunity difference",
    "equalized_odds_difference": "Equalized odds difference",
}


# ======================================================================================
# Group codes
# ======================================================================================


def _label(v: Any) -> str:
    if v is None:
        return MISSING_LABEL
    if isinstance(v, float) and math.isnan(v):
        return MISSING_LABEL
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return MISSING_LABEL
    return str(v)


def encode_groups(name: str, values: Any) -> tuple[list[str], np.ndarray]:
    """(labels, codes): the group labels (strings, in sorted value order) and each row's
    group index.

    Accepts numeric, bool, fixed-width str/bytes and object arrays (strings, numbers,
    None). None and NaN become the group "(missing)".
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise GateInputError(f"sensitive column {name!r}: expected a 1-D array, got {arr.shape}")
    if arr.size == 0:
        raise GateInputError(f"sensitive column {name!r} is empty")
    kind = arr.dtype.kind
    if kind == "O":
        items = arr.tolist()
        try:
            uniq = list(dict.fromkeys(items))
        except TypeError as exc:
            raise GateInputError(f"sensitive column {name!r} holds unhashable values ({exc})") from exc
        labels = sorted({_label(v) for v in uniq})
        pos = {lab: i for i, lab in enumerate(labels)}
        lookup = {v: pos[_label(v)] for v in uniq}
        codes = np.fromiter(map(lookup.__getitem__, items), dtype=np.intp, count=len(items))
        return labels, codes
    if kind in "USbiuf":
        uniq, codes = np.unique(arr, return_inverse=True)
        labels = [_label(u) for u in uniq.tolist()]
        codes = codes.astype(np.intp, copy=False).reshape(-1)
        if len(set(labels)) != len(labels):  # several NaN payloads -> one "(missing)"
            return _merge_labels(labels, codes)
        return labels, codes
    raise GateInputError(f"sensitive column {name!r} has unsupported dtype {arr.dtype}")


def _merge_labels(labels: list[str], codes: np.ndarray) -> tuple[list[str], np.ndarray]:
    merged = sorted(set(labels))
    pos = {lab: i for i, lab in enumerate(merged)}
    remap = np.array([pos[lab] for lab in labels], dtype=np.intp)
    return merged, remap[codes]


def intersect_groups(encoded: list[tuple[list[str], np.ndarray]], sep: str = " & ") -> tuple[list[str], np.ndarray]:
    """Intersection groups of several encoded columns (only combinations that occur)."""
    labels, codes = encoded[0]
    for other_labels, other_codes in encoded[1:]:
        k = len(other_labels)
        combined = codes * k + other_codes
        present = np.flatnonzero(np.bincount(combined, minlength=len(labels) * k))
        remap = np.full(len(labels) * k, -1, dtype=np.intp)
        remap[present] = np.arange(present.size)
        labels = [f"{labels[c // k]}{sep}{other_labels[c % k]}" for c in present.tolist()]
        codes = remap[combined]
    return labels, codes


# ======================================================================================
# Group rates
# ======================================================================================


def group_rates(y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Per-group n, positives, negatives, tn/fp/fn/tp and the rates, in one bincount.

    TPR is NaN for a group without positives, FPR NaN for a group without negatives.
    """
    c = np.bincount(codes * 4 + y_true.astype(np.intp) * 2 + y_pred, minlength=4 * n_groups).reshape(n_groups, 4)
    tn, fp, fn, tp = c[:, 0], c[:, 1], c[:, 2], c[:, 3]
    n = c.sum(axis=1)
    pos = fn + tp
    neg = tn + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        selection = (fp + tp) / n
        tpr = np.where(pos > 0, tp / pos, np.nan)
        fpr = np.where(neg > 0, fp / neg, np.nan)
        accuracy = (tp + tn) / n
    return {
        "n": n,
        "positives": pos,
        "negatives": neg,
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "selection_rate": selection,
        "tpr": tpr,
        "fpr": fpr,
        "accuracy": accuracy,
    }


def _canonical(metric: str) -> str:
    return "disparate_impact_ratio" if metric == "demographic_parity_ratio" else metric


def _spread(values: np.ndarray, mask: np.ndarray) -> tuple[float, int, int]:
    """(max - min, index of min, index of max) over mask."""
    idx = np.flatnonzero(mask)
    sub = values[idx]
    i_lo = int(idx[int(np.argmin(sub))])
    i_hi = int(idx[int(np.argmax(sub))])
    return float(values[i_hi] - values[i_lo]), i_lo, i_hi


_RATE_NAMES = {"selection_rate": "selection rate", "tpr": "TPR", "fpr": "FPR"}
_WHY_UNDEFINED = {"tpr": "no positives", "fpr": "no negatives"}


def metric_rates(metric: str) -> tuple[str, ...]:
    """The group rates a metric compares."""
    metric = _canonical(metric)
    if metric == "equal_opportunity_difference":
        return ("tpr",)
    if metric == "equalized_odds_difference":
        return ("tpr", "fpr")
    return ("selection_rate",)


def _defined(rate: str, rates: dict[str, np.ndarray]) -> np.ndarray:
    """Groups in which `rate` can be computed."""
    if rate == "tpr":
        return rates["positives"] > 0
    if rate == "fpr":
        return rates["negatives"] > 0
    return rates["n"] > 0


def _metric_over(metric: str, rates: dict[str, np.ndarray], included: np.ndarray) -> dict[str, Any]:
    """The disparity over the included groups and which groups define it. Each rate is
    compared over the included groups in which it is defined (exclusion per rate)."""
    metric = _canonical(metric)
    if metric not in FAIRNESS_METRICS:
        raise GateInputError(f"unknown fairness metric {metric!r}")
    spreads = {}
    for rate in metric_rates(metric):
        mask = included & _defined(rate, rates)
        if np.count_nonzero(mask) >= 2:
            spreads[rate] = _spread(rates[rate], mask)
    if not spreads:
        raise GateInputError(
            f"{_DISPLAY[metric]} cannot be computed: fewer than two compared groups with a defined "
            + " or ".join(_RATE_NAMES[r] for r in metric_rates(metric))
        )
    rate = max(spreads, key=lambda r: spreads[r][0])  # equalized odds: the worse of the two
    diff, i_lo, i_hi = spreads[rate]
    res: dict[str, Any] = {"value": diff, "rate": rate, "low": i_lo, "high": i_hi}
    if metric == "equalized_odds_difference":
        other = "fpr" if rate == "tpr" else "tpr"
        res["other"] = spreads[other][0] if other in spreads else None
    if metric == "disparate_impact_ratio":
        top = float(rates["selection_rate"][i_hi])
        if top == 0:
            raise GateInputError("disparate impact ratio is undefined: no compared group has any positive decision")
        res["value"] = float(rates["selection_rate"][i_lo]) / top
    return res


def _undefined(metric: str, rates: dict[str, np.ndarray]) -> np.ndarray:
    """Groups with no rate at all to compare for the metric (excluded like small groups)."""
    defined = np.zeros(rates["n"].shape, dtype=bool)
    for rate in metric_rates(metric):
        defined |= _defined(rate, rates)
    return ~defined


def fairness_metric(metric: str, y_true: Any, y_pred: Any, sensitive: Any) -> float:
    """The disparity over all groups of `sensitive` (one array, or a list of arrays whose
    intersection defines the groups, as fairlearn does with several sensitive features),
    without any small-group handling: comparable with fairlearn.metrics functions."""
    yt = as_binary("y_true", y_true)
    yp = as_binary("y_pred", y_pred)
    cols = sensitive if isinstance(sensitive, (list, tuple)) else [sensitive]
    encoded = [encode_groups(f"column {i}", c) for i, c in enumerate(cols)]
    labels, codes = encoded[0] if len(encoded) == 1 else intersect_groups(encoded)
    check_same_length(y_true=yt, y_pred=yp, sensitive=codes)
    rates = group_rates(yt, yp, codes, len(labels))
    included = ~_undefined(metric, rates)
    return _metric_over(metric, rates, included)["value"]


# ======================================================================================
# The gate
# ======================================================================================


@dataclass(frozen=True, kw_only=True)
class FairnessParams(GateParams):
    gate = "fairness"
    metric: str = checked(one_of(FAIRNESS_METRICS, what="fairness metric", lower=True))
    min: float | None = checked(optional(fraction), default=None)  # ratio metrics
    max: float | None = checked(optional(fraction), default=None)  # difference metrics
    intersectional: bool = False
    min_group_size: int = checked(whole_number(1), default=30)
    small_groups: str = checked(one_of(SMALL_GROUP_POLICIES), default="warn")
    threshold: float = checked(fraction, default=0.5)  # decisions: y_score >= threshold
    confidence: float = checked(confidence_level, default=0.95)  # of the simultaneous interval

    def check_together(self) -> None:
        given = exactly_one("fairness", min=self.min, max=self.max)
        if self.is_ratio and given == "max":
            raise GateInputError(f"{self.metric} is a ratio: give a min (e.g. 0.8), not a max")
        if not self.is_ratio and given == "min":
            raise GateInputError(f"{self.metric} is a difference: give a max (e.g. 0.1), not a min")

    @property
    def is_ratio(self) -> bool:
        return self.metric in RATIO_METRICS

    @property
    def limit(self) -> float:
        return self.min if self.is_ratio else self.max


def fairness_gate(
    y_true: Any, y_score: Any, sensitive: dict[str, Any], *, y_pred: Any = None, **spec: Any
) -> GateResult:
    """Gate `fairness` over the sensitive columns of the predictions table.

    Evidence: `y_true` (0/1), `y_score` (decisions `y_score >= threshold`) or `y_pred`
    (0/1, used when given), and `sensitive`: {column name: array} for the columns the
    policy names (strings, numbers or objects). Parameters: `FairnessParams`; ratio
    metrics take `min`, difference metrics take `max`. `value` is the worst disparity
    over the evaluated attributes (each column, plus the intersection of all of them when
    `intersectional`), `groups` holds every attribute's per-group n / selection rate /
    TPR / FPR, `n` the row count.
    """
    params = FairnessParams.from_spec(spec)
    if not isinstance(sensitive, dict) or not sensitive:
        raise GateInputError("fairness needs at least one sensitive column")
    yt = as_binary("y_true", y_true)
    yp = predictions_from(y_score, y_pred, params.threshold)
    n_rows = check_same_length(y_true=yt, y_pred=yp)
    encoded: dict[str, tuple[list[str], np.ndarray]] = {}
    for name, col in sensitive.items():
        encoded[str(name)] = encode_groups(str(name), col)
        if encoded[str(name)][1].size != n_rows:
            raise GateInputError(
                f"sensitive column {name!r} has {encoded[str(name)][1].size} rows, predictions have {n_rows}"
            )
    attributes = list(encoded.items())
    if params.intersectional and len(encoded) > 1:
        attributes.append((" & ".join(encoded), intersect_groups(list(encoded.values()))))

    groups: dict[str, Any] = {}
    summaries: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    insufficient: list[str] = []  # "attr=group (n=..)" for the fail policy
    calcs: list[dict[str, Any]] = []
    for attr, (labels, codes) in attributes:
        groups[attr], summary, calc = _evaluate_attribute(params, attr, labels, codes, yt, yp, rows)
        insufficient.extend(summary["excluded"])
        summaries.append(summary)
        calcs.append(calc)
    details: dict[str, Any] = {
        "band": {"min": params.limit} if params.is_ratio else {"max": params.limit},
        "threshold": params.threshold if y_pred is None else None,
        "min_group_size": params.min_group_size,
        "small_groups": params.small_groups,
        "attributes": summaries,
        "rows": rows,
        "rows_truncated": sum(len(g) for g in groups.values()) > len(rows),
    }
    result = {"metric": params.metric, "threshold": params.limit, "n": n_rows, "groups": groups, "details": details}
    name = _DISPLAY[params.metric]
    shown = ", ".join(insufficient[:3]) + (" ..." if len(insufficient) > 3 else "")
    if params.small_groups == "fail" and insufficient:
        text = (
            f"{name} not evaluated: {len(insufficient)} group(s) have fewer than "
            f"{params.min_group_size} rows or an undefined rate ({shown}) and small_groups is fail"
        )
        decidable = _decidable_over_all_groups(params, attributes, yt, yp)
        details["decidable_group_size"] = decidable
        return judged(False, f"{text}; {decidable['text']}", value=None, **result)

    comparisons = sum(fi.pair_count(_compared_counts(params, c)) for c in calcs)
    z = fi.simultaneous_z(params.confidence, comparisons)
    intervals = [_interval(params, s, c, z) for s, c in zip(summaries, calcs, strict=True)]
    decisions = [fi.decide(iv, is_ratio=params.is_ratio, limit=params.limit) for iv in intervals]
    for s, iv, decision in zip(summaries, intervals, decisions, strict=True):
        s.update(ci_low=iv.low, ci_high=iv.high, decision=decision, decidable_rows_per_group=iv.decidable)
    worst_i = _deciding(params, summaries, decisions)
    worst, iv = summaries[worst_i], intervals[worst_i]
    for i, s in enumerate(summaries):
        s["worst"] = i == worst_i
    value = float(worst["value"])
    status = fi.FAILED if fi.FAILED in decisions else fi.INCONCLUSIVE if fi.INCONCLUSIVE in decisions else fi.PASSED
    details.update(confidence=params.confidence, comparisons=comparisons, ci_method=_CI_METHOD[params.is_ratio])
    result.update(ci_low=iv.low, ci_high=iv.high, p_value=fi.p_value(intervals, comparisons))
    text = _explain(params, worst, value, n_attributes=len(summaries), comparisons=comparisons)
    details["decidable_group_size"] = _decidable(params, worst, iv, calcs[worst_i])
    if status != fi.INCONCLUSIVE:  # an inconclusive outcome says it with what would decide it
        text += f"; {details['decidable_group_size']['text']}"
    not_computable = [item for s in summaries for item in s["not_computable"]]
    details["not_computable"] = not_computable
    if not_computable:
        more = " ..." if len(not_computable) > 3 else ""
        text += f" (rates not computable, left out: {', '.join(not_computable[:3])}{more})"
    if params.small_groups == "warn" and insufficient:
        text += f" ({len(insufficient)} small group(s) excluded: {shown})"
    if status == fi.INCONCLUSIVE:
        needed = _needed(params, worst, iv, calcs[worst_i])
        return undecided(text + f"; {needed['text']} would decide it", needed, value=value, **result)
    return judged(status == fi.PASSED, text, value=value, **result)


_CI_METHOD = {True: "katz_log_ratio_bonferroni", False: "newcombe_hybrid_score_bonferroni"}


def _compared_counts(params: FairnessParams, calc: dict[str, Any] | None) -> list[int]:
    """How many groups each compared rate of one attribute has."""
    if calc is None:
        return []
    rates, included = calc["rates"], calc["included"]
    return [int(np.count_nonzero(included & _defined(r, rates))) for r in metric_rates(params.metric)]


def _interval(params: FairnessParams, summary: dict[str, Any], calc: dict[str, Any], z: float) -> fi.AttributeInterval:
    rates, included = calc["rates"], calc["included"]
    estimate = float(summary["value"])
    if params.is_ratio:
        x = rates["fp"] + rates["tp"]
        return fi.ratio_interval(x, rates["n"], np.flatnonzero(included), z, params.limit, estimate)
    by_rate = {}
    for rate in metric_rates(params.metric):
        idx = np.flatnonzero(included & _defined(rate, rates))
        if idx.size < 2:
            continue
        if rate == "selection_rate":
            by_rate[rate] = (rates["fp"] + rates["tp"], rates["n"], idx)
        elif rate == "tpr":
            by_rate[rate] = (rates["tp"], rates["positives"], idx)
        else:
            by_rate[rate] = (rates["fp"], rates["negatives"], idx)
    return fi.difference_interval(by_rate, rates["n"], z, params.limit, estimate)


def _deciding(params: FairnessParams, summaries: list[dict[str, Any]], decisions: list[str]) -> int:
    """The attribute the outcome reports: the worst failed one, else the worst inconclusive
    one, else the worst."""
    for wanted in (fi.FAILED, fi.INCONCLUSIVE, None):
        idx = [i for i, d in enumerate(decisions) if wanted is None or d == wanted]
        if idx:
            pick = min if params.is_ratio else max
            return pick(idx, key=lambda i: summaries[i]["value"])
    raise AssertionError("no attribute")


def _decidable(
    params: FairnessParams, summary: dict[str, Any], iv: fi.AttributeInterval, calc: dict[str, Any]
) -> dict[str, Any]:
    """The minimum group size the policy's threshold needs to be decidable at its confidence,
    at the observed rates of the deciding attribute: `details.decidable_group_size`, stated
    in every explanation (issue 12)."""
    attr = summary["attribute"]
    compared = calc["rates"]["n"][calc["included"]]
    smallest = int(compared.min()) if compared.size else None
    level = pct_level(params.confidence)
    out = {
        "rows_per_group": iv.decidable,
        "attribute": attr,
        "smallest_group": smallest,
        "confidence": params.confidence,
    }
    if iv.decidable is None:
        out["text"] = (
            f"no group size makes the threshold decidable at {level} at the observed rates of {attr} "
            "(the estimate sits on it)"
        )
    else:
        out["text"] = (
            f"deciding at {level} needs about {iv.decidable:,} rows in each compared group of {attr} "
            f"at the observed rates (smallest compared group: {smallest:,})"
        )
    return out


def _decidable_over_all_groups(
    params: FairnessParams, attributes: list[tuple[str, tuple[list[str], np.ndarray]]], yt: np.ndarray, yp: np.ndarray
) -> dict[str, Any]:
    """`_decidable` when small_groups is fail and the gate was not evaluated: over every
    group with a defined rate, small ones included, of the worst attribute."""
    found = []
    for attr, (labels, codes) in attributes:
        rates = group_rates(yt, yp, codes, len(labels))
        included = ~_undefined(params.metric, rates)
        if np.count_nonzero(included) >= 2:
            try:
                value = _metric_over(params.metric, rates, included)["value"]
            except GateInputError:  # e.g. a ratio with no positive decision at all
                continue
            found.append(
                ({"attribute": attr, "value": value}, {"rates": rates, "included": included, "labels": labels})
            )
    if not found:
        return {
            "rows_per_group": None,
            "confidence": params.confidence,
            "text": "the group size that would decide it cannot be estimated: fewer than two groups with a defined rate",
        }
    comparisons = sum(fi.pair_count(_compared_counts(params, c)) for _, c in found)
    z = fi.simultaneous_z(params.confidence, comparisons)
    pick = min if params.is_ratio else max
    summary, calc = pick(found, key=lambda f: f[0]["value"])
    return _decidable(params, summary, _interval(params, summary, calc, z), calc)


def _needed(
    params: FairnessParams, worst: dict[str, Any], iv: fi.AttributeInterval, calc: dict[str, Any]
) -> dict[str, Any]:
    """What data would decide an inconclusive attribute, at its observed rates."""
    attr, labels = worst["attribute"], calc["labels"]
    need = iv.needed
    if need is None:
        return {"rows": None, "text": "no sample size at the observed rates (the estimate sits on the threshold)"}
    group = labels[need["group"]]
    n_group = int(calc["rates"]["n"][need["group"]])
    return {
        "rows": need["rows"],
        "group": f"{attr}={group}",
        "rows_per_group": need["rows_per_group"],
        "text": (
            f"about {need['rows_per_group']:,} rows in each compared group of {attr} at the observed rates "
            f"(about {need['rows']:,} more in group '{group}', which has {n_group:,})"
        ),
    }


def _evaluate_attribute(
    params: FairnessParams,
    attr: str,
    labels: list[str],
    codes: np.ndarray,
    yt: np.ndarray,
    yp: np.ndarray,
    rows: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """(per-group info, summary, what the interval needs) of one sensitive attribute;
    appends detail rows to `rows`."""
    rates = group_rates(yt, yp, codes, len(labels))
    small = rates["n"] < params.min_group_size
    undefined = _undefined(params.metric, rates)
    included = ~(small | undefined)
    attr_groups: dict[str, Any] = {}
    excluded: list[str] = []
    not_computable: list[str] = []  # rates left out of a group that is compared on its others
    for i, lab in enumerate(labels):
        info = {
            "n": int(rates["n"][i]),
            "positives": int(rates["positives"][i]),
            "selection_rate": float(rates["selection_rate"][i]),
            "tpr": float(rates["tpr"][i]),
            "fpr": float(rates["fpr"][i]),
            "small": bool(small[i]),
            "included": bool(included[i]),
        }
        attr_groups[lab] = info
        missing = [r for r in metric_rates(params.metric) if not _defined(r, rates)[i]]
        if not included[i]:
            why = (
                f"n={info['n']}"
                if small[i]
                else f"{_RATE_NAMES[missing[0]]} not computable: {_WHY_UNDEFINED[missing[0]]}"
            )
            excluded.append(f"{attr}={lab} ({why})")
        elif missing:
            info["not_computable"] = missing
            not_computable.extend(f"{_RATE_NAMES[r]} for {attr}={lab} ({_WHY_UNDEFINED[r]})" for r in missing)
        if len(rows) < MAX_DETAIL_ROWS:
            rows.append({"attribute": attr, "group": lab, **info})
    summary: dict[str, Any] = {"attribute": attr, "excluded": excluded, "not_computable": not_computable, "value": None}
    if params.small_groups == "fail" and excluded:
        return attr_groups, summary, None
    if np.count_nonzero(included) < 2:
        raise GateInputError(
            f"sensitive attribute {attr!r}: fewer than two groups with at least "
            f"{params.min_group_size} rows and a defined rate ({len(labels)} group(s) in "
            "total), so groups cannot be compared"
        )
    res = _metric_over(params.metric, rates, included)
    summary.update(
        value=res["value"],
        rate=res["rate"],
        low_group=labels[res["low"]],
        low_rate=float(rates[res["rate"]][res["low"]]),
        high_group=labels[res["high"]],
        high_rate=float(rates[res["rate"]][res["high"]]),
    )
    if "other" in res:
        summary["other_difference"] = res["other"]
    return attr_groups, summary, {"rates": rates, "included": included, "labels": labels}


def _explain(
    params: FairnessParams, worst: dict[str, Any], value: float, *, n_attributes: int, comparisons: int
) -> str:
    rate_name = _RATE_NAMES[worst["rate"]]
    v_s, lim_s = fmt_vs(value, params.limit)
    where = f"for {worst['attribute']}"
    if n_attributes > 1:
        where += f" (deciding of {n_attributes} attributes)"
    text = (
        f"{_DISPLAY[params.metric]} {v_s} {where}: {rate_name} {fmt(worst['low_rate'])} for '{worst['low_group']}' "
        f"vs {fmt(worst['high_rate'])} for '{worst['high_group']}'"
    )
    if "other_difference" in worst:
        other = "FPR" if worst["rate"] == "tpr" else "TPR"
        if worst["other_difference"] is None:
            text += f" ({other} difference not computable: fewer than two groups with a defined {other})"
        else:
            text += f" ({other} difference {fmt(worst['other_difference'])})"
    lo, hi, decision = worst["ci_low"], worst["ci_high"], worst["decision"]
    method = "log method" if params.is_ratio else "Newcombe"
    text += (
        f"; {pct_level(params.confidence)} simultaneous interval [{fmt(lo)}, {fmt(hi)}] ({method}, "
        f"{comparisons} comparison{'s' if comparisons != 1 else ''})"
    )
    if params.is_ratio:
        if decision == fi.PASSED:
            return text + f": its lower bound {fmt_vs(lo, params.limit)[0]} meets the minimum {lim_s}"
        if decision == fi.FAILED:
            return text + f": its upper bound {fmt_vs(hi, params.limit)[0]} is below the minimum {lim_s}"
        return text + f" straddles the minimum {lim_s}: the data cannot tell"
    if decision == fi.PASSED:
        return text + f": its upper bound {fmt_vs(hi, params.limit)[0]} is within the maximum {lim_s}"
    if decision == fi.FAILED:
        return text + f": its lower bound {fmt_vs(lo, params.limit)[0]} exceeds the maximum {lim_s}"
    return text + f" straddles the maximum {lim_s}: the data cannot tell"

"""Every Plotly figure of the product is built here, once.

Pages embed `figure_html(fig)`: the figure as a JSON data block that static/js/charts.js
draws with Plotly.newPlot (no inline script, so the Content-Security-Policy needs no
'unsafe-inline'; plotly.js is vendored under static/vendor, never a CDN); the audit PDF (a later issue) renders the same figures to static SVG.
Gate figures read only the compact `details` of a stored gate outcome, never raw rows.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

PASS_COLOUR = "#1b7f3b"
FAIL_COLOUR = "#b42318"
INCONCLUSIVE_COLOUR = "#b45309"
NEUTRAL = "#475467"
ACCENT = "#1d4ed8"
BASELINE = "#98a2b3"

_LAYOUT = dict(
    template="plotly_white",
    height=260,
    margin=dict(l=50, r=20, t=40, b=40),
    font=dict(family="-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", size=12),
    showlegend=True,
    legend=dict(orientation="h", y=-0.25),
)


_CHART_CONFIG = {"displaylogo": False, "responsive": True}
# Inside <script type="application/json"> only "</script" could end the block early; escaping
# <, > and & as JSON \u escapes keeps the text inert and the JSON identical once parsed.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def figure_html(fig: go.Figure) -> str:
    """A chart placeholder and its figure as a JSON data block (never executed); static/js/charts.js
    draws every `.plotly-graph-div` on load and after htmx swaps."""
    figure = json.loads(fig.to_json())
    payload = json.dumps({"data": figure.get("data", []), "layout": figure.get("layout", {}), "config": _CHART_CONFIG})
    return (
        '<div class="plotly-chart"><div class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        f'<script type="application/json" class="plotly-figure">{payload.translate(_JSON_ESCAPES)}</script></div>'
    )


def _title(fig: go.Figure, text: str) -> go.Figure:
    fig.update_layout(**_LAYOUT, title=dict(text=text, x=0, font=dict(size=13)))
    return fig


# --- Gate outcome figures --------------------------------------------------------------


def status_colour(outcome: dict) -> str:
    """Green for passed, amber for inconclusive (the data cannot tell), red otherwise."""
    status = outcome.get("status")
    return PASS_COLOUR if status == "passed" else INCONCLUSIVE_COLOUR if status == "inconclusive" else FAIL_COLOUR


def performance_figure(outcome: dict) -> go.Figure | None:
    d = outcome.get("details") or {}
    ci = d.get("ci") or [outcome.get("ci_low"), outcome.get("ci_high")]
    value = outcome.get("value")
    margin = d.get("margin", outcome.get("threshold"))
    if value is None or ci[0] is None or ci[1] is None:
        return None
    compared = d.get("compared", "difference")
    colour = status_colour(outcome)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[value],
            y=[compared],
            mode="markers",
            marker=dict(size=12, color=colour),
            error_x=dict(
                type="data", symmetric=False, array=[ci[1] - value], arrayminus=[value - ci[0]], thickness=2, width=8
            ),
            name=f"{compared} with {int(round(100 * d.get('confidence', 0.95)))}% CI",
        )
    )
    if margin is not None:
        fig.add_vline(
            x=margin,
            line=dict(color=NEUTRAL, dash="dash"),
            annotation_text=f"limit {margin:.3g}",
            annotation_position="top",
        )
    fig.add_vline(x=0, line=dict(color=BASELINE, width=1))
    _title(fig, f"{outcome.get('metric', '').upper()}: {compared} vs limit")
    fig.update_layout(height=200, yaxis=dict(showticklabels=False))
    return fig


def fairness_figure(outcome: dict) -> go.Figure | None:
    d = outcome.get("details") or {}
    rows = d.get("rows") or []
    if not rows:
        return None
    metric = outcome.get("metric", "")
    # Equal opportunity compares true positive rates; equalized odds compares those and the
    # false positive rates; the parity and impact metrics compare selection rates.
    rate_key = "tpr" if ("opportunity" in metric or "equalized_odds" in metric) else "selection_rate"
    # Attribute over group, on two lines: five or more groups fit a card's width unrotated.
    labels = [f"{r['attribute']}<br>{r['group']}" for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[r.get(rate_key) for r in rows],
            marker_color=[ACCENT if r.get("included", True) else BASELINE for r in rows],
            name=rate_key.replace("_", " "),
            text=[f"n={r.get('n')}" for r in rows],
            textposition="outside",
        )
    )
    if "equalized_odds" in metric:
        fig.add_trace(
            go.Bar(x=labels, y=[r.get("fpr") for r in rows], marker_color="#f79009", name="false positive rate")
        )
    included = [r.get(rate_key) for r in rows if r.get("included", True) and r.get(rate_key) is not None]
    band = d.get("band") or {}
    if included and "min" in band:
        # Ratio metrics: every group's rate must be at least min × the highest rate.
        top = max(included)
        fig.add_hrect(y0=band["min"] * top, y1=top, fillcolor=PASS_COLOUR, opacity=0.08, line_width=0)
        fig.add_hline(y=band["min"] * top, line=dict(color=NEUTRAL, dash="dash"))
        line = f"dashed: {band['min']:g} × the highest rate"
    elif included and "max" in band:
        low = min(included)
        fig.add_hrect(y0=low, y1=low + band["max"], fillcolor=PASS_COLOUR, opacity=0.08, line_width=0)
        fig.add_hline(y=low + band["max"], line=dict(color=NEUTRAL, dash="dash"))
        line = f"dashed: the lowest rate + {band['max']:g}"
    else:
        line = ""
    # Short title lines (a card is about 330 px wide): what is drawn, the limit, the estimate.
    title = f"{rate_key.replace('_', ' ')} per group" + (" (grey: excluded)" if len(included) < len(rows) else "")
    if line:
        title += f"<br>{line}"
    lo, hi, value = outcome.get("ci_low"), outcome.get("ci_high"), outcome.get("value")
    if lo is not None and hi is not None and value is not None:
        level = f"{d['confidence'] * 100:g}% " if d.get("confidence") else ""
        kind = "ratio" if metric.endswith("ratio") else "difference"  # the card's header names the metric
        title += f"<br>{kind} {value:.3f}, {level}simultaneous CI [{lo:.3f}, {hi:.3f}]"
    _title(fig, title)
    fig.update_layout(
        barmode="group",
        yaxis=dict(rangemode="tozero"),
        xaxis=dict(tickangle=0, tickfont=dict(size=10)),
        margin=dict(l=50, r=20, t=70 if title.count("<br>") >= 2 else 55, b=50),
        showlegend=len(fig.data) > 1,  # one trace: the title names it
    )
    return fig


def latency_figure(outcome: dict) -> go.Figure | None:
    d = outcome.get("details") or {}
    hist = d.get("histogram")
    if not hist:
        return None
    edges = hist["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=False)]
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=hist["counts"],
            width=[b - a for a, b in zip(edges[:-1], edges[1:], strict=False)],
            marker_color=ACCENT,
            name="requests",
        )
    )
    p = d.get("percentile", 95)
    if d.get("percentile_value") is not None:
        fig.add_vline(
            x=d["percentile_value"],
            line=dict(color=status_colour(outcome)),
            annotation_text=f"p{p:g} {d['percentile_value']:.1f} ms",
        )
    if outcome.get("threshold") is not None:
        fig.add_vline(
            x=outcome["threshold"],
            line=dict(color=NEUTRAL, dash="dash"),
            annotation_text=f"limit {outcome['threshold']:g} ms",
            annotation_position="bottom right",
        )
    _title(
        fig,
        "Latency distribution (ms)" + (f"; {hist.get('overflow', 0)} above the axis" if hist.get("overflow") else ""),
    )
    fig.update_layout(showlegend=False)
    return fig


def drift_figure(outcome: dict) -> go.Figure | None:
    d = outcome.get("details") or {}
    rows = d.get("features") or []
    if not rows:
        return None
    method = d.get("method", "ks")
    if method == "psi":
        values = [r.get("psi") for r in rows]
        limit, label = d.get("psi_max"), "PSI"
    else:
        values = [r.get("p_value") for r in rows]
        limit, label = d.get("max_p_value_drift"), "p-value"
    fig = go.Figure(
        go.Bar(
            x=[r["feature"] for r in rows],
            y=values,
            marker_color=[FAIL_COLOUR if r.get("drifted") else PASS_COLOUR for r in rows],
            text=[r.get("test", "") for r in rows],
            name=label,
        )
    )
    if limit is not None:
        fig.add_hline(y=limit, line=dict(color=NEUTRAL, dash="dash"), annotation_text=f"{label} limit {limit:g}")
    _title(fig, f"Drift per feature ({label}; red: drifted)")
    fig.update_layout(showlegend=False)
    return fig


def threshold_figure(outcome: dict) -> go.Figure | None:
    value, lo, hi, limit = outcome.get("value"), outcome.get("ci_low"), outcome.get("ci_high"), outcome.get("threshold")
    if value is None or lo is None or hi is None:
        return None
    colour = status_colour(outcome)
    fig = go.Figure(
        go.Scatter(
            x=[value],
            y=[outcome.get("metric")],
            mode="markers",
            marker=dict(size=12, color=colour),
            error_x=dict(type="data", symmetric=False, array=[hi - value], arrayminus=[value - lo]),
            name="estimate with its confidence interval",
        )
    )
    if limit is not None:
        fig.add_vline(x=limit, line=dict(color=NEUTRAL, dash="dash"), annotation_text=f"limit {limit:g}")
    _title(fig, f"{outcome.get('metric')} vs limit")
    fig.update_layout(
        height=200,
        yaxis=dict(showticklabels=False),
        xaxis=dict(range=[min(lo, limit or lo) - 0.02, min(1.0, max(hi, limit or hi) + 0.02)]),
    )
    return fig


GATE_FIGURES = {
    "performance": performance_figure,
    "cost_weighted": performance_figure,
    "fairness": fairness_figure,
    "latency": latency_figure,
    "drift": drift_figure,
    "threshold_metric": threshold_figure,
}


def gate_figure(outcome: dict | None) -> go.Figure | None:
    if not outcome or outcome.get("status") in ("pending", "running", "bypassed"):
        return None
    builder = GATE_FIGURES.get(outcome.get("type", ""))
    try:
        return builder(outcome) if builder else None
    except (KeyError, TypeError, ValueError):
        return None  # an outcome without chart data shows its numbers only


def gate_chart_html(outcome: dict | None) -> str:
    """The chart of a gate outcome. A pure function of the outcome (stored JSON), so each
    worker process builds it once per outcome: plotly's validation costs 10-80 ms a figure
    and the request page shows several on every view (bench/RESULTS.md, issue 14)."""
    if not outcome:
        return ""
    try:
        key = json.dumps(outcome, sort_keys=True)
        plain = json.loads(key) == outcome  # what the cached builder reads is exactly this outcome
    except (TypeError, ValueError):
        plain = False
    if not plain:  # not plain JSON (tuples, numpy numbers, NaN): built each time
        fig = gate_figure(outcome)
        return figure_html(fig) if fig is not None else ""
    return _gate_chart_html_of_json(key)


@lru_cache(maxsize=256)
def _gate_chart_html_of_json(outcome_json: str) -> str:
    fig = gate_figure(json.loads(outcome_json))
    return figure_html(fig) if fig is not None else ""


# --- Evidence figures ------------------------------------------------------------------


def score_distribution_figure(
    y_true: np.ndarray, y_score: np.ndarray, *, by: np.ndarray | None = None, by_name: str = ""
) -> go.Figure:
    fig = go.Figure()
    if by is None:
        for label, name in ((0, "y_true = 0"), (1, "y_true = 1")):
            fig.add_trace(
                go.Histogram(x=y_score[y_true == label], name=name, opacity=0.6, nbinsx=40, histnorm="probability")
            )
        _title(fig, "Score distribution per class")
    else:
        for group in np.unique(by)[:8]:
            fig.add_trace(
                go.Histogram(
                    x=y_score[by == group], name=f"{by_name}={group}", opacity=0.5, nbinsx=40, histnorm="probability"
                )
            )
        _title(fig, f"Score distribution per {by_name}")
    fig.update_layout(barmode="overlay")
    return fig


def calibration_figure(y_true: np.ndarray, y_score: np.ndarray, bins: int = 10) -> go.Figure:
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(y_score, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    mean_score = np.bincount(idx, weights=y_score, minlength=bins) / np.maximum(counts, 1)
    frac_pos = np.bincount(idx, weights=y_true, minlength=bins) / np.maximum(counts, 1)
    keep = counts > 0
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dash", color=BASELINE), name="perfectly calibrated"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=mean_score[keep],
            y=frac_pos[keep],
            mode="lines+markers",
            marker_color=ACCENT,
            name="model",
            text=[f"n={c}" for c in counts[keep]],
        )
    )
    _title(fig, "Calibration (mean score vs observed positive rate)")
    fig.update_layout(
        xaxis=dict(range=[0, 1], title="mean predicted score"), yaxis=dict(range=[0, 1], title="observed positive rate")
    )
    return fig


def latency_histogram_figure(latency_ms: np.ndarray, percentile: float = 95) -> go.Figure:
    p = float(np.percentile(latency_ms, percentile))
    fig = go.Figure(go.Histogram(x=latency_ms, nbinsx=50, marker_color=ACCENT, name="requests"))
    fig.add_vline(x=p, line=dict(color=FAIL_COLOUR), annotation_text=f"p{percentile:g} = {p:.1f} ms")
    _title(fig, "Latency (ms)")
    fig.update_layout(showlegend=False)
    return fig


def feature_comparison_figure(name: str, reference: np.ndarray, current: np.ndarray) -> go.Figure:
    fig = go.Figure()
    if reference.dtype.kind in "fiub" and current.dtype.kind in "fiub":
        fig.add_trace(
            go.Histogram(
                x=reference[np.isfinite(reference)], name="reference", opacity=0.55, nbinsx=40, histnorm="probability"
            )
        )
        fig.add_trace(
            go.Histogram(
                x=current[np.isfinite(current)], name="current", opacity=0.55, nbinsx=40, histnorm="probability"
            )
        )
        fig.update_layout(barmode="overlay")
    else:
        cats = sorted(set(reference.tolist()) | set(current.tolist()), key=str)[:30]
        ref_share = [float(np.mean(reference == c)) for c in cats]
        cur_share = [float(np.mean(current == c)) for c in cats]
        fig.add_trace(go.Bar(x=[str(c) for c in cats], y=ref_share, name="reference"))
        fig.add_trace(go.Bar(x=[str(c) for c in cats], y=cur_share, name="current"))
    _title(fig, f"{name}: reference vs current")
    return fig


CHART_SAMPLE_ROWS = 200_000


def _sample(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = len(next(iter(values.values()))) if values else 0
    if n <= CHART_SAMPLE_ROWS:
        return values
    idx = np.random.default_rng(0).choice(n, CHART_SAMPLE_ROWS, replace=False)
    return {k: v[idx] for k, v in values.items()}


def artifact_charts_html(artifact, columnar_path: str) -> list[str]:
    """Figures for the evidence page of one artifact (sampled to keep pages light)."""
    from governance.evidence.parsers import load_columns
    from governance.evidence.selectors import artifact_latest
    from governance.evidence.services import columnar_local_path

    out: list[str] = []
    if artifact.kind == "predictions":
        numeric = {"y_true", "y_score", "baseline_score", "y_pred"}
        sensitive = [c for c in artifact.columns if c not in numeric][:3]
        cols = _sample(load_columns(columnar_path, ["y_true", "y_score", *sensitive]))
        y_true, y_score = cols["y_true"], cols["y_score"]
        classification = set(np.unique(y_true).tolist()) <= {0.0, 1.0}
        if classification:
            out.append(figure_html(score_distribution_figure(y_true, y_score)))
            out.append(figure_html(calibration_figure(y_true, y_score)))
            for name in sensitive:
                out.append(figure_html(score_distribution_figure(y_true, y_score, by=cols[name], by_name=name)))
    elif artifact.kind == "latency":
        cols = load_columns(columnar_path, ["latency_ms"])
        out.append(figure_html(latency_histogram_figure(cols["latency_ms"])))
    elif artifact.kind in ("feature_reference", "feature_current"):
        other_kind = "feature_current" if artifact.kind == "feature_reference" else "feature_reference"
        other = artifact_latest(artifact.version, other_kind)
        if other is not None and other.blob.columnar_file:
            shared = [c for c in artifact.columns if c in other.columns][:12]
            mine = _sample(load_columns(columnar_path, shared))
            theirs = _sample(load_columns(columnar_local_path(other.blob), shared))
            ref, cur = (mine, theirs) if artifact.kind == "feature_reference" else (theirs, mine)
            for name in shared:
                out.append(figure_html(feature_comparison_figure(name, ref[name], cur[name])))
    return out


# --- Production history ------------------------------------------------------------------

CHANGE_COLOURS = {"standard": ACCENT, "emergency": "#b91c1c", "experiment": "#6d28d9", "rollback": "#c2410c"}


def production_timeline_figure(tenures, *, at=None, now=None) -> go.Figure | None:
    """Which version served when: one bar per production tenure (approvals.history.Tenure:
    version, since, until, change_type), coloured by change type, open tenures drawn to
    `now`, a dashed line at the asked time `at`. None when nothing was ever in production."""
    if not tenures:
        return None
    end = now or max(t.until or t.since for t in tenures)
    fig = go.Figure()
    for change in dict.fromkeys(t.change_type for t in tenures):
        mine = [t for t in tenures if t.change_type == change]
        fig.add_trace(
            go.Bar(
                orientation="h",
                y=[f"v{t.version}" for t in mine],
                base=[t.since.isoformat() for t in mine],
                x=[max(((t.until or end) - t.since).total_seconds() * 1000, 1) for t in mine],
                marker=dict(color=CHANGE_COLOURS.get(change, NEUTRAL)),
                name=change,
                customdata=[
                    [t.since.strftime("%Y-%m-%d %H:%M"), t.until.strftime("%Y-%m-%d %H:%M") if t.until else "now"]
                    for t in mine
                ],
                hovertemplate="%{y}: %{customdata[0]} → %{customdata[1]}<extra>" + change + "</extra>",
            )
        )
    versions = sorted({t.version for t in tenures})
    _title(fig, "Production versions over time")
    fig.update_layout(
        barmode="overlay",
        height=max(180, 90 + 34 * len(versions)),
        xaxis=dict(type="date"),
        yaxis=dict(categoryorder="array", categoryarray=[f"v{v}" for v in versions], title=None),
        margin=dict(l=50, r=20, t=50, b=50),
        legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom", title=dict(text="change type: ")),
    )
    if at is not None:
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=at.isoformat(),
            x1=at.isoformat(),
            y0=0,
            y1=1,
            line=dict(color=FAIL_COLOUR, width=2, dash="dash"),
        )
        fig.add_annotation(
            x=at.isoformat(),
            y=1,
            xref="x",
            yref="paper",
            text="asked time",
            showarrow=False,
            yanchor="bottom",
            font=dict(color=FAIL_COLOUR, size=11),
        )
    return fig

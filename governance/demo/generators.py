"""Generated, realistic evidence for the demo models (the scenarios name these builders).

Deterministic (seeded) so the demo looks the same on every machine. Each builder returns
the bytes of a file as a pipeline would upload it.
"""

from __future__ import annotations

import io
import json

import numpy as np


def _csv(header: list[str], columns: list, fmt: list[str]) -> bytes:
    buf = io.StringIO()
    buf.write(",".join(header) + "\n")
    for row in zip(*columns, strict=True):
        buf.write(",".join(f.format(v) for f, v in zip(fmt, row, strict=True)) + "\n")
    return buf.getvalue().encode()


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _credit_arrays(*, seed: int, n: int, candidate_skill: float, baseline_skill: float, bias: float):
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], n)
    age = rng.choice(["18-29", "30-49", "50+"], n, p=[0.3, 0.45, 0.25])
    y = (rng.random(n) < 0.35).astype(int)
    latent = rng.normal(size=n)
    shift = np.where(gender == "female", bias, 0.0)
    score = _logistic(candidate_skill * (2 * y - 1) + latent + shift)
    base = _logistic(baseline_skill * (2 * y - 1) + 0.7 * latent + 0.7 * rng.normal(size=n))
    return y, score, base, gender, age


def credit_predictions(
    *, seed: int, n: int = 6000, candidate_skill: float = 1.25, baseline_skill: float = 1.2, bias: float = 0.0
) -> bytes:
    """Default-risk scores with gender and age band; `bias` lowers one group's approval."""
    y, score, base, gender, age = _credit_arrays(
        seed=seed, n=n, candidate_skill=candidate_skill, baseline_skill=baseline_skill, bias=bias
    )
    return _csv(
        ["y_true", "y_score", "baseline_score", "gender", "age_band"],
        [y, score, base, gender, age],
        ["{}", "{:.6f}", "{:.6f}", "{}", "{}"],
    )


def recommender_predictions(*, seed: int, n: int = 8000, lift: float = 0.3) -> bytes:
    """Impressions with clicks; scores of the candidate and the production ranker."""
    rng = np.random.default_rng(seed)
    clicked = (rng.random(n) < 0.08).astype(int)
    latent = rng.normal(size=n)
    score = _logistic(-2.0 + (1.2 + lift) * clicked * 2 + latent)
    base = _logistic(-2.0 + 1.2 * clicked * 2 + 0.8 * latent + 0.6 * rng.normal(size=n))
    return _csv(["y_true", "y_score", "baseline_score"], [clicked, score, base], ["{}", "{:.6f}", "{:.6f}"])


def imaging_predictions(*, seed: int, n: int = 4000, sensitivity: float = 0.97, specificity: float = 0.93) -> bytes:
    """Locked clinical test set: finding present (1) or not, triage score."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    flagged = np.where(y == 1, rng.random(n) < sensitivity, rng.random(n) > specificity)
    score = np.where(flagged, rng.uniform(0.55, 0.99, n), rng.uniform(0.01, 0.45, n))
    site = rng.choice(["site-a", "site-b", "site-c"], n)
    return _csv(["y_true", "y_score", "site"], [y, score, site], ["{}", "{:.4f}", "{}"])


def eta_predictions(*, seed: int, n: int = 5000, candidate_noise: float = 2.0, baseline_noise: float = 2.1) -> bytes:
    """Trip durations in minutes (regression): truth, candidate and production estimates."""
    rng = np.random.default_rng(seed)
    truth = rng.gamma(4.0, 4.0, n) + 3
    common = rng.normal(0, 1.0, n)
    cand = truth + common + rng.normal(0, candidate_noise, n)
    base = truth + common + rng.normal(0, baseline_noise, n)
    return _csv(["y_true", "y_score", "baseline_score"], [truth, cand, base], ["{:.2f}", "{:.2f}", "{:.2f}"])


def fraud_predictions(*, seed: int, n: int = 20000, recall_gain: float = 0.6) -> bytes:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.02).astype(int)
    latent = rng.normal(size=n)
    score = _logistic(-3.2 + (3.1 + recall_gain) * y + latent)
    base = _logistic(-3.2 + 3.1 * y + 0.8 * latent + 0.6 * rng.normal(size=n))
    return _csv(["y_true", "y_score", "baseline_score"], [y, score, base], ["{}", "{:.6f}", "{:.6f}"])


def latency_samples(*, seed: int, n: int = 5000, median_ms: float = 40.0, error_rate: float = 0.001) -> bytes:
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(np.log(median_ms), 0.35, n)
    err = (rng.random(n) < error_rate).astype(int)
    return _csv(["latency_ms", "error"], [lat, err], ["{:.2f}", "{}"])


def feature_table(*, seed: int, n: int = 4000, shift: float = 0.0) -> bytes:
    """Trip features; `shift` moves the distance distribution (drift)."""
    rng = np.random.default_rng(seed)
    distance = rng.gamma(3.0, 2.0 + shift, n)
    hour = rng.integers(0, 24, n)
    city = rng.choice(["lisbon", "porto", "faro"], n, p=[0.6, 0.3, 0.1])
    return _csv(["distance_km", "hour", "city"], [distance, hour, city], ["{:.3f}", "{}", "{}"])


def credit_features(*, seed: int, n: int = 4000, shift: float = 0.0) -> bytes:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5 + shift, 0.4, n)
    utilisation = rng.beta(2, 5, n)
    region = rng.choice(["north", "south", "east", "west"], n)
    return _csv(["income", "utilisation", "region"], [income, utilisation, region], ["{:.0f}", "{:.4f}", "{}"])


def sbom(components: list[tuple[str, str, str]]) -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "metadata": {"component": {"type": "application", "name": "model-service", "version": "1.0"}},
            "components": [
                {
                    "type": "library",
                    "name": name,
                    "version": version,
                    "purl": f"pkg:pypi/{name}@{version}",
                    "licenses": [{"license": {"id": lic}}],
                }
                for name, version, lic in components
            ],
        },
        indent=2,
    ).encode()


STANDARD_COMPONENTS = [
    ("numpy", "2.4.6", "BSD-3-Clause"),
    ("scikit-learn", "1.9.1", "BSD-3-Clause"),
    ("xgboost", "2.1.0", "Apache-2.0"),
    ("pandas", "3.1.1", "BSD-3-Clause"),
]


def cost_report(*, total: float, predictions: int) -> bytes:
    return json.dumps({"total_cost": total, "predictions": predictions, "currency": "EUR"}).encode()


def credit_metrics(
    *, seed: int, n: int = 6000, candidate_skill: float = 1.25, baseline_skill: float = 1.2, bias: float = 0.0
) -> bytes:
    """What the team reports: AUC and KS of the very hold-out predictions it uploads (the same
    seed and skill as `credit_predictions`), so the declared and recomputed numbers agree."""
    y, score, _, _, _ = _credit_arrays(
        seed=seed, n=n, candidate_skill=candidate_skill, baseline_skill=baseline_skill, bias=bias
    )
    score = np.round(score, 6)  # as written to the CSV the gates read
    positives, negatives = score[y == 1], score[y == 0]
    order = np.argsort(np.concatenate([positives, negatives]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    auc = (ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2) / (
        len(positives) * len(negatives)
    )
    grid = np.sort(score)
    ks = np.max(
        np.abs(
            np.searchsorted(np.sort(positives), grid, "right") / len(positives)
            - np.searchsorted(np.sort(negatives), grid, "right") / len(negatives)
        )
    )
    return metrics(auc=round(float(auc), 3), ks=round(float(ks), 3))


def metrics(**values: float) -> bytes:
    return json.dumps(values, indent=2).encode()


def model_binary(name: str, version: int) -> bytes:
    """Stand-in for a serialized model file, so the registered artifact sha256 can be verified."""
    return f"demo model weights for {name} v{version}\n".encode() * 64


def documents_for(
    model_name: str, purpose: str, *, human_in_the_loop: str, complete: bool = True
) -> dict[str, dict[str, str]]:
    docs = {
        "model_card": {
            "intended_use": purpose,
            "out_of_scope_uses": "Any use outside the documented population and decision.",
            "training_data": f"{model_name} training snapshot, documented in the data catalogue.",
            "evaluation_data": "Out-of-time holdout, never used for tuning.",
            "metrics": "See the evaluation report; gates recompute them from the uploaded predictions.",
            "ethical_considerations": "Protected attributes are not model inputs; parity is measured per group.",
            "limitations": "Performance degrades under distribution shift; drift is monitored.",
            "human_in_the_loop": human_in_the_loop,
            "feature_use_constraints": "Only features approved by the data governance board.",
            "owners_contacts": "owner@demo.example (model owner), mlops@demo.example",
        },
        "evaluation_report": {
            "summary": "Candidate compared with the production model on the same rows.",
            "datasets": "Holdout of the last two quarters.",
            "metrics": "Primary and guardrail metrics with 95% confidence intervals.",
            "comparison_to_baseline": "Non-inferior on the primary metric; see gate results.",
            "known_failure_modes": "Rare segments with few examples.",
        },
        "monitoring_plan": {
            "monitored_signals": "Input drift (PSI per feature), prediction distribution, latency, error rate.",
            "thresholds": "PSI > 0.2 on any top feature; p95 latency above budget for 15 minutes.",
            "alert_recipients": "mlops on-call, model owner",
            "review_cadence": "Weekly dashboard review, quarterly model review.",
        },
        "rollback_plan": {
            "triggers": "Guardrail KPI breach in canary, p95 latency > 200 ms for 15 minutes, error rate > 0.5%.",
            "steps": "Use 'Roll back' on the model page; the previous production version is restored atomically.",
            "target_version": "The version this one replaced.",
            "owner": "MLOps on-call",
        },
    }
    if not complete:
        docs["monitoring_plan"]["alert_recipients"] = ""
        docs["rollback_plan"]["triggers"] = ""
    return docs

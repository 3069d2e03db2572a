"""Calibration of the gate decisions at the margin (issue 12): a simulation harness.

For each gate with an interval decision that issue 12 touched, draw data whose truth sits
exactly at the policy's threshold, run the real gate function (governance.gates.stats) many
times with fixed seeds, and report:

* pass rate: the share of runs that passed. At the margin the truth does not meet the
  threshold strictly, so every pass is a wrong pass; target <= nominal + 1 point, where
  nominal is the one-sided level (1 - confidence)/2 = 2.5% at the default 95%;
* inconclusive and failed rates;
* coverage: the share of runs whose reported interval [ci_low, ci_high] contains the true
  value (target: within 1.5 points of the nominal 95%, or above it where the method is
  conservative by construction - order statistics, Bonferroni - which the table says).

Not part of the test suite (it takes minutes); the suite has fast seeded versions of the
defects (tests/gates/stats/test_latency.py, test_fairness.py). Run:

    .venv/bin/python bench/calibration.py                # print the table
    .venv/bin/python bench/calibration.py --write        # and append it to bench/RESULTS.md
    .venv/bin/python bench/calibration.py --reps 500     # quicker, noisier

Monte Carlo standard error of a rate p over R runs: sqrt(p (1 - p) / R) (0.35 point at
2.5% with R = 2,000).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.gates.stats.fairness import fairness_gate  # noqa: E402
from governance.gates.stats.latency import latency_gate  # noqa: E402

Z95 = 1.6448536269514722  # the 95th percentile of N(0, 1)
NOMINAL_PASS = 0.025
NOMINAL_COVERAGE = 0.95


@dataclass
class Row:
    gate: str
    scenario: str
    n: str
    reps: int
    passed: float
    inconclusive: float
    failed: float
    coverage: float | None
    note: str = ""
    wrong: str = "passed"  # the wrong decision in this scenario: passed at the margin, failed for a fair model

    def verdict(self) -> str:
        ok_pass = (self.passed if self.wrong == "passed" else self.failed) <= NOMINAL_PASS + 0.01
        if self.coverage is None:
            return "met" if ok_pass else "NOT met"
        ok_cov = self.coverage >= NOMINAL_COVERAGE - 0.015
        if ok_pass and ok_cov:
            return "met" + (" (conservative)" if self.coverage > NOMINAL_COVERAGE + 0.015 else "")
        return "NOT met"


def _rates(statuses: list[str]) -> tuple[float, float, float]:
    r = len(statuses)
    return statuses.count("passed") / r, statuses.count("inconclusive") / r, statuses.count("failed") / r


def latency_rows(reps: int, sizes: list[int]) -> list[Row]:
    """p95 of lognormal(3.5, 0.5) latencies, limit = the true p95; use_upper_confidence_bound."""
    truth = math.exp(3.5 + 0.5 * Z95)
    rows = []
    for n in sizes:
        rng = np.random.default_rng(1000 + n)
        statuses, covered, counted = [], 0, 0
        for _ in range(reps):
            res = latency_gate(rng.lognormal(3.5, 0.5, n), max_ms=truth, use_upper_confidence_bound=True)
            statuses.append(res.status)
            if res.ci_low is not None and res.ci_high is not None:
                counted += 1
                covered += res.ci_low <= truth <= res.ci_high
        p, i, f = _rates(statuses)
        cov = covered / counted if counted else None
        note = "upper bound needs n >= 72: inconclusive" if n < 72 else "order statistics: coverage >= nominal"
        rows.append(Row("latency p95 (upper bound)", "true p95 = max_ms", str(n), reps, p, i, f, cov, note))
    return rows


def _groups(rng: np.random.Generator, sizes: list[int], rates: list[float]) -> tuple[np.ndarray, np.ndarray]:
    g = np.repeat(np.arange(len(sizes)), sizes).astype(str)
    p = (rng.random(g.size) < np.repeat(rates, sizes)).astype(int)
    return g, p


def _fairness_runs(reps, seed, sizes, rates, truth, **spec) -> tuple[list[str], float]:
    rng = np.random.default_rng(seed)
    statuses, covered = [], 0
    for _ in range(reps):
        g, p = _groups(rng, sizes, rates)
        y = rng.integers(0, 2, g.size)
        res = fairness_gate(y, None, {"g": g}, y_pred=p, **spec)
        statuses.append(res.status)
        covered += res.ci_low <= truth <= res.ci_high
    return statuses, covered / reps


def fairness_rows(reps: int, sizes: list[int]) -> list[Row]:
    rows = []
    for n in sizes:  # disparate impact ratio exactly 0.8 between two groups
        st, cov = _fairness_runs(reps, 2000 + n, [n, n], [0.40, 0.32], 0.8, metric="disparate_impact_ratio", min=0.8)
        rows.append(
            Row(
                "fairness disparate_impact_ratio",
                "2 groups, 0.40 vs 0.32 (ratio 0.8 = min)",
                f"2 x {n}",
                reps,
                *_rates(st),
                cov,
                "log method",
            )
        )
    for n in (50, 500):  # the fair model: 8 groups, all 40%; truth 1.0
        st, cov = _fairness_runs(reps, 3000 + n, [n] * 8, [0.4] * 8, 1.0, metric="disparate_impact_ratio", min=0.8)
        p, i, f = _rates(st)
        rows.append(
            Row(
                "fairness disparate_impact_ratio",
                "fair: 8 groups, all 0.40 (ratio 1)",
                f"8 x {n}",
                reps,
                p,
                i,
                f,
                cov,
                "not at the margin: here a failure is the wrong decision; Bonferroni over 28 pairs",
                "failed",
            )
        )
    for n in sizes:  # demographic parity difference exactly 0.1
        st, cov = _fairness_runs(
            reps, 4000 + n, [n, n], [0.40, 0.30], 0.1, metric="demographic_parity_difference", max=0.1
        )
        rows.append(
            Row(
                "fairness demographic_parity_difference",
                "2 groups, 0.40 vs 0.30 (diff 0.1 = max)",
                f"2 x {n}",
                reps,
                *_rates(st),
                cov,
                "Newcombe",
            )
        )
    return rows


def equal_opportunity_rows(reps: int, sizes: list[int]) -> list[Row]:
    """TPR 0.80 vs 0.70 (difference 0.1 = max), half the rows positive."""
    rows = []
    for n in sizes:
        rng = np.random.default_rng(5000 + n)
        statuses, covered = [], 0
        for _ in range(reps):
            g = np.repeat(["a", "b"], n)
            y = np.tile([0, 1], n)
            tpr = np.where(g == "a", 0.8, 0.7)
            p = np.where(y == 1, rng.random(2 * n) < tpr, rng.random(2 * n) < 0.2).astype(int)
            res = fairness_gate(y, None, {"g": g}, y_pred=p, metric="equal_opportunity_difference", max=0.1)
            statuses.append(res.status)
            covered += res.ci_low <= 0.1 <= res.ci_high
        rows.append(
            Row(
                "fairness equal_opportunity_difference",
                "TPR 0.80 vs 0.70 (diff 0.1 = max)",
                f"2 x {n}",
                reps,
                *_rates(statuses),
                covered / reps,
                "Newcombe on TPR",
            )
        )
    return rows


def equalized_odds_rows(reps: int, sizes: list[int]) -> list[Row]:
    """TPR 0.80 vs 0.70, FPR 0.20 in both (equalized odds difference 0.1 = max)."""
    rows = []
    for n in sizes:
        rng = np.random.default_rng(6000 + n)
        statuses, covered = [], 0
        for _ in range(reps):
            g = np.repeat(["a", "b"], n)
            y = np.tile([0, 1], n)
            tpr = np.where(g == "a", 0.8, 0.7)
            p = np.where(y == 1, rng.random(2 * n) < tpr, rng.random(2 * n) < 0.2).astype(int)
            res = fairness_gate(y, None, {"g": g}, y_pred=p, metric="equalized_odds_difference", max=0.1)
            statuses.append(res.status)
            covered += res.ci_low <= 0.1 <= res.ci_high
        rows.append(
            Row(
                "fairness equalized_odds_difference",
                "TPR 0.80 vs 0.70, FPR 0.20 both (0.1 = max)",
                f"2 x {n}",
                reps,
                *_rates(statuses),
                covered / reps,
                "Newcombe, TPR and FPR pairs (K = 2)",
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    out = [
        "| gate | truth | n | runs | passed | inconclusive | failed | coverage | target | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        cov = f"{r.coverage:.1%}" if r.coverage is not None else "-"
        out.append(
            f"| {r.gate} | {r.scenario} | {r.n} | {r.reps} | {r.passed:.1%} | {r.inconclusive:.1%} | "
            f"{r.failed:.1%} | {cov} | {r.verdict()} | {r.note} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    rows = latency_rows(args.reps, [50, 100, 200, 1000, 5000])
    rows += fairness_rows(args.reps, [50, 200, 1000, 5000])
    rows += equal_opportunity_rows(args.reps, [200, 1000, 5000])
    rows += equalized_odds_rows(args.reps, [200, 1000, 5000])
    elapsed = time.perf_counter() - started
    text = table(rows)
    print(text)
    print(f"\n{elapsed:.0f} s")
    if args.write:
        import numpy
        import scipy

        machine = (
            f"nproc {os.cpu_count()}, {platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}"
        )
        section = (
            f"\n## Gate calibration at the margin ({date.today().isoformat()})\n\n"
            f"Produced by `bench/calibration.py --reps {args.reps}` in {elapsed:.0f} s (see its docstring). "
            f"Machine: {machine}. Confidence 0.95 everywhere: nominal pass rate at the margin 2.5% "
            f"(target <= 3.5%), nominal coverage 95% (target >= 93.5%; above 96.5% is marked conservative). "
            f"Monte Carlo SE of a 2.5% rate over {args.reps} runs: "
            f"{math.sqrt(0.025 * 0.975 / args.reps):.2%}.\n\n{text}\n"
        )
        path = Path(__file__).resolve().parent / "RESULTS.md"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(section)
        print(f"appended to {path}")


if __name__ == "__main__":
    main()

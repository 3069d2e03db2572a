"""Calibration of the gate decisions at the margin (issue 12): a simulation harness.

For every gate that decides with an interval or a test, draw data whose truth sits
exactly at the policy's threshold, run the real gate function (governance.gates.stats)
many times with fixed seeds, and report:

* pass rate: the share of runs that passed. At the margin the truth does not meet the
  threshold strictly, so every pass is a wrong pass; target <= nominal + 1 point, where
  nominal is the one-sided level (1 - confidence)/2 = 2.5% at the default 95% (for the
  drift test, whose wrong decision is a failure with no drift: its level, 5%);
* inconclusive and failed rates;
* coverage: the share of runs whose reported interval [ci_low, ci_high] contains the true
  value (target: within 1.5 points of the nominal 95%, or above it where the method is
  conservative by construction - order statistics, Bonferroni, Clopper-Pearson - which
  the table says).

Not part of the test suite (it takes minutes); the suite has fast seeded versions of the
defects (tests/gates/stats/test_latency.py, test_fairness.py, test_performance.py,
test_threshold.py, test_cost.py). Run:

    .venv/bin/python bench/calibration.py                # print the table (every group)
    .venv/bin/python bench/calibration.py --write        # and append it to bench/RESULTS.md
    .venv/bin/python bench/calibration.py --reps 500     # quicker, noisier
    .venv/bin/python bench/calibration.py --only performance   # performance, non-inferiority
    .venv/bin/python bench/calibration.py --only superiority drift   # several groups

Groups (--only): issue12 (latency p95, fairness), performance (non-inferiority of auc, ks,
accuracy, precision, recall, f1), superiority (every metric in superiority mode, absolute
and relative; mae and rmse: regression), ctr_regression (non-inferiority of ctr), threshold (every
threshold metric, min and max), error_rate, cost_weighted,
drift, drift_bonferroni, latency_p99, regression (mae and rmse in both modes). Gates
that decide by a fixed rule (cost, robustness, reproducibility,
security, documentation, drift with method psi, point-estimate modes) are not simulated:
bench/RESULTS.md says why.

This file is the command line and the report (the table, --write); the simulations are in
bench/calibration_gates.py (the table's row, the run helpers, every gate but performance)
and bench/calibration_performance.py (the performance gate, both modes).

Monte Carlo standard error of a rate p over R runs: sqrt(p (1 - p) / R) (0.35 point at
2.5% with R = 2,000).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings
from datetime import date
from pathlib import Path

from calibration_gates import (
    Row,
    cost_weighted_rows,
    drift_bonferroni_rows,
    drift_rows,
    error_rate_rows,
    fairness_rows,
    latency_p99_rows,
    latency_rows,
    more_threshold_metric_rows,
    threshold_metric_rows,
    tpr_gap_rows,
)
from calibration_performance import ctr_and_regression_rows, performance_rows, regression_rows, superiority_rows


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


# --only groups beyond the first two (issue12: latency p95 and fairness; performance:
# non-inferiority of auc, ks, accuracy, precision, recall, f1), which main() runs itself
GROUPS = {
    "superiority": superiority_rows,
    "ctr_regression": ctr_and_regression_rows,
    "threshold": lambda reps: threshold_metric_rows(reps) + more_threshold_metric_rows(reps),
    "error_rate": error_rate_rows,
    "cost_weighted": cost_weighted_rows,
    "drift": drift_rows,
    "latency_p99": latency_p99_rows,
    "drift_bonferroni": drift_bonferroni_rows,
    "regression": regression_rows,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("all", "issue12", "performance", *GROUPS),
        default=["all"],
        help="row groups to run (several allowed); 'all' is every group",
    )
    args = parser.parse_args()
    only = set(args.only)
    if "all" in only:
        only = {"issue12", "performance", *GROUPS}
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    rows = []
    if "issue12" in only:
        rows += latency_rows(args.reps, [50, 100, 200, 1000, 5000])
        rows += fairness_rows(args.reps, [50, 200, 1000, 5000])
        rows += tpr_gap_rows(args.reps, [200, 1000, 5000])
    if "performance" in only:
        rows += performance_rows(args.reps)
    for name, make in GROUPS.items():
        if name in only:
            rows += make(args.reps)
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

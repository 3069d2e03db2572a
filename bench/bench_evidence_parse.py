"""Peak memory and time of `parse_evidence` on a large predictions table.

Run:  .venv/bin/python bench/bench_evidence_parse.py [--rows N] [--format csv|gzip|zip|parquet]
      .venv/bin/python bench/bench_evidence_parse.py --all     (every format, 1M rows)
      .venv/bin/python bench/bench_evidence_parse.py --features 2000 --rows 5000

By default the file is a 1,000,000-row predictions CSV (y_true, y_score, baseline_score,
y_pred, gender, age_band); --features N makes a feature_reference table of N numeric
columns instead. A first subprocess generates the file into a temporary directory; a
second, fresh subprocess parses it and reports its peak RSS (getrusage ru_maxrss), so the
generator's memory is not counted. `rss_after_imports_mb` is the interpreter with numpy,
pyarrow and the parser imported: `parse_delta_mb` is what parsing itself costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GENERATE = textwrap.dedent(
    """
    import gzip, shutil, sys, zipfile
    import numpy as np
    path, rows, features, fmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = np.random.default_rng(7)
    chunk = 100_000 if not features else max(100, 2_000_000 // features)
    csv_path = path if fmt == "csv" else path + ".tmp.csv"
    with open(csv_path, "w", encoding="utf-8") as out:
        if features:
            out.write(",".join(f"feature_{i}" for i in range(features)) + "\\n")
        else:
            out.write("y_true,y_score,baseline_score,y_pred,gender,age_band\\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            if features:
                block = rng.random((n, features)).round(4)
                out.write("\\n".join(",".join(map(str, row)) for row in block) + "\\n")
                continue
            y_true = rng.integers(0, 2, n)
            y_score = np.clip(y_true * 0.3 + rng.random(n) * 0.7, 0, 1)
            baseline = np.clip(y_true * 0.25 + rng.random(n) * 0.75, 0, 1)
            y_pred = (y_score >= 0.5).astype(int)
            gender = rng.choice(["F", "M", "X"], n)
            age = rng.choice(["18-25", "26-40", "41-65", "65+", ""], n)
            lines = [
                f"{a},{b:.6f},{c:.6f},{d},{e},{f}\\n"
                for a, b, c, d, e, f in zip(y_true, y_score, baseline, y_pred, gender, age)
            ]
            out.write("".join(lines))
    if fmt == "gzip":
        with open(csv_path, "rb") as raw, gzip.open(path, "wb", 6) as packed:
            shutil.copyfileobj(raw, packed)
    elif fmt == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(csv_path, "predictions.csv")
    elif fmt == "parquet":
        import pyarrow.csv, pyarrow.parquet
        table = pyarrow.csv.read_csv(csv_path)
        pyarrow.parquet.write_table(table, path)  # pyarrow's default row groups (1Mi rows)
    if csv_path != path:
        import os
        os.remove(csv_path)
    """
)

PARSE = textwrap.dedent(
    """
    import json, resource, sys, time
    from governance.evidence.parsers import parse_evidence
    import pyarrow as pa
    kind, path, name, out = sys.argv[1:5]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = parse_evidence(kind, path, original_name=name, columnar_dir=out)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "rows": result.row_count,
        "columns": len(result.columns),
        "seconds": round(elapsed, 2),
        "rss_after_imports_mb": round(base / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "parse_delta_mb": round((peak - base) / 1024, 1),
        "arrow_pool_peak_mb": round(pa.default_memory_pool().max_memory() / 1024**2, 1),
        "pandas_imported": "pandas" in sys.modules,
    }))
    """
)

SUFFIX = {"csv": ".csv", "gzip": ".csv.gz", "zip": ".zip", "parquet": ".parquet"}


def run(rows: int, fmt: str, features: int) -> dict:
    workdir = tempfile.mkdtemp(prefix="bench-evidence-")
    try:
        name = ("features" if features else "predictions") + SUFFIX[fmt]
        path = os.path.join(workdir, name)
        subprocess.run([sys.executable, "-c", GENERATE, path, str(rows), str(features), fmt], check=True)
        kind = "feature_reference" if features else "predictions"
        completed = subprocess.run(
            [sys.executable, "-c", PARSE, kind, path, name, os.path.join(workdir, "out")],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=ROOT),
        )
        report = json.loads(completed.stdout)
        report["file"] = name
        report["file_mb"] = round(os.path.getsize(path) / 1024**2, 1)
        return report
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=sorted(SUFFIX), default="csv")
    parser.add_argument("--features", type=int, default=0, help="N numeric feature columns")
    parser.add_argument("--all", action="store_true", help="csv, gzip, zip and parquet")
    args = parser.parse_args()
    formats = ["csv", "gzip", "zip", "parquet"] if args.all else [args.format]
    for fmt in formats:
        print(json.dumps(run(args.rows, fmt, args.features)))


if __name__ == "__main__":
    main()

"""Peak memory of the web process while it accepts a 1,000,000-row predictions CSV.

Starts gunicorn (one sync worker) on a throw-away SQLite database, uploads the file with
curl through the real multipart endpoint, and reads the worker's VmHWM (peak resident set)
from /proc. Target (issue: evidence packs): under 300 MB.

    .venv/bin/python bench/bench_evidence_upload.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def write_predictions(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    with open(path, "w") as fh:
        fh.write("y_true,y_score,baseline_score,y_pred,gender,age_band\n")
        chunk = 200_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            y = rng.integers(0, 2, n)
            s = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
            b = np.clip(0.25 * y + rng.random(n) * 0.75, 0, 1)
            g = rng.choice(["f", "m"], n)
            a = rng.choice(["18-30", "31-50", "51+"], n)
            lines = [f"{y[i]},{s[i]:.6f},{b[i]:.6f},{int(s[i] >= 0.5)},{g[i]},{a[i]}\n" for i in range(n)]
            fh.writelines(lines)


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = dict(
        os.environ,
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        MEDIA_ROOT=str(work / "media"),
        VAR_DIR=str(work),
        ALLOWED_HOSTS="127.0.0.1",
    )
    py = sys.executable
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    setup = (
        "from tests.factories import *; from governance.accounts.models import ApiToken;"
        "t=make_team('bench'); u=make_user('bench'); grant(u,'model_owner',team=t);"
        "m=make_model('bench-model', team=t); make_version(m,u); print(ApiToken.issue(user=u)[1])"
    )
    token = (
        subprocess.run(
            [py, "manage.py", "shell", "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    csv_path = work / "predictions.csv"
    started = time.monotonic()
    write_predictions(csv_path, args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"wrote {args.rows:,} rows ({size_mb:.1f} MB) in {time.monotonic() - started:.1f}s")

    gunicorn = subprocess.Popen(
        [
            str(Path(py).parent / "gunicorn"),
            "governance.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            "1",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if (
                subprocess.run(["curl", "-fs", "-o", "/dev/null", f"http://127.0.0.1:{args.port}/login/"]).returncode
                == 0
            ):
                break
            time.sleep(0.2)
        children = Path(f"/proc/{gunicorn.pid}/task/{gunicorn.pid}/children").read_text().split()
        worker_pid = int(children[0])
        before = vm_hwm_kb(worker_pid)
        started = time.monotonic()
        result = subprocess.run(
            [
                "curl",
                "-s",
                "-w",
                "\n%{http_code}",
                "-H",
                f"Authorization: Token {token}",
                "-F",
                "kind=predictions",
                "-F",
                f"file=@{csv_path}",
                f"http://127.0.0.1:{args.port}/api/v1/models/bench-model/versions/1/evidence/",
            ],
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        status = result.stdout.strip().splitlines()[-1]
        peak = vm_hwm_kb(worker_pid)
    finally:
        gunicorn.terminate()
        gunicorn.wait(10)
    print(f"HTTP {status}; upload + validation + Parquet copy took {elapsed:.1f}s")
    print(
        f"web worker peak RSS (VmHWM): {peak / 1024:.0f} MB (after start-up, before the upload: {before / 1024:.0f} MB)"
    )
    print("target: < 300 MB ->", "met" if peak / 1024 < 300 else "MISSED")
    return 0 if status == "201" and peak / 1024 < 300 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Load test of the pages and API lists people hit most, against gunicorn on loopback.

What it does, all by itself, and then stops (fixed duration per run, HTTP timeouts, and its
gunicorn and database removed in a `finally`):

1. creates its own PostgreSQL database (bench_load_<random> on the local server; never the
   developer's or the tests' databases) or, with --sqlite, a SQLite file in a temp directory;
2. migrates it, runs `manage.py seed_demo` (the demo teams, people, policies and worked
   examples), then adds --models extra models spread over the demo teams (a production
   version on a quarter of them; a draft version with a promotion request on each: open
   on one in --open-every (5), awaiting two reviewers, one slot already signed on half of
   those; the others closed, promoted or rejected) and --audit-events extra audit events on
   the chain (written with audit_record, so the chain stays valid). `lead` sees every open
   request in their inbox, as a reviewer of every team;
3. starts gunicorn as `make run` does (scripts/run.sh: `gunicorn governance.wsgi:application`,
   sync workers; --workers 2 by default: one per core) on a free loopback port with DEBUG off
   (production settings: no query log, compressed static storage);
4. signs in as `lead` (a reviewer in every demo team, so the inbox is full) through the login
   form with its CSRF token for the pages, and issues an API token (ApiToken.issue) for the API;
5. for each target and each concurrency (5 and 20 clients, each a thread with its own
   httpx.Client issuing requests back to back) runs --duration seconds and records
   throughput, p50/p95/max latency, errors (non-200 or exceptions), and server CPU time per
   request: the CPU seconds (utime + stime from /proc/<pid>/stat) of the gunicorn workers
   and, separately, of the PostgreSQL backends serving this database (pg_stat_activity),
   read before and after the run and divided by the requests completed (also the load
   generator's own CPU per request: it shares the 2 cores with the server).

    .venv/bin/python bench/load_test.py [--duration 5] [--workers 2] [--clients 5,20]

It prints a Markdown table (pasted into bench/RESULTS.md, "Load test (issue 14)") and the
load average while it ran; the machine is shared, so latency figures depend on it.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
TIMEOUT = 30.0  # seconds per HTTP request
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"

SEED_EXTRA = r"""
import os
from django.contrib.auth import get_user_model
from django.db import transaction
from governance.accounts.models import ApiToken
from governance.audit.services import audit_record
from django.db.models import Count
from governance.approvals.models import PromotionRequest
from governance.audit.models import AuditEvent
from governance.core.vocabulary import OPEN_REQUEST_STATUSES
from governance.gates.models import GateRun
from governance.registry.models import ModelVersion, RegisteredModel
from governance.accounts.models import Team
from tests.factories import bulk_decisions, bulk_grant, bulk_models, bulk_requests, bulk_versions
User = get_user_model()
n_models, n_events = int(os.environ["LOAD_MODELS"]), int(os.environ["LOAD_AUDIT_EVENTS"])
OPEN_EVERY = int(os.environ["LOAD_OPEN_EVERY"])
teams = list(Team.objects.order_by("name"))
owner, lead, peer = (User.objects.get(username=u) for u in ("owner", "lead", "mlops"))
per_team = max(1, n_models // len(teams))
for team in teams:
    models = bulk_models(per_team, team=team, prefix=f"load-{team.name}-", start=0)
    bulk_grant(lead, "auditor", models[::3])
    bulk_versions(models[::4], owner, version=1, stage="production")
    drafts = bulk_versions(models, owner, version=2)
    two_reviewers = [{"role": "reviewer", "count": 2}]
    open_ = bulk_requests(drafts[::OPEN_EVERY], owner, required_approvals=two_reviewers)
    bulk_decisions(open_[::2], peer)
    closed = [d for i, d in enumerate(drafts) if i % OPEN_EVERY]
    bulk_requests(closed[::2], owner, required_approvals=two_reviewers, status="promoted")
    bulk_requests(closed[1::2], owner, required_approvals=two_reviewers, status="rejected")
names = list(RegisteredModel.objects.values_list("name", flat=True))
with transaction.atomic():
    for i in range(n_events):
        audit_record(actor=(owner, lead, peer)[i % 3], action="auth.login")
print("TOKEN", ApiToken.issue(user=lead)[1])
print("VOLUMES", "teams", Team.objects.count(), "models", RegisteredModel.objects.count(),
      "versions", ModelVersion.objects.count(), "requests", PromotionRequest.objects.count(),
      "open_requests", PromotionRequest.objects.filter(status__in=OPEN_REQUEST_STATUSES).count(),
      "audit_events", AuditEvent.objects.count(), "gate_runs", GateRun.objects.count())
# the richest demo request (most gate runs and decisions) and its model
r = (PromotionRequest.objects.exclude(version__model__name__startswith="load-")
     .annotate(n=Count("gate_runs", distinct=True) + Count("decisions", distinct=True)).order_by("-n", "pk").first())
print("IDS", r.pk, r.version.model.name)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@dataclass
class Run:
    target: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    late: int = 0  # completed after the window
    web_cpu: float = 0.0
    db_cpu: float = 0.0
    client_cpu: float = 0.0
    first_error: str = ""

    @property
    def ok(self) -> int:
        return len(self.latencies)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))] * 1000


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="bench-load-"))
        self.db_name = f"bench_load_{secrets.token_hex(4)}"
        if args.sqlite:
            db_url = f"sqlite:///{self.work / 'db.sqlite3'}"
        else:
            db_url = f"postgres://postgres@127.0.0.1:5432/{self.db_name}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            ENV_FILE="",  # never the checkout's .env (the developer's database)
            DEBUG="false",
            SECRET_KEY="load-test-" + secrets.token_urlsafe(32),
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            SECURE_HSTS_SECONDS="0",
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=self.base,
            DATABASE_URL=db_url,
            CELERY_TASK_DEFAULT_QUEUE=f"bench-load-{self.db_name}",
            CACHE_KEY_PREFIX=f"bench-load-{self.db_name}",
            EMAIL_BACKEND="locmem",
            MEDIA_ROOT=str(self.work / "media"),
            VAR_DIR=str(self.work / "var"),
            STATIC_ROOT=str(self.work / "static"),
        )
        self.gunicorn: subprocess.Popen | None = None
        self.db_created = False

    # --- setup ---------------------------------------------------------------------------
    def manage(self, *argv: str) -> str:
        result = subprocess.run(
            [PY, "manage.py", *argv],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return result.stdout

    def create_db(self) -> None:
        if self.args.sqlite:
            return
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self.db_created = True

    def drop_db(self) -> None:
        if not self.db_created:
            return
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def clear_redis(self) -> None:
        """The tasks seed_demo queued for a worker (none runs here) and this run's cache keys."""
        import redis

        client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        prefix = self.env["CELERY_TASK_DEFAULT_QUEUE"]
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)

    def seed(self) -> tuple[str, dict[str, int], dict[str, str]]:
        t0 = time.monotonic()
        self.manage("migrate", "--noinput", "-v0")
        out = self.manage("seed_demo", "--gate-timeout", "1")
        waiting = sum(1 for line in out.splitlines() if line.startswith("awaiting gates"))
        print(f"  migrate + seed_demo: {time.monotonic() - t0:.0f}s ({waiting} demo requests await gates: no worker)")
        t0 = time.monotonic()
        self.env.update(
            LOAD_MODELS=str(self.args.models),
            LOAD_AUDIT_EVENTS=str(self.args.audit_events),
            LOAD_OPEN_EVERY=str(self.args.open_every),
        )
        out = self.manage("shell", "-c", SEED_EXTRA)
        token = re.search(r"^TOKEN (\S+)$", out, re.M).group(1)
        words = re.search(r"^VOLUMES (.+)$", out, re.M).group(1).split()
        volumes = {k.replace("_", " "): int(v) for k, v in zip(words[::2], words[1::2], strict=True)}
        pk, model = re.search(r"^IDS (\S+) (\S+)$", out, re.M).groups()
        print(f"  extra rows: {time.monotonic() - t0:.0f}s")
        return token, volumes, {"request": pk, "model": model}

    def start_server(self) -> None:
        cmd = [
            str(Path(PY).parent / "gunicorn"),
            "governance.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.args.workers),
            "--timeout",
            "120",
            "--backlog",
            "256",
        ]
        if self.args.worker_class != "sync":
            cmd += ["--worker-class", self.args.worker_class, "--threads", str(self.args.threads)]
        self.gunicorn = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.work / "gunicorn.log", "w"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/login/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.gunicorn.poll() is not None:
                raise RuntimeError("gunicorn exited: " + (self.work / "gunicorn.log").read_text()[-2000:])
            time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not answer /login/ within 60 s")

    def stop_server(self) -> None:
        if self.gunicorn and self.gunicorn.poll() is None:
            self.gunicorn.terminate()
            try:
                self.gunicorn.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.gunicorn.pid, signal.SIGKILL)
                self.gunicorn.wait(5)

    def login(self) -> dict[str, str]:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            form = client.get("/login/")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            answer = client.post(
                "/login/",
                data={"username": "lead", "password": "demo-password-2026", "csrfmiddlewaretoken": csrf, "next": "/"},
                headers={"Referer": self.base + "/login/"},
            )
            if answer.status_code != 302 or "sessionid" not in client.cookies:
                raise RuntimeError(f"sign-in failed: HTTP {answer.status_code}")
            return dict(client.cookies)

    # --- measuring -----------------------------------------------------------------------
    def db_backends(self) -> list[int]:
        if self.args.sqlite:
            return []
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]).fetchall()
        return [r[0] for r in rows]

    def cpu_snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        web = {pid: cpu_seconds(pid) for pid in children(self.gunicorn.pid)}
        db = {pid: cpu_seconds(pid) for pid in self.db_backends()}
        return web, db

    def drive(self, name: str, path: str, headers: dict, cookies: dict, clients: int) -> Run:
        run = Run(name, clients)
        stop = threading.Event()
        lock = threading.Lock()

        def client_loop():
            latencies, errors, late, first = [], 0, 0, ""
            with httpx.Client(base_url=self.base, headers=headers, cookies=cookies, timeout=TIMEOUT) as http:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    try:
                        r = http.get(path)
                        ok = r.status_code == 200
                        if not ok and not first:
                            first = f"HTTP {r.status_code}"
                    except httpx.HTTPError as exc:
                        ok = False
                        first = first or type(exc).__name__
                    elapsed = time.perf_counter() - t0
                    if stop.is_set():
                        late += 1  # finished after the window: not in throughput or latency, in CPU/request
                        break
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1
            with lock:
                run.latencies.extend(latencies)
                run.errors += errors
                run.late += late
                run.first_error = run.first_error or first

        # warm up (per-process caches, connections) outside the measured window
        with httpx.Client(base_url=self.base, headers=headers, cookies=cookies, timeout=TIMEOUT) as http:
            for _ in range(2 * self.args.workers):
                status = http.get(path).status_code
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status} before the run")
        web0, db0 = self.cpu_snapshot()
        client0 = time.process_time()  # this process: the load generator's own CPU
        threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(self.args.duration)
        stop.set()
        run.seconds = time.perf_counter() - t0
        for t in threads:  # each finishes its request in flight (at most TIMEOUT)
            t.join(TIMEOUT + 5)
        web1, db1 = self.cpu_snapshot()
        run.client_cpu = time.process_time() - client0
        run.web_cpu = sum(web1.get(p, 0.0) - v for p, v in web0.items())
        run.db_cpu = sum(v - db0.get(p, 0.0) for p, v in db1.items())
        return run


def table(runs: list[Run]) -> str:
    lines = [
        "| target | clients | req/s | p50 ms | p95 ms | max ms | errors | web CPU ms/req | db CPU ms/req | client CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        n = max(r.ok + r.errors + r.late, 1)
        lines.append(
            f"| {r.target} | {r.clients} | {r.ok / r.seconds:.0f} | {r.pct(0.50):.0f} | {r.pct(0.95):.0f} | "
            f"{r.pct(1.0):.0f} | {r.errors}{' (' + r.first_error + ')' if r.errors else ''} | "
            f"{1000 * r.web_cpu / n:.1f} | {1000 * r.db_cpu / n:.1f} | {1000 * r.client_cpu / n:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per target and concurrency")
    parser.add_argument("--clients", default="5,20", help="comma-separated concurrencies")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2: one per core)")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", type=int, default=200, help="extra models (each with a request)")
    parser.add_argument(
        "--open-every", type=int, default=5, help="one extra model in N has an open request (the others: closed)"
    )
    parser.add_argument("--audit-events", type=int, default=5000, help="extra audit events")
    parser.add_argument("--only", default="", help="comma-separated target names to run")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of a PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the database (for profiling); prints its URL")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    bench = Bench(args)
    started = time.monotonic()
    try:
        print(f"==> database {'SQLite' if args.sqlite else bench.db_name}; seeding")
        bench.create_db()
        token, volumes, ids = bench.seed()
        print("  volumes:", ", ".join(f"{k} {v}" for k, v in volumes.items()))
        bench.start_server()
        cookies = bench.login()
        api = {"Authorization": f"Token {token}", "Accept": "application/json"}
        targets = [
            ("inbox `/`", "/", {}),
            (f"request page `/requests/{ids['request']}/`", f"/requests/{ids['request']}/", {}),
            ("model list `/models/`", "/models/", {}),
            ("API models `/api/v1/models/`", "/api/v1/models/", api),
            ("API audit `/api/v1/audit/`", "/api/v1/audit/", api),
            (
                f"API versions `/api/v1/models/{ids['model']}/versions/`",
                f"/api/v1/models/{ids['model']}/versions/",
                api,
            ),
            (f"API request `/api/v1/promotions/{ids['request']}/`", f"/api/v1/promotions/{ids['request']}/", api),
        ]
        only = [o.strip() for o in args.only.split(",") if o.strip()]
        runs = []
        for name, path, headers in targets:
            if only and not any(o in name for o in only):
                continue
            for c in clients:
                run = bench.drive(name, path, headers, cookies if not headers else {}, c)
                runs.append(run)
                print(
                    f"  {name:<50} {c:>2} clients: {run.ok / run.seconds:6.0f} req/s  p95 {run.pct(0.95):6.0f} ms"
                    f"  errors {run.errors}  web {1000 * run.web_cpu / max(run.ok + run.errors + run.late, 1):.1f} ms/req",
                    flush=True,
                )
        load = os.getloadavg()
        print()
        print(table(runs))
        print()
        print(
            f"gunicorn: {args.workers} {args.worker_class} workers; {args.duration:g} s per run; "
            f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; "
            f"total {time.monotonic() - started:.0f} s"
        )
        return 1 if any(r.errors for r in runs) else 0
    finally:
        bench.stop_server()
        bench.clear_redis()
        if args.keep:
            print(f"kept: DATABASE_URL={bench.env['DATABASE_URL']} MEDIA_ROOT={bench.env['MEDIA_ROOT']}")
        else:
            bench.drop_db()
            shutil.rmtree(bench.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

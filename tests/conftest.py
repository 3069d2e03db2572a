"""Shared fixtures: real PostgreSQL (pytest-django), a real Celery worker on Redis, people.

CI sets CI=true: a missing PostgreSQL, Redis or Chromium is then a failure, never a skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Test users need no slow password hashing (production keeps Django's PBKDF2 default).
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _flush_past_the_guards():
    """Transactional tests end with Django's flush, a TRUNCATE of every table, which the
    audit, decision, evidence and gate tables refuse (audit.dbguard.no_truncate_sql). The
    test database's superuser empties them with triggers off (session_replication_role),
    exactly what docs/audit.md says a superuser can do and the outside anchor catches.

    It empties them with DELETE rather than TRUNCATE: a test leaves a few rows per table,
    and TRUNCATE of ~55 tables (new files for each table and index) took 0.5-2 s per test
    against 0.05 s for the DELETEs. With triggers off no foreign key is checked, so the
    order does not matter; sequences are not reset, as with Django's own flush.

    Content types and permissions stay: they are what migrations made, and the post_migrate
    signal after the flush would only write them again (with new ids)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush
    kept = {"django_content_type", "auth_permission"}

    def flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables:
            return []
        if reset_sequences:  # TRUNCATE ... RESTART IDENTITY: the rare caller that asks
            statements = sql_flush(self, style, tables, reset_sequences=True, allow_cascade=allow_cascade)
        else:
            statements = [f"DELETE FROM {self.quote_name(table)}" for table in tables if table not in kept]
        return ["SET LOCAL session_replication_role = replica", *statements]

    DatabaseOperations.sql_flush = flush

    # A session worker may still finish a previous test's task (a gate outcome and its audit
    # event: two tables in one transaction) while the flush takes its locks table by table;
    # PostgreSQL then cancels one of them as a deadlock. The flush tries again.
    execute_sql_flush = DatabaseOperations.execute_sql_flush

    def execute_flush(self, sql_list):
        from django.db import OperationalError

        for attempt in range(3):
            try:
                return execute_sql_flush(self, sql_list)
            except OperationalError as exc:
                if "deadlock detected" not in str(exc) or attempt == 2:
                    raise
                time.sleep(0.5)

    DatabaseOperations.execute_sql_flush = execute_flush


_flush_past_the_guards()


def pytest_sessionstart(session):
    """Fail fast, with a clear message, when a service the suite needs is down."""
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis is not reachable at {settings.REDIS_URL}: {exc}. Start it (make test does).", returncode=3)


def _worker_env(db_name: str) -> dict:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db_name}"
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db_name}"
        )
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set beside Playwright only, never for a worker
    return env


class WorkerProcess:
    """A real `celery worker` subprocess on this run's own queue."""

    def __init__(self, db_name: str, log_path: Path, name: str):
        self.db_name = db_name
        self.log_path = log_path
        self.name = name
        self.proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self, log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "governance",
                "worker",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--pool=solo",
                "--concurrency=1",
                "-n",
                f"{self.name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=_worker_env(self.db_name),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = self._spawn(log)
        from governance.celery import ping

        # One ping through this run's queue: answered once the worker consumes the queue
        # (after any task queued before it). Polling the result, rather than a get() with a
        # timeout per attempt, leaves no abandoned result subscriptions behind.
        answer = ping.apply_async()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.proc.returncode}; see {self.log_path}")
            if answer.ready():
                if answer.get(timeout=5) == "pong":
                    return self
                raise RuntimeError(f"celery worker answered {answer.result!r} to a ping; see {self.log_path}")
            time.sleep(0.1)
        raise RuntimeError(f"celery worker did not answer within {timeout}s; see {self.log_path}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _purge_queue() -> None:
    from governance.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture(scope="session")
def worker_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker") / "worker.log"


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, django_db_blocker, worker_log):
    """One worker process for the session, connected to the test database; started on first use."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    worker = WorkerProcess(db_name, worker_log, "session-worker")
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(_session_worker):
    """The session's Celery worker, running. A test may kill it; the next test that asks for
    it gets it started again (with its queue emptied of the killed run's leftovers)."""
    if not _session_worker.running:
        _purge_queue()
        _session_worker.start()
    return _session_worker


@pytest.fixture
def stopped_celery_worker(_session_worker):
    """The session's Celery worker, not running: tasks wait in the queue until the test
    calls .start() on it."""
    _session_worker.kill()
    _purge_queue()
    return _session_worker


@pytest.fixture
def make_worker(django_db_setup, django_db_blocker, tmp_path):
    """Start extra workers inside a test (e.g. after killing one); all are stopped after."""
    from django.db import connection

    started: list[WorkerProcess] = []
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]

    def make(name: str) -> WorkerProcess:
        worker = WorkerProcess(db_name, tmp_path / f"{name}.log", name).start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.25, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- People and things -------------------------------------------------------------------

from tests.factories import (  # noqa: E402
    grant,
    make_model,
    make_team,
    make_user,
    make_version,
)


@pytest.fixture
def team(db):
    return make_team("credit")


@pytest.fixture
def other_team(db):
    return make_team("marketing")


@pytest.fixture
def alice(team):
    """Alice owns the team's models (model_owner)."""
    user = make_user("alice")
    grant(user, "model_owner", team=team)
    return user


@pytest.fixture
def bob(team):
    """Bob is the team's tech lead (reviewer)."""
    user = make_user("bob")
    grant(user, "reviewer", team=team)
    return user


@pytest.fixture
def charlie(db):
    """Charlie has no role anywhere."""
    return make_user("charlie")


@pytest.fixture
def admin_user(db):
    return make_user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def model(team, alice):
    return make_model("credit-scoring", team=team, risk_tier="medium")


@pytest.fixture
def version(model, alice):
    return make_version(model, alice)


@pytest.fixture(autouse=True)
def _fresh_process_cache():
    """Each test starts with an empty per-process cache: a test database rolled back to an
    earlier audit chain head must not meet a navigation count cached by an earlier test."""
    from django.core.cache import cache

    cache.clear()


__all__ = ["make_user", "make_team", "make_model", "make_version", "grant", "wait_for"]


@pytest.fixture(scope="session", autouse=True)
def _close_other_sessions_at_the_end(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end sessions a killed worker or thread left open."""
    yield
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].startswith("test_"):
        return
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    except DatabaseError:  # nothing to clean if the test database is already gone
        pass

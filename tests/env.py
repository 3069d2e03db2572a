"""Test environment, set before Django reads its settings (loaded with `-p tests.env`).

Real services: PostgreSQL and Redis on this machine. Each test run gets its own database
name and Celery queue name, so two runs (a developer and CI) never see each other's rows
or tasks. Under pytest-xdist every worker process loads this module again, after
inheriting the environment the controller set here; so the run id is shared, and each
worker then gets what must not be shared: pytest-django suffixes its test database
(test_governance_<run>_gw0, ...), and this module gives it its own queue, media and var
directories (a worker's Celery subprocess must only take its own worker's tasks).
"""

import os
import tempfile
import uuid

_run = uuid.uuid4().hex[:10]
# The checkout's .env (written by `make run` for manage.py) is a developer's local setup,
# not the test environment: settings skip it when ENV_FILE is empty.
os.environ.setdefault("ENV_FILE", "")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + _run)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/governance_{_run}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"test-{_run}")
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{_run}")  # throttle counters of this run only
os.environ.setdefault("EMAIL_BACKEND", "locmem")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix=f"governance-media-{_run}-"))
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix=f"governance-var-{_run}-"))
# Short limits so a killed worker's task is redelivered within a test's patience; the
# ordering time limits < retry backoff cap < visibility timeout is what tests assert.
os.environ.setdefault("CELERY_VISIBILITY_TIMEOUT", "20")
os.environ.setdefault("CELERY_TASK_TIME_LIMIT", "12")
os.environ.setdefault("CELERY_TASK_SOFT_TIME_LIMIT", "10")
os.environ.setdefault("GATE_STALE_AFTER_SECONDS", "5")
# Webhook tests post to a receiver on 127.0.0.1 (refused in production) and watch retries.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
os.environ.setdefault("WEBHOOK_RETRY_BASE_SECONDS", "1")
os.environ.setdefault("WEBHOOK_TIMEOUT_SECONDS", "3")
os.environ.setdefault("GATE_HEARTBEAT_SECONDS", "1")  # a killed gate is stale after 3 s
os.environ.setdefault("GATE_HEARTBEAT_STALE_SECONDS", "3")
# Django's guard against ORM calls from a running event loop stays on: only the browser
# tests lift it, around Playwright (tests/browser/conftest.py).
os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... set by pytest-xdist
if _xdist_worker:
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] += f"-{_xdist_worker}"
    for _name in ("MEDIA_ROOT", "VAR_DIR"):
        os.environ[_name] = os.path.join(os.environ[_name], _xdist_worker)
        os.makedirs(os.environ[_name], exist_ok=True)

"""Test environment, set before Django reads its settings (loaded with `-p tests.env`).

Real services: PostgreSQL and Redis on this machine. Each test run gets its own Celery
queue name and Redis database, so parallel runs never see each other's tasks.
"""

import os
import tempfile
import uuid

_run = uuid.uuid4().hex[:10]
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + _run)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# A database name of its own per run: two runs (a developer and CI) never share one.
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/governance_{_run}")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"test-{_run}")
os.environ.setdefault("EMAIL_BACKEND", "locmem")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix=f"governance-media-{_run}-"))
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix=f"governance-var-{_run}-"))
# Short limits so a killed worker's task is redelivered within a test's patience; the
# ordering time limits < retry backoff cap < visibility timeout is what tests assert.
os.environ.setdefault("CELERY_VISIBILITY_TIMEOUT", "20")
os.environ.setdefault("CELERY_TASK_TIME_LIMIT", "12")
os.environ.setdefault("CELERY_TASK_SOFT_TIME_LIMIT", "10")
os.environ.setdefault("GATE_STALE_AFTER_SECONDS", "5")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright sync API runs an event loop in the test thread

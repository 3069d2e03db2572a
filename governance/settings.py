"""One settings module, read from the environment.

Defaults are for a laptop checkout (SQLite under var/, local Redis, emails written to files)
and are safe for production: DEBUG is off unless asked for, and with DEBUG off the site
refuses to start without a SECRET_KEY. Every variable is documented in docs/operations.md.
A secret may also be given as a file: SECRET_KEY_FILE, EMAIL_HOST_PASSWORD_FILE.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from urllib.parse import urlparse

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# The checkout's .env (written by `make run`) fills in what the environment does not set, so
# every manage.py command works from any shell in the checkout. ENV_FILE= (empty) skips it.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (Docker/K8s secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path}: {exc}") from exc
    return os.environ.get(name, default)


def parse_database_url(url: str) -> dict:
    """django-environ's parser, with an error that names the variable and the problem."""
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL: unsupported scheme {scheme!r} in {url!r}; "
            "use postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # environ raises a mix of ValueError/KeyError on garbage
        raise ImproperlyConfigured(f"DATABASE_URL: cannot parse {url!r}: {exc}") from exc
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"DATABASE_URL: no database name in {url!r}")
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
    return config


def parse_redis_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss", "unix"} or (parsed.scheme != "unix" and not parsed.hostname):
        raise ImproperlyConfigured(f"REDIS_URL: expected redis://HOST:PORT/DB, got {url!r}")
    return url


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=true for local use."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc static files for /api/docs/ (no CDN)
    "guardian",
    "django_celery_beat",
    "axes",  # login throttling (AXES_* below)
    "governance.audit",
    "governance.accounts",
    "governance.registry",
    "governance.policies",
    "governance.evidence",
    "governance.approvals",
    "governance.gates",
    "governance.notifications",
    "governance.reports",
    "governance.webhooks",
    "governance.api",
    "governance.web",
    "governance.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on pages (CONTENT_SECURITY_POLICY)
    "governance.web.middleware.RefuseNulPathMiddleware",  # /models/%00/ is a 404, not a DataError
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.audit.context.AuditRequestMiddleware",  # IP and user agent on audit events
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # the lockout page (AXES_LOCKOUT_TEMPLATE)
]

ROOT_URLCONF = "governance.urls"
DEFAULT_EXCEPTION_REPORTER = "governance.web.errors.SafeExceptionReporter"  # lone surrogates escaped
WSGI_APPLICATION = "governance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.web.context_processors.navigation",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": parse_database_url(env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'governance.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "governance.accounts.backends.LoginThrottleBackend",  # first: axes refuses a locked-out user and IP
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_RAISE_403 = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes, database handler): after AXES_FAILURE_LIMIT failed sign-ins
# of one user name from one IP, that pair is locked out for the cool-off; each lockout and
# each refused attempt is audited (audit/auth_events.py); admins unlock by deleting the
# "access attempt" in the admin, or `manage.py axes_reset_username USER`. docs/security.md.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "auth/locked.html"
AXES_VERBOSE = False
# Wrong API tokens (api/throttling.py): at most TOKEN_FAILURE_LIMIT per IP per window, counted in Redis.
TOKEN_FAILURE_LIMIT = env.int("TOKEN_FAILURE_LIMIT", default=20)
TOKEN_FAILURE_WINDOW_SECONDS = env.int("TOKEN_FAILURE_WINDOW_SECONDS", default=300)
# API tokens (docs/security.md): a service token (scoped to teams) expires within this many days.
SERVICE_TOKEN_MAX_DAYS = env.int("SERVICE_TOKEN_MAX_DAYS", default=365)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:inbox"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: evidence is downloaded through a permission check
STORAGES = {
    "default": {"BACKEND": env.str("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STORAGES["default"]["BACKEND"].startswith("storages."):
    # S3-compatible storage (django-storages); credentials from AWS_* variables.
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False

# The reproducibility gate fetches a version's artifact through its URI on the worker to
# verify artifact_sha256 (docs/gates.md, "Artifacts that live elsewhere"): file:// only
# under ARTIFACT_FILE_ROOTS (comma-separated absolute directories; empty: none), s3:// with
# the deployment's AWS credentials (boto3's chain) at ARTIFACT_S3_ENDPOINT_URL (an
# S3-compatible store; default AWS_S3_ENDPOINT_URL, else AWS). Larger than ARTIFACT_MAX_BYTES
# or slower than ARTIFACT_FETCH_TIMEOUT_SECONDS: unverified. Verified digests are cached in
# Redis ("artifact_digests" below) for ARTIFACT_DIGEST_CACHE_SECONDS.
ARTIFACT_FILE_ROOTS = [r.strip() for r in env.str("ARTIFACT_FILE_ROOTS", default="").split(",") if r.strip()]
if any(not os.path.isabs(root) for root in ARTIFACT_FILE_ROOTS):
    raise ImproperlyConfigured(f"ARTIFACT_FILE_ROOTS: every root must be an absolute path, got {ARTIFACT_FILE_ROOTS}")
ARTIFACT_S3_ENDPOINT_URL = env.str("ARTIFACT_S3_ENDPOINT_URL", default="") or env.str("AWS_S3_ENDPOINT_URL", default="")
# auto: fetch s3:// artifacts when an endpoint or AWS credentials are configured; true: also
# with an instance/task role only; false: never (gates/artifacts.py s3_configured).
ARTIFACT_S3_FETCH = env.str("ARTIFACT_S3_FETCH", default="auto")
if ARTIFACT_S3_FETCH.lower() not in ("auto", "true", "false"):
    raise ImproperlyConfigured(f"ARTIFACT_S3_FETCH must be auto, true or false, got {ARTIFACT_S3_FETCH!r}")
ARTIFACT_MAX_BYTES = env.int("ARTIFACT_MAX_BYTES", default=5 * 1024**3)
ARTIFACT_DIGEST_CACHE_SECONDS = env.int("ARTIFACT_DIGEST_CACHE_SECONDS", default=90 * 24 * 3600)

# Evidence uploads: streamed to a temporary file in chunks, refused past this size.
EVIDENCE_MAX_UPLOAD_BYTES = env.int("EVIDENCE_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
# Uploads larger than this (file size, or the content size a gzip or zip declares) are parsed
# by a worker: answered 202 "parsing queued" with a status URL (docs/api.md). The web process
# never inflates more than EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES of one upload.
EVIDENCE_PARSE_IN_WORKER_BYTES = env.int("EVIDENCE_PARSE_IN_WORKER_BYTES", default=16 * 1024 * 1024)
EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES = env.int("EVIDENCE_WEB_MAX_UNCOMPRESSED_BYTES", default=64 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Redis and Celery
REDIS_URL = parse_redis_url(env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="governance")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
# Default: half the soft limit, so the gate still has time to judge after a slow fetch.
ARTIFACT_FETCH_TIMEOUT_SECONDS = env.int(
    "ARTIFACT_FETCH_TIMEOUT_SECONDS", default=max(1, CELERY_TASK_SOFT_TIME_LIMIT // 2)
)
if not 0 < ARTIFACT_FETCH_TIMEOUT_SECONDS < CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        "ARTIFACT_FETCH_TIMEOUT_SECONDS must be above 0 and below CELERY_TASK_SOFT_TIME_LIMIT "
        f"(a gate run fetches its artifact within its task), got {ARTIFACT_FETCH_TIMEOUT_SECONDS}"
    )
# Redis redelivers an unacknowledged task after this many seconds. Every time limit and
# retry countdown must stay below it, or a slow task runs twice (tests assert this).
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
# Redis down (docs/operations.md, Redis outages): sending a task or setting up a chord from a
# web request gives up within about a second (was 20 tries 1 s apart: a 19 s POST); what was
# not sent stays in PostgreSQL and beat's sweeps send it when Redis is back. Workers keep
# reconnecting for as long as the outage lasts.
_REDIS_DOWN_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT, "socket_connect_timeout": 1}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "retry_policy": _REDIS_DOWN_RETRY,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = _REDIS_DOWN_RETRY
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A running gate writes a heartbeat on its run every GATE_HEARTBEAT_SECONDS; a run whose
# heartbeat is older than GATE_HEARTBEAT_STALE_SECONDS (or that has run longer than
# CELERY_TASK_TIME_LIMIT) lost its worker, and the sweep, every GATE_SWEEP_INTERVAL_SECONDS,
# sends it again: a killed worker's gate is retried within stale + interval (45 s) of its
# last heartbeat (docs/operations.md, Gate heartbeats).
GATE_HEARTBEAT_SECONDS = env.int("GATE_HEARTBEAT_SECONDS", default=10)
GATE_HEARTBEAT_STALE_SECONDS = env.int("GATE_HEARTBEAT_STALE_SECONDS", default=3 * GATE_HEARTBEAT_SECONDS)
GATE_SWEEP_INTERVAL_SECONDS = env.int("GATE_SWEEP_INTERVAL_SECONDS", default=15)
GATE_STALE_AFTER_SECONDS = env.int("GATE_STALE_AFTER_SECONDS", default=120)
# Dry runs (docs/api.md): computed by a worker within DRY_RUN_TIME_LIMIT_SECONDS (then reported
# "timed out"; the hard limit is 10 s later), answered at once when done within
# DRY_RUN_SYNC_WAIT_SECONDS, else polled; DRY_RUN_THROTTLE_RATE per user (DRF rate, e.g. 10/minute).
DRY_RUN_TIME_LIMIT_SECONDS = env.int("DRY_RUN_TIME_LIMIT_SECONDS", default=120)
DRY_RUN_SYNC_WAIT_SECONDS = env.float("DRY_RUN_SYNC_WAIT_SECONDS", default=2.0)
DRY_RUN_THROTTLE_RATE = env.str("DRY_RUN_THROTTLE_RATE", default="10/minute")
if not 0 < 2 * GATE_HEARTBEAT_SECONDS <= GATE_HEARTBEAT_STALE_SECONDS < CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "GATE_HEARTBEAT_STALE_SECONDS must be at least twice GATE_HEARTBEAT_SECONDS (above 0) and "
        f"below CELERY_TASK_TIME_LIMIT, got {GATE_HEARTBEAT_SECONDS}, {GATE_HEARTBEAT_STALE_SECONDS} "
        f"and {CELERY_TASK_TIME_LIMIT}"
    )
# /healthz (docs/operations.md, Health checks): workers write a heartbeat to Redis every
# WORKER_HEARTBEAT_SECONDS; the public check calls the worker down when the newest is older
# than WORKER_HEARTBEAT_STALE_SECONDS. /healthz/detail (a worker round trip) needs the header
# X-Healthz-Token: HEALTHZ_TOKEN; with no token set it is off (404).
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=10)
WORKER_HEARTBEAT_STALE_SECONDS = env.int("WORKER_HEARTBEAT_STALE_SECONDS", default=60)
if not 0 < WORKER_HEARTBEAT_SECONDS < WORKER_HEARTBEAT_STALE_SECONDS:
    raise ImproperlyConfigured(
        "WORKER_HEARTBEAT_SECONDS must be above 0 and below WORKER_HEARTBEAT_STALE_SECONDS, "
        f"got {WORKER_HEARTBEAT_SECONDS} and {WORKER_HEARTBEAT_STALE_SECONDS}"
    )
# One hash per queue: the workers that serve this site's queue.
WORKER_HEARTBEAT_KEY = f"governance:worker-heartbeats:{CELERY_TASK_DEFAULT_QUEUE}"
HEALTHZ_TOKEN = env_secret("HEALTHZ_TOKEN")
PROMOTION_REQUEST_EXPIRY_DAYS = env.int("PROMOTION_REQUEST_EXPIRY_DAYS", default=30)
# Hour (in TIME_ZONE) of the daily reminder to approvers of requests past their SLA.
PROMOTION_SLA_REMINDER_HOUR = env.int("PROMOTION_SLA_REMINDER_HOUR", default=8)
# Notifications (docs/operations.md, Email): the daily digest's hour (in TIME_ZONE), and the
# sweeper that re-queues emails left unsent for NOTIFICATIONS_RETRY_AFTER_SECONDS, for at most
# NOTIFICATIONS_RETRY_FOR_HOURS after the event.
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=7)
NOTIFICATIONS_SWEEP_INTERVAL_SECONDS = env.int("NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", default=300)
NOTIFICATIONS_RETRY_AFTER_SECONDS = env.int("NOTIFICATIONS_RETRY_AFTER_SECONDS", default=300)
NOTIFICATIONS_RETRY_FOR_HOURS = env.int("NOTIFICATIONS_RETRY_FOR_HOURS", default=48)
# The audit chain's outside anchor (docs/audit.md): the chain head, signed with
# AUDIT_ANCHOR_KEY (keep it outside the database; default derived from SECRET_KEY), written
# daily to the media storage and emailed to AUDIT_ANCHOR_EMAILS (comma-separated, may be empty).
AUDIT_ANCHOR_KEY = (
    env_secret("AUDIT_ANCHOR_KEY")
    or hmac.new(SECRET_KEY.encode(), b"governance audit anchor", hashlib.sha256).hexdigest()
)
AUDIT_ANCHOR_EMAILS = [a.strip() for a in env.str("AUDIT_ANCHOR_EMAILS", default="").split(",") if a.strip()]
AUDIT_ANCHOR_HOUR = env.int("AUDIT_ANCHOR_HOUR", default=2)
# Reverse proxies in front of the app that append to X-Forwarded-For (audit events' IP).
AUDIT_TRUSTED_PROXIES = env.int("AUDIT_TRUSTED_PROXIES", default=0)
CELERY_BEAT_SCHEDULE = {
    "gates-sweep-stale-runs": {
        "task": "governance.gates.tasks.gate_sweep",
        "schedule": GATE_SWEEP_INTERVAL_SECONDS,
    },
    "promotions-expire-stale": {
        "task": "governance.approvals.tasks.promotion_expire_task",
        "schedule": 3600,
    },
    "promotions-emergency-expiry": {
        "task": "governance.approvals.tasks.promotion_emergency_expire_task",
        "schedule": 900,
    },
    "reviews-due-and-overdue": {
        "task": "governance.approvals.tasks.reviews_remind_task",
        "schedule": crontab(minute=15, hour=PROMOTION_SLA_REMINDER_HOUR),
    },
    "promotions-sla-reminders": {
        "task": "governance.approvals.tasks.promotion_sla_remind_task",
        "schedule": crontab(minute=0, hour=PROMOTION_SLA_REMINDER_HOUR),
    },
    "notifications-sweep-unsent": {
        "task": "governance.notifications.tasks.notifications_sweep_task",
        "schedule": NOTIFICATIONS_SWEEP_INTERVAL_SECONDS,
    },
    "notifications-daily-digest": {
        "task": "governance.notifications.tasks.digests_send_daily",
        "schedule": crontab(minute=0, hour=NOTIFICATIONS_DIGEST_HOUR),
    },
    "audit-anchor-daily": {
        "task": "governance.audit.tasks.audit_anchor_task",
        "schedule": crontab(minute=30, hour=AUDIT_ANCHOR_HOUR),
    },
    "evidence-parse-sweep": {
        "task": "governance.evidence.tasks.evidence_parse_sweep_task",
        "schedule": GATE_SWEEP_INTERVAL_SECONDS,
    },
    "reports-sweep-lost": {
        "task": "governance.reports.tasks.reports_sweep_task",
        "schedule": GATE_SWEEP_INTERVAL_SECONDS,
    },
    "webhooks-sweep-lost": {
        "task": "governance.webhooks.tasks.webhooks_sweep_task",
        "schedule": 60,
    },
}

# Webhooks (docs/webhooks.md; targets in docs/security.md): one POST waits at most
# WEBHOOK_TIMEOUT_SECONDS; a failed one is tried again after BASE, 2*BASE, 4*BASE ... seconds
# (at most WEBHOOK_RETRY_MAX_SECONDS, and below half the visibility timeout), up to
# WEBHOOK_MAX_ATTEMPTS attempts. Private, loopback and link-local targets are refused unless
# WEBHOOK_ALLOW_PRIVATE_TARGETS (default: DEBUG) or the host or network (CIDR) is listed in
# WEBHOOK_ALLOWED_HOSTS (comma-separated).
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=1800)
WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=120)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=DEBUG)
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])

# Audit PDFs (docs/reports.md): charts are rendered to SVG by kaleido through this Chromium
# (Debian's package; never a browser download). Request and version reports are answered
# directly when the worker finishes them within REPORT_SYNC_WAIT_SECONDS, else as a job.
REPORT_BROWSER_PATH = env.str("REPORT_BROWSER_PATH", default=env.str("BROWSER_PATH", default="/usr/bin/chromium"))
REPORT_SYNC_WAIT_SECONDS = env.float("REPORT_SYNC_WAIT_SECONDS", default=2.0)
PRODUCT_VERSION = "1.0.0"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Verified artifact digests ((store, uri, size, validator) -> sha256), shared by every
    # worker so one artifact is downloaded once; losing them costs a download, never a verdict.
    "artifact_digests": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="governance") + ":artifact-digest",
        "TIMEOUT": ARTIFACT_DIGEST_CACHE_SECONDS,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    # Counters every web worker must share (failed API tokens).
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="governance"),
        "TIMEOUT": 3600,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}

# Email: SMTP in production; files under var/mail when EMAIL_BACKEND=file (the default locally).
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}.get(env.str("EMAIL_BACKEND", default="file"), env.str("EMAIL_BACKEND", default="file"))
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # a hung SMTP relay must not block a worker
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="governance@localhost")
EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[Model governance] ")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies under the one loading policy (governance.core.inputs): limits, no NUL or surrogates.
    "DEFAULT_PARSER_CLASSES": [
        "governance.api.parsers.SafeJSONParser",
        "governance.api.parsers.SafeFormParser",
        "governance.api.parsers.SafeMultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "governance.api.schema.GovernanceAutoSchema",  # + the JSON error responses
    "EXCEPTION_HANDLER": "governance.api.errors.json_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Model governance API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # from_stage, to_stage and stage share one choice set: one schema enum named Stage.
    "ENUM_NAME_OVERRIDES": {"StageEnum": "governance.registry.models.Stage"},
    # /api/docs/ (governance.api.docs): Swagger UI from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# HTTPS hardening: on by default when DEBUG is off; SECURE_SSL_REDIRECT may be turned off
# behind a proxy that already redirects.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy of every page (django-csp; a response that sets its own, such as an
# evidence download's sandbox, keeps it). Scripts only from our own static files: no inline
# script or event handler anywhere (charts are JSON data blocks drawn by static/js/charts.js).
# Styles allow 'unsafe-inline' because plotly.js and htmx write style elements and attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

FILE_UPLOAD_HANDLERS = [
    "governance.evidence.uploads.HashingSizeLimitUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)

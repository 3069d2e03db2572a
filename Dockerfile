# The model-governance image: one image for web (gunicorn), worker and beat (Celery) and the
# one-shot `migrate` service of docker-compose.yml. Configuration comes from the environment
# only (docs/operations.md lists every variable).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=governance.settings \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    VAR_DIR=/data/var \
    XDG_CACHE_HOME=/tmp/cache

# WeasyPrint's runtime libraries (PDF audit reports), a font, and Debian's Chromium, through
# which kaleido draws the reports' charts (REPORT_BROWSER_PATH). psycopg comes as a wheel
# (psycopg-binary), so no libpq or compiler is needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        chromium \
    && rm -rf /var/lib/apt/lists/*

# A non-root user owns only what it must write: the media and var directories. A fresh named
# volume mounted on /data/media takes this ownership from the image.
RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /data/media /data/var \
    && chown -R app:app /data

WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected at build time (whitenoise serves them from STATIC_ROOT with
# DEBUG off). The key and database below exist for this step only: nothing is stored, and
# the running container refuses to start without its own SECRET_KEY / SECRET_KEY_FILE.
RUN SECRET_KEY=build-only-collectstatic-not-a-secret \
    DEBUG=false \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput \
    && rm -f /tmp/collectstatic.sqlite3

USER app

EXPOSE 8000

CMD ["gunicorn", "governance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]

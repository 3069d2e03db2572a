"""docker-compose.yml and the Dockerfile, checked without Docker: parse the YAML (anchors and
merge keys resolved, as compose does) and check the wiring against the settings module."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_FILE = ROOT / "governance" / "settings.py"

APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING_APP_SERVICES = ("web", "worker", "beat")

_VARIABLE = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and $$ escapes."""
    environ = {} if environ is None else environ
    placeholder = "\0dollar\0"
    value = value.replace("$$", placeholder)

    def substitute(match: re.Match) -> str:
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = environ.get(name)
        if op in (":-", "-"):
            if current is None or (op == ":-" and current == ""):
                return arg
            return current
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise ValueError(f"required variable {name} is missing: {arg}")
            return current
        if op in (":+", "+"):
            return arg if current else ""
        return current or ""

    return _VARIABLE.sub(substitute, value).replace(placeholder, "$")


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def command_of(service: dict) -> str:
    command = service.get("command")
    return " ".join(command) if isinstance(command, list) else str(command or "")


def depends_on_of(service: dict) -> dict[str, dict]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: {"condition": "service_started"} for name in depends}
    return depends


def volume_sources(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each volume mount, short or long syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            if len(parts) >= 2:
                mounts.append((parts[0], parts[1]))
        else:
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                mounts.append((volume["source"], volume["target"]))
    return mounts


def settings_variables() -> set[str]:
    """Every environment variable name governance/settings.py reads."""
    source = SETTINGS_FILE.read_text()
    names = set(re.findall(r"\benv\.\w+\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    names |= set(re.findall(r"os\.environ\.get\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    names |= set(re.findall(r"[\"']([A-Z][A-Z0-9_]*)[\"']\s+(?:not\s+)?in\s+os\.environ", source))
    secrets = set(re.findall(r"\benv_secret\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    return names | secrets | {f"{name}_FILE" for name in secrets}


def test_services_exist(services):
    for name in ("postgres", "redis", "migrate", "web", "worker", "beat", "mailpit"):
        assert name in services, f"docker-compose.yml has no {name} service"


def test_app_services_share_image_and_environment(services):
    web = services["web"]
    assert web.get("build"), "web must be built from the repository's Dockerfile"
    build = web["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE.resolve()
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("build") == web["build"], f"{name} is not built like web"
        assert service.get("image") == web.get("image"), f"{name} does not use web's image"
        assert environment_of(service) == environment_of(web), f"{name} has a different environment from web"
        assert service.get("secrets") == web.get("secrets"), f"{name} does not get web's secrets"


def test_app_service_commands(services):
    web = command_of(services["web"])
    assert web.startswith("gunicorn governance.wsgi:application")
    assert "--bind 0.0.0.0:8000" in web
    assert "--workers 3" in web and "--timeout 120" in web
    worker = command_of(services["worker"])
    assert worker.startswith("celery -A governance worker")
    assert "--concurrency 2" in worker
    beat = command_of(services["beat"])
    assert beat.startswith("celery -A governance beat")
    assert not re.search(r"(^|\s)(-S|--scheduler)\b", beat), "beat takes its scheduler from the settings module"
    assert command_of(services["migrate"]) == "python manage.py migrate --noinput"


def test_beat_is_never_replicated(services):
    beat = services["beat"]
    assert (beat.get("deploy") or {}).get("replicas", 1) == 1
    assert "scale" not in beat


def test_database_and_redis_urls_point_at_their_services(services):
    for name in APP_SERVICES:
        env = environment_of(services[name])
        database = urlparse(interpolate(env["DATABASE_URL"]))
        assert database.scheme in ("postgres", "postgresql")
        assert database.hostname == "postgres" and "postgres" in services
        redis_url = urlparse(interpolate(env["REDIS_URL"]))
        assert redis_url.scheme == "redis"
        assert redis_url.hostname == "redis" and "redis" in services


def test_database_url_matches_postgres_service_credentials(services):
    postgres_env = {k: interpolate(v) for k, v in environment_of(services["postgres"]).items()}
    database = urlparse(interpolate(environment_of(services["web"])["DATABASE_URL"]))
    assert database.username == postgres_env["POSTGRES_USER"]
    assert database.password == postgres_env["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == postgres_env["POSTGRES_DB"]
    # The password is the same variable on both sides when the operator sets one.
    custom = {"POSTGRES_PASSWORD": "s3cret"}
    assert urlparse(interpolate(environment_of(services["web"])["DATABASE_URL"], custom)).password == "s3cret"
    assert interpolate(environment_of(services["postgres"])["POSTGRES_PASSWORD"], custom) == "s3cret"


def test_every_database_url_parses_with_the_settings_parser(services):
    from governance.settings import parse_database_url

    urls = [environment_of(s)["DATABASE_URL"] for s in services.values() if "DATABASE_URL" in environment_of(s)]
    assert urls
    for url in urls:
        config = parse_database_url(interpolate(url))
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert config["HOST"] == "postgres" and config["NAME"] == "governance"
        assert int(config["PORT"]) == 5432


def test_every_redis_url_parses_with_the_settings_parser(services):
    from governance.settings import parse_redis_url

    for service in services.values():
        env = environment_of(service)
        for name in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            if name in env:
                parse_redis_url(interpolate(env[name]))


def test_depends_on_targets_exist(services):
    for name, service in services.items():
        for target in depends_on_of(service):
            assert target in services, f"{name} depends on an undefined service {target}"
            assert target != name


def test_postgres_and_redis_are_healthchecked_and_awaited(services):
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli" in str(services["redis"]["healthcheck"]["test"])
    assert "ping" in str(services["redis"]["healthcheck"]["test"])
    for name in APP_SERVICES:
        depends = depends_on_of(services[name])
        for backend in ("postgres", "redis"):
            assert depends.get(backend, {}).get("condition") == "service_healthy", (
                f"{name} must wait for {backend} to be healthy"
            )


def test_migrations_run_before_the_app_starts(services):
    assert services["migrate"].get("restart", "no") in ("no", False)
    for name in LONG_RUNNING_APP_SERVICES:
        assert depends_on_of(services[name]).get("migrate", {}).get("condition") == "service_completed_successfully"


def test_web_healthcheck_accepts_a_degraded_answer(services):
    """/healthz is 503 while no worker answers; the container is healthy if HTTP answers."""
    test = services["web"]["healthcheck"]["test"]
    script = test[-1] if isinstance(test, list) else test
    assert "/healthz" in script
    assert "200" in script and "503" in script


def test_postgres_and_redis_publish_no_host_port(services):
    for name in ("postgres", "redis"):
        assert not services[name].get("ports"), f"{name} must not be reachable from outside the compose network"


def test_redis_persists_the_broker(services):
    redis_service = services["redis"]
    command = command_of(redis_service)
    assert "--appendonly yes" in command
    assert any(target == "/data" for _, target in volume_sources(redis_service))


def test_services_restart(services):
    for name, service in services.items():
        if name != "migrate":
            assert service.get("restart") in ("unless-stopped", "always", "on-failure"), f"{name} has no restart policy"


def test_email_goes_to_mailpit(services):
    for name in APP_SERVICES:
        env = environment_of(services[name])
        assert env["EMAIL_BACKEND"] == "smtp"
        assert env["EMAIL_HOST"] == "mailpit"
        assert env["EMAIL_PORT"] == "1025"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert any("8025" in str(port) for port in services["mailpit"].get("ports", []))


def test_production_settings_in_compose(services):
    env = environment_of(services["web"])
    assert env["DEBUG"].lower() == "false"
    # TLS terminates at the reverse proxy (which sets X-Forwarded-Proto).
    assert env["SECURE_SSL_REDIRECT"].lower() == "false"
    assert "SECRET_KEY" in env or "SECRET_KEY_FILE" in env
    if "SECRET_KEY" in env:
        with pytest.raises(ValueError):
            interpolate(env["SECRET_KEY"])  # compose refuses to start without it
    for name in ("ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL"):
        assert interpolate(env[name]), f"{name} has no value"
    for origin in interpolate(env["CSRF_TRUSTED_ORIGINS"]).split(","):
        assert urlparse(origin).scheme in ("http", "https"), "CSRF_TRUSTED_ORIGINS entries need a scheme"


def test_secret_key_file_is_a_declared_secret(compose, services):
    env = environment_of(services["web"])
    if "SECRET_KEY_FILE" not in env:
        pytest.skip("SECRET_KEY given as an environment value")
    path = env["SECRET_KEY_FILE"]
    assert path.startswith("/run/secrets/")
    secret = path.rsplit("/", 1)[-1]
    assert secret in (compose.get("secrets") or {})
    for name in APP_SERVICES:
        assert secret in services[name].get("secrets", [])


def test_declared_volumes(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for source, _ in volume_sources(service):
            if not source.startswith((".", "/", "~", "$")):
                assert source in declared, f"{name} mounts an undeclared volume {source}"


def test_web_and_worker_share_the_media_volume(services):
    media_root = environment_of(services["web"])["MEDIA_ROOT"]
    mounts = {
        name: dict((target, source) for source, target in volume_sources(services[name])) for name in APP_SERVICES
    }
    assert media_root in mounts["web"], "MEDIA_ROOT is not on a volume in web"
    assert mounts["worker"].get(media_root) == mounts["web"][media_root], "worker does not read web's evidence files"


def test_every_environment_variable_is_read_by_settings(services):
    known = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FILE", "MEDIA_ROOT"} <= known
    for name in APP_SERVICES:
        unknown = set(environment_of(services[name])) - known
        assert not unknown, f"{name} sets variables governance/settings.py never reads: {sorted(unknown)}"


def test_interpolation_defaults_are_valid(services):
    """With no .env file, the substituted values still make a working configuration."""
    env = {k: interpolate(v, {}) for k, v in environment_of(services["web"]).items()}
    for name in ("DB_CONN_MAX_AGE", "EMAIL_PORT", "EVIDENCE_MAX_UPLOAD_BYTES", "CELERY_VISIBILITY_TIMEOUT"):
        if name in env:
            assert env[name].isdigit(), f"{name}={env[name]!r} is not a number"
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        if name in env:
            assert env[name] == "true", f"{name} must default to true behind the TLS proxy"


def test_interpolate_helper():
    assert interpolate("a${X:-d}b") == "adb"
    assert interpolate("${X:-d}", {"X": "v"}) == "v"
    assert interpolate("$${HOSTNAME}") == "${HOSTNAME}"
    with pytest.raises(ValueError):
        interpolate("${X:?set X}")


def test_dockerfile_installs_requirements_and_pango():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", text, re.M)
    assert re.search(r"pip install[^\n]*--no-cache-dir[^\n]*-r requirements\.txt", text)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in text, f"the Dockerfile does not install {package}"
    assert "collectstatic --noinput" in text
    assert re.search(r"^USER (?!root\b)\S+", text, re.M), "the image must run as a non-root user"
    assert re.search(r"^EXPOSE 8000\b", text, re.M)


def test_dockerignore_keeps_local_state_out():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".venv", "var", ".git", "media", "secrets", ".pytest_cache"):
        assert entry in ignored, f".dockerignore does not exclude {entry}"

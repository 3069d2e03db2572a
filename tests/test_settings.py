"""The settings module read from the environment, each case in a process with an
environment of its own (the test process's settings are never touched).

`python -c` cases run in a child forked from a small server that has already imported
the heavy third-party libraries (Celery, kombu, Django: about 0.5 s per interpreter);
the child then imports governance.settings afresh under the case's environment, as a new
interpreter would. manage.py runs are plain subprocesses.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_FORK_SERVER = """
import json, os, sys, tempfile, traceback
import celery.app, django.core.exceptions, environ, kombu  # noqa: F401  (governance.settings is not imported)

replies = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    case = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.environ.clear()
            os.environ.update(case["env"])
            sys.argv = ["-c", *case["argv"]]
            status = 0
            try:
                exec(compile(case["code"], "<string>", "exec"), {"__name__": "__main__"})
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                traceback.print_exc()
                status = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        _, wait_status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        reply = {"returncode": os.waitstatus_to_exitcode(wait_status), "stdout": out.read().decode(), "stderr": err.read().decode()}
    replies.write(json.dumps(reply) + "\\n")
    replies.flush()
"""


class _ForkServer:
    def __init__(self):
        self.proc: subprocess.Popen | None = None

    def run(self, env: dict[str, str], code: str, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        if self.proc is None or self.proc.poll() is not None:
            clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _FORK_SERVER],
                cwd=ROOT,
                env=clean,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        self.proc.stdin.write(json.dumps({"env": env, "code": code, "argv": argv}) + "\n")
        self.proc.stdin.flush()
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.close()
            raise subprocess.TimeoutExpired(["python", "-c", code], timeout)
        reply = json.loads(self.proc.stdout.readline())
        return subprocess.CompletedProcess(["python", "-c", code, *argv], **reply)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


_fork_server = _ForkServer() if hasattr(os, "fork") else None


@pytest.fixture(scope="module", autouse=True)
def _stop_the_fork_server():
    yield
    if _fork_server is not None:
        _fork_server.close()


PRINT_SETTINGS = "import sys, governance.settings as s; print(*(getattr(s, name) for name in sys.argv[1:]), sep='\\n')"


@pytest.fixture
def base_env(tmp_path) -> dict[str, str]:
    """A production-like environment that imports cleanly: nothing from the test run leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DEBUG": "false",
        "SECRET_KEY": production_secret_key(),
        "ALLOWED_HOSTS": "gov.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "ENV_FILE": "",  # not the checkout's .env that `make run` writes
    }
    return env


def production_secret_key() -> str:
    """What an operator generates: long, random, many distinct characters (check W009)."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(64))


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if args[0] == "-c" and _fork_server is not None:
        return _fork_server.run(env, args[1], list(args[2:]), timeout)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def import_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(env, "-c", "import governance.settings")


def settings_of(env: dict[str, str], *names: str) -> list[str]:
    """The settings' values as printed by a fresh interpreter with this environment."""
    result = run(env, "-c", PRINT_SETTINGS, *names)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("\n")


def setting(env: dict[str, str], name: str) -> str:
    (value,) = settings_of(env, name)
    return value


def error_line(result: subprocess.CompletedProcess) -> str:
    """The exception line a person reads at the bottom of the traceback."""
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert lines, "no error output"
    return lines[-1]


def test_the_base_environment_imports(base_env):
    result = import_settings(base_env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://user:password@db.example.com:3306/governance", "unsupported scheme 'mysql'"),
        ("not a url", "unsupported scheme"),
        ("postgres://host:5432/", "no database name"),
        ("postgres://user@host:5432", "no database name"),
    ],
)
def test_bad_database_url_is_a_clear_error(base_env, url, problem):
    base_env["DATABASE_URL"] = url
    result = import_settings(base_env)
    assert result.returncode != 0
    line = error_line(result)
    assert "ImproperlyConfigured" in line
    assert "DATABASE_URL" in line
    assert problem in line
    assert url in line, "the message shows the value that was refused"


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("postgres://governance:pw@postgres:5432/governance", "django.db.backends.postgresql", "governance"),
        ("postgresql://governance@127.0.0.1/gov", "django.db.backends.postgresql", "gov"),
        ("sqlite:////tmp/some/governance.sqlite3", "django.db.backends.sqlite3", "/tmp/some/governance.sqlite3"),
    ],
)
def test_good_database_urls(base_env, url, engine, name):
    base_env["DATABASE_URL"] = url
    result = run(
        base_env, "-c", "import governance.settings as s; d = s.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [engine, name]


def test_postgres_connections_are_persistent_and_health_checked(base_env):
    base_env["DATABASE_URL"] = "postgres://governance:pw@postgres:5432/governance"
    base_env["DB_CONN_MAX_AGE"] = "30"
    result = run(
        base_env,
        "-c",
        "import governance.settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["30", "True"]


def test_debug_off_without_secret_key_refuses_to_start(base_env):
    del base_env["SECRET_KEY"]
    result = import_settings(base_env)
    assert result.returncode != 0
    line = error_line(result)
    assert "ImproperlyConfigured" in line and "SECRET_KEY" in line


def test_debug_off_with_an_empty_secret_key_refuses_to_start(base_env):
    base_env["SECRET_KEY"] = ""
    result = import_settings(base_env)
    assert result.returncode != 0
    assert "SECRET_KEY" in error_line(result)


def test_debug_is_off_unless_asked_for(base_env):
    del base_env["DEBUG"]
    assert setting(base_env, "DEBUG") == "False"
    del base_env["SECRET_KEY"]
    result = import_settings(base_env)
    assert result.returncode != 0 and "SECRET_KEY" in error_line(result)


def test_debug_on_without_secret_key_uses_a_development_key(base_env):
    del base_env["SECRET_KEY"]
    base_env["DEBUG"] = "true"
    assert "insecure" in setting(base_env, "SECRET_KEY")


def test_secret_key_file_is_read(base_env, tmp_path):
    key = production_secret_key()
    key_file = tmp_path / "secret_key"
    key_file.write_text(f"{key}\n")  # `echo` and editors add a newline: it is stripped
    del base_env["SECRET_KEY"]
    base_env["SECRET_KEY_FILE"] = str(key_file)
    assert setting(base_env, "SECRET_KEY") == key


def test_secret_key_file_wins_over_the_variable(base_env, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("key-from-the-secret-file-" + "x" * 40)
    base_env["SECRET_KEY"] = "key-from-the-environment"
    base_env["SECRET_KEY_FILE"] = str(key_file)
    assert setting(base_env, "SECRET_KEY") == key_file.read_text()


def test_missing_secret_key_file_is_a_clear_error(base_env, tmp_path):
    missing = tmp_path / "no-such-dir" / "secret_key"
    del base_env["SECRET_KEY"]
    base_env["SECRET_KEY_FILE"] = str(missing)
    result = import_settings(base_env)
    assert result.returncode != 0
    line = error_line(result)
    assert "ImproperlyConfigured" in line
    assert "SECRET_KEY_FILE" in line
    assert str(missing) in line


def test_empty_secret_key_file_refuses_to_start(base_env, tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("\n")
    del base_env["SECRET_KEY"]
    base_env["SECRET_KEY_FILE"] = str(key_file)
    result = import_settings(base_env)
    assert result.returncode != 0
    assert "SECRET_KEY" in error_line(result)


def test_email_password_file_is_read(base_env, tmp_path):
    password_file = tmp_path / "smtp_password"
    password_file.write_text("smtp-pass\n")
    base_env["EMAIL_HOST_PASSWORD_FILE"] = str(password_file)
    assert setting(base_env, "EMAIL_HOST_PASSWORD") == "smtp-pass"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:6379/0", "127.0.0.1:6379", "redis://", "redis:///0", "localhost"],
)
def test_bad_redis_url_is_a_clear_error(base_env, url):
    base_env["REDIS_URL"] = url
    result = import_settings(base_env)
    assert result.returncode != 0
    line = error_line(result)
    assert "ImproperlyConfigured" in line
    assert "REDIS_URL" in line
    assert repr(url) in line


@pytest.mark.parametrize("url", ["redis://redis:6379/0", "rediss://:password@cache.example.com:6380/1"])
def test_good_redis_urls_feed_broker_and_results(base_env, url):
    base_env["REDIS_URL"] = url
    assert settings_of(base_env, "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND") == [url, url]


def test_bad_integer_is_an_error_naming_nothing_silently(base_env):
    """A typo in a number must stop the start, not fall back to a default."""
    base_env["EVIDENCE_MAX_UPLOAD_BYTES"] = "500MB"
    result = import_settings(base_env)
    assert result.returncode != 0
    assert "500MB" in result.stderr


def test_production_defaults_are_hardened(base_env):
    script = (
        "import governance.settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.ALLOWED_HOSTS)"
    )
    result = run(base_env, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') ['gov.example.com']")


def test_django_security_checks_pass_with_production_settings(base_env):
    """The HTTPS, cookie, HSTS and secret-key checks of --deploy, by themselves."""
    result = run(base_env, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_passes_with_production_settings(base_env):
    """`manage.py check --deploy` with the defaults a production deployment gets: no warning
    of any kind (Django's security checks and drf-spectacular's schema check)."""
    result = run(base_env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_flags_a_weak_secret_key(base_env):
    """The check is real: a short key is reported (security.W009)."""
    base_env["SECRET_KEY"] = "short"
    result = run(base_env, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr

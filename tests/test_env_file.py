"""A second terminal works: manage.py reads the checkout's .env (written by `make run`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_VARS = ("SECRET_KEY", "DEBUG", "DATABASE_URL", "ENV_FILE", "ALLOWED_HOSTS", "REDIS_URL")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_manage_py_takes_its_settings_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# written by make run\n"
        "DEBUG=false\n"
        "SECRET_KEY=a-long-random-key-from-the-env-file-0123456789-abcdefghijklmnop\n"
        f"DATABASE_URL=sqlite:///{tmp_path}/db.sqlite3\n"
    )
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        ENV_FILE=str(env_file),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tmp_path}/db.sqlite3"


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=false\nSECRET_KEY=from-the-file-0123456789-0123456789-0123456789\n")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        ENV_FILE=str(env_file),
        SECRET_KEY="from-the-environment-0123456789-0123456789",
    )
    assert result.stdout.strip() == "from-the-environment-0123456789-0123456789", result.stderr


def test_without_an_env_file_a_missing_secret_key_is_still_refused():
    result = _manage("check", ENV_FILE="", DEBUG="false")
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr

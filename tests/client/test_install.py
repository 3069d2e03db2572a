"""`pip install ./client` works alone: a fresh virtualenv gets govern and httpx, not Django."""

from __future__ import annotations

import subprocess
import sys

from tests.client.conftest import CLIENT


def test_the_client_installs_alone_in_a_fresh_venv(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)  # nothing of the checkout leaks into the venv
    monkeypatch.setenv("PIP_NO_INPUT", "1")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = subprocess.run(
        [*pip, "-r", str(CLIENT / "requirements.txt"), str(CLIENT)], capture_output=True, text=True, timeout=300
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    version = subprocess.run([str(venv / "bin" / "govern"), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("govern "), version
    no_django = subprocess.run([str(venv / "bin" / "python"), "-c", "import django"], capture_output=True, timeout=60)
    assert no_django.returncode != 0, "the client must not pull in Django"
    unset = subprocess.run([str(venv / "bin" / "govern"), "status", "1"], capture_output=True, text=True, timeout=60)
    assert unset.returncode == 2 and "GOVERNANCE_URL is not set" in unset.stderr

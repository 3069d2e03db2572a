"""The `govern` client is its own package (client/): tests import and run the checkout's copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "client"
if str(CLIENT) not in sys.path:
    sys.path.insert(0, str(CLIENT))


def run_govern(*args: str, url: str | None = None, token: str | None = None, timeout: float = 60):
    """`govern ARGS` in a subprocess (the checkout's client), as a CI job runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVERNANCE_", "GITHUB_", "CI_"))}
    env["PYTHONPATH"] = str(CLIENT)
    if url is not None:
        env["GOVERNANCE_URL"] = url
    if token is not None:
        env["GOVERNANCE_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "govern", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def govern():
    return run_govern

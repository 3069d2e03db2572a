"""People and requests for the notification tests, a real SMTP server (aiosmtpd) in a
subprocess, and a Celery worker that sends through it."""

from __future__ import annotations

import email
import email.policy
import mailbox
import os
import signal
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from unittest import mock

import pytest

from governance.approvals.services import promotion_request
from governance.notifications.models import Notification
from tests.conftest import WorkerProcess
from tests.factories import grant, make_user


@pytest.fixture
def carol(team):
    """Carol is a second tech lead (reviewer) of the team: she may sign off too."""
    user = make_user("carol")
    grant(user, "reviewer", team=team)
    return user


@pytest.fixture
def file_request(alice, version):
    """File a draft → staging request as alice: no policy, so no gates and one reviewer slot;
    "approval needed" is recorded at once for every reviewer."""

    def file(**kw):
        return promotion_request(user=alice, version=version, to_stage="staging", justification="better AUC", **kw)

    return file


@pytest.fixture
def approval_needed(file_request, bob):
    """Bob's "approval needed" notification of a freshly filed request."""
    request = file_request()
    return Notification.objects.get(recipient=bob, kind="approval_needed", request=request)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1:port, storing what it receives in a Maildir (with the envelope
    recipients in X-RcptTo)."""

    def __init__(self, port: int, maildir: Path, log_path: Path):
        self.port, self.maildir, self.log_path = port, maildir, log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 15.0) -> SmtpServer:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}"]
                + ["-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"aiosmtpd exited with {self.proc.returncode}; see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"aiosmtpd did not listen on {self.port} within {timeout}s")

    def messages(self) -> list[EmailMessage]:
        """What arrived, parsed with the modern email API (decoded headers, get_body())."""
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(self.maildir, create=False)
        return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in sorted(box.keys())]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


class SmtpWorker(WorkerProcess):
    """The conftest worker, with EMAIL_* pointing at our SMTP server."""

    def __init__(self, *args, email_env: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.email_env = email_env

    def _spawn(self, log):
        with mock.patch.dict(os.environ, self.email_env):
            return super()._spawn(log)


@pytest.fixture
def smtp_server(tmp_path):
    """A real SMTP server on a free port, not yet started (a test may start it late to play
    an SMTP outage); stopped after the test."""
    server = SmtpServer(free_port(), tmp_path / "maildir", tmp_path / "smtpd.log")
    yield server
    server.stop()


@pytest.fixture
def smtp_worker(stopped_celery_worker, django_db_blocker, smtp_server, tmp_path):
    """A Celery worker sending email by SMTP to `smtp_server`. The session worker is stopped
    first (it would take our tasks and deliver them to its in-memory outbox)."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    env = {
        "EMAIL_BACKEND": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_TIMEOUT": "5",
        "SITE_URL": "https://governance.example.test",
    }
    worker = SmtpWorker(db_name, tmp_path / "smtp-worker.log", "smtp-worker", email_env=env).start()
    yield worker
    worker.stop()

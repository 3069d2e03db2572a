"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) and the documented recipe.

The receiver answers from a script of status codes (the last one repeats) and keeps every
request it got: the raw body, the headers, when it arrived, and whether the signature
verifies with the Python recipe of docs/webhooks.md, which is read from the page itself.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify():
    """The `verify` function of docs/webhooks.md, exactly as a reader would copy it."""
    text = DOCS.read_text()
    marker = text.index("<!-- verify-recipe")
    block = re.search(r"```python\n(.*?)```", text[marker:], re.S)
    namespace: dict = {}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)
    return namespace["verify"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    verified: bool | None


@dataclass
class Receiver:
    url: str
    secret: str = ""
    script: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} requests, expected {n}")


@pytest.fixture
def receiver():
    verify = documented_verify()
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items()}
            verified = verify(state.secret, headers.get("X-Governance-Signature", ""), body) if state.secret else None
            with state.lock:
                state.requests.append(Received(self.path, headers, body, time.time(), verified))
            code = state.answer()
            payload = f"answer {code} #{len(state.requests)}".encode()
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll: shutdown() waits for the loop to notice it (0.5 s at the default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/governance?source=test"
    yield state
    server.shutdown()
    server.server_close()

"""The governance HTTP API as the CLI uses it: one httpx client, errors as `Failure`."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

# Exit codes (the CLI contract).
OK, FAILED, USAGE, TIMED_OUT = 0, 1, 2, 3


class Failure(Exception):
    """Something the CLI reports in one line on stderr and answers with `exit_code`.
    `error` is the API's error object ({code, message, fields}) when the server sent one."""

    def __init__(self, message: str, exit_code: int = USAGE, error: dict | None = None):
        super().__init__(message)
        self.message, self.exit_code, self.error = message, exit_code, error


def error_line(status: int, error: dict) -> str:
    """The API's error in one line, naming each offending field and what is wrong with it."""
    code = error.get("code") or "error"
    message = " ".join(str(error.get("message") or "").split()) or f"HTTP {status}"
    unsaid = []
    for field, problems in (error.get("fields") or {}).items():
        problems = problems if isinstance(problems, list) else [problems]
        text = " ".join(" ".join(str(p).split()) for p in problems)
        if text and text not in message:
            unsaid.append(f"{field}: {text}")
        elif f"{field}:" not in message and field != "non_field_errors":
            unsaid.append(f"field: {field}")
    if unsaid:
        message += " (" + "; ".join(unsaid) + ")"
    return f"{code} (HTTP {status}): {message}"


class Api:
    """GOVERNANCE_URL and GOVERNANCE_TOKEN; every call returns the decoded JSON body."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 60.0):
        url = (url if url is not None else os.environ.get("GOVERNANCE_URL", "")).strip()
        token = (token if token is not None else os.environ.get("GOVERNANCE_TOKEN", "")).strip()
        if not url:
            raise Failure("GOVERNANCE_URL is not set (the server's base URL, e.g. https://governance.example).")
        if not url.startswith(("http://", "https://")):
            raise Failure(f"GOVERNANCE_URL must start with http:// or https:// (got {url!r}).")
        if not token:
            raise Failure("GOVERNANCE_TOKEN is not set (create one with `manage.py create_token USER`).")
        if any(c.isspace() for c in token) or not token.isascii():
            raise Failure("GOVERNANCE_TOKEN holds spaces or non-ASCII characters; paste the token alone.")
        self.base = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.base + "/api/v1/",
            headers={"Authorization": f"Token {token}", "Accept": "application/json", "User-Agent": "govern"},
            timeout=timeout,
        )

    def close(self) -> None:
        self.client.close()

    def page_url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    # --- endpoints -------------------------------------------------------------------

    @staticmethod
    def model_path(model: str, version: int | None = None) -> str:
        path = f"models/{quote(model, safe='')}/"
        return path if version is None else f"{path}versions/{version}/"

    def register(self, model: str, payload: dict) -> dict:
        return self.create(self.model_path(model) + "versions/", json=payload)

    def upload(self, model: str, version: int, kind: str, path: Path) -> dict:
        return self.create(
            self.model_path(model, version) + "evidence/",
            data={"kind": kind},
            files=lambda: {"file": (path.name, path.open("rb"), "application/octet-stream")},
        )

    def upload_status(self, upload_id: str) -> dict:
        """A large upload's parse: queued, parsing, accepted (with its artifact) or refused."""
        return self.call("GET", f"evidence/uploads/{upload_id}/", retries=3)

    def promote(self, model: str, version: int, payload: dict) -> dict:
        return self.create(self.model_path(model, version) + "promotions/", json=payload)

    def dry_run(self, model: str, version: int, to_stage: str) -> dict:
        """Starts a dry run on a worker: its result, or (202) the dry run to poll."""
        return self.call("POST", self.model_path(model, version) + "dry-run/", json={"to_stage": to_stage})

    def dry_run_status(self, dry_run_id: int) -> dict:
        return self.call("GET", f"dry-runs/{dry_run_id}/", retries=3)

    def promotion(self, request_id: int) -> dict:
        return self.call("GET", f"promotions/{request_id}/", retries=3)

    # --- transport -------------------------------------------------------------------

    def create(self, path: str, *, retries: int = 3, files=None, **kwargs) -> dict:
        """A POST that creates something, sent with one Idempotency-Key for this command: when
        the connection drops (the answer lost, the request maybe done), it is sent again with
        the same key, and the server answers what it did the first time instead of doing it
        twice."""
        headers = {"Idempotency-Key": f"govern-{uuid.uuid4().hex}"}
        for attempt in range(retries + 1):
            opened = files() if files is not None else None  # fresh handles for each try
            try:
                response = self.client.request("POST", path, headers=headers, files=opened, **kwargs)
                break
            except httpx.TransportError as exc:
                if attempt < retries and not isinstance(exc, httpx.UnsupportedProtocol):
                    time.sleep(min(8.0, 1.0 * 2**attempt))
                    continue
                raise Failure(f"cannot reach {self.base}: {_transport_reason(exc)}") from None
            except httpx.InvalidURL as exc:
                raise Failure(f"invalid URL {self.base!r}: {exc}") from None
            finally:
                for _name, handle, *_rest in (opened or {}).values():
                    handle.close()
        return self._decode(response)

    def call(self, method: str, path: str, *, retries: int = 0, **kwargs) -> dict:
        """One request; a GET is tried again on a dropped connection (`retries` times)."""
        for attempt in range(retries + 1):
            try:
                response = self.client.request(method, path, **kwargs)
                break
            except httpx.TransportError as exc:
                if attempt < retries and not isinstance(exc, httpx.UnsupportedProtocol):
                    time.sleep(1.0)
                    continue
                raise Failure(f"cannot reach {self.base}: {_transport_reason(exc)}") from None
            except httpx.InvalidURL as exc:
                raise Failure(f"invalid URL {self.base!r}: {exc}") from None
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            if not isinstance(body, dict):
                raise Failure(
                    f"{self.base} answered HTTP {response.status_code} without a JSON object; is it the governance server?"
                )
            return body
        error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
        if error is None:
            raise Failure(
                f"{self.base} answered HTTP {response.status_code} ({response.reason_phrase}), not a JSON error."
            )
        line = error_line(response.status_code, error)
        if response.status_code == 401:
            line += " Check GOVERNANCE_TOKEN."
        raise Failure(line, error=error)


def _transport_reason(exc: Exception) -> str:
    reason = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__

"""A creating command whose answer is lost on the way back is sent again with the same
Idempotency-Key, and the server does it once (against the live server: only the network's
failure is simulated, by a transport that drops the first answer it receives)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from governance.accounts.models import ApiToken
from governance.registry.models import ModelVersion
from tests.factories import grant, make_model, make_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)


class DropsFirstAnswer(httpx.HTTPTransport):
    """Delivers every request; loses the server's answer to the first one."""

    def __init__(self):
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = super().handle_request(request)
        if len(self.sent) == 1:
            response.read()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_lost_answer_is_retried_with_the_same_key_and_registers_once(live_server, monkeypatch):
    from govern import api as govern_api

    monkeypatch.setattr(govern_api.time, "sleep", lambda seconds: None)  # no back-off wait here
    team = make_team("ml")
    user = make_user("pipeline")
    grant(user, "mlops", team=team)
    make_model("churn", team=team)
    _, token = ApiToken.issue(user=user)
    api = govern_api.Api(url=live_server.url, token=token)
    transport = DropsFirstAnswer()
    api.client = httpx.Client(base_url=api.client.base_url, headers=api.client.headers, transport=transport)
    digest = hashlib.sha256(b"churn-1").hexdigest()
    payload = {
        "artifact_uri": "s3://models/churn/1",
        "artifact_sha256": digest,
        "code_hash": digest[:40],
        "data_snapshot_id": "snap-1",
        "training_config": {},
        "seed": 1,
    }
    answer = api.register("churn", payload)
    assert answer["version"] == 1
    assert len(transport.sent) == 2
    keys = {r.headers["Idempotency-Key"] for r in transport.sent}
    assert len(keys) == 1 and keys.pop().startswith("govern-")
    assert ModelVersion.objects.filter(model__name="churn").count() == 1  # done once, answered twice
    # A new command is a new key: a second register is a second version.
    assert govern_api.Api(url=live_server.url, token=token).register("churn", payload | {"seed": 2})["version"] == 2

"""Schemathesis against /api/schema/ on the live server, authenticated as several roles.

Every operation of the published schema gets generated requests (valid per the schema, with
the path parameters either naming the seeded team, model, version, request, token and gate,
or generated) as an admin (staff), the model owner, an approver (risk officer) and an auditor of one
team. Each response must not be a server error and must conform to the schema: its
status code documented, its content type, and its body against the documented schema (the
JSON error format included). The requests go over real HTTP to Django's live server on the
real PostgreSQL test database. Bounded: MAX_EXAMPLES per operation and role, derandomized
(the same requests each run); docs/api.md says how to run it deeper by hand.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from governance.accounts.models import ApiToken
from governance.approvals.services import promotion_request
from governance.policies.services import policy_publish
from tests.factories import grant, make_model, make_team, make_user, make_version, predictions_csv, upload

pytestmark = [pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = 3
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

POLICY = """
name: fuzz
applies_to: {models: [fuzz-model]}
transitions:
  draft->staging:
    gates:
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
  staging->production:
    gates:
      - {id: docs, type: documentation}
    approvals: [{role: risk_officer}]
"""


def _seed():
    team = make_team("fuzz")
    admin = make_user("fuzz-admin", is_staff=True, is_superuser=True)
    owner, approver, auditor = (make_user(f"fuzz-{r}") for r in ("owner", "approver", "auditor"))
    grant(owner, "model_owner", team=team)
    grant(approver, "risk_officer", team=team)
    grant(auditor, "auditor", team=team)
    model = make_model("fuzz-model", team=team)
    make_version(model, owner, stage="staging")
    version = make_version(model, owner)
    upload(owner, version, "predictions", predictions_csv(300, quality=1.4, baseline_quality=1.2), "predictions.csv")
    policy_publish(text=POLICY)
    request = promotion_request(user=owner, version=version, to_stage="staging", justification="schemathesis")
    roles = {}
    for name, user in [("admin", admin), ("owner", owner), ("approver", approver), ("auditor", auditor)]:
        _, key = ApiToken.issue(user=user, name="schemathesis")
        spare, _ = ApiToken.issue(user=user, name="spare")  # DELETE /tokens/{id}/ revokes this one, not the key
        roles[name] = (key, spare.pk)
    known = {"name": model.name, "number": version.version, "team": team.name, "gate_id": "docs"}
    return roles, known, request.pk


def _path_parameters(path: str, known: dict, request_pk: int, spare_token: int) -> dict:
    ids = {"/api/v1/promotions/": request_pk, "/api/v1/tokens/": spare_token}
    values = {k: v for k, v in known.items() if "{" + k + "}" in path}
    if "{id}" in path:
        pk = next((v for prefix, v in ids.items() if path.startswith(prefix)), None)
        if pk is None:
            return {}
        values["id"] = pk
    return values


def test_no_server_error_and_every_response_matches_the_schema(live_server, settings):
    settings.DRY_RUN_SYNC_WAIT_SECONDS = 0  # no worker here: answer 202 at once instead of waiting
    settings.REPORT_SYNC_WAIT_SECONDS = 0
    roles, known, request_pk = _seed()
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, len(operations)
    failures: list[str] = []
    calls = {"n": 0, "2xx": 0}

    for role, (key, spare_token) in roles.items():
        headers = {"Authorization": f"Token {key}"}
        for operation in operations:
            resolved = _path_parameters(operation.path, known, request_pk, spare_token)
            strategy = operation.as_strategy()
            if resolved:
                strategy = st.one_of(operation.as_strategy(path_parameters=resolved), strategy)

            _fuzz(strategy, live_server.url, headers, role, failures, calls)

    assert calls["n"] >= len(operations) * len(roles)
    assert calls["2xx"] >= 100, calls  # the seeded paths resolve: not only 400/403/404 were tested
    assert failures == [], "\n\n".join(failures[:15]) + f"\n\n({len(failures)} failures)"


def _fuzz(strategy, base_url, headers, role, failures, calls):
    @settings_for_examples
    @given(case=strategy)
    def run(case):
        calls["n"] += 1
        response = case.call(base_url=base_url, headers=headers)
        calls["2xx"] += 200 <= response.status_code < 300
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # a Failure, or a FailureGroup of them
            failures.append(f"{role} {case.method} {case.formatted_path}: {str(exc)[:600]}")

    run()


settings_for_examples = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

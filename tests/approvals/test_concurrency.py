"""Two approvers sign the last two slots at the same moment (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from governance.approvals.models import Decision, PromotionRequest, RequestStatus
from governance.approvals.services import promotion_decide, promotion_request
from governance.audit.services import audit_verify
from governance.policies.services import policy_publish
from governance.registry.models import ModelVersion
from tests.factories import grant, make_model, make_team, make_user, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_last_approvals_make_exactly_one_promotion(attempt):
    if connection.vendor != "postgresql":
        pytest.fail("the concurrency test needs PostgreSQL")
    team = make_team("t")
    owner, risk, compliance = make_user("owner"), make_user("risk"), make_user("compliance")
    grant(owner, "model_owner", team=team)
    grant(risk, "risk_officer", team=team)
    grant(compliance, "compliance_officer", team=team)
    model = make_model("m", team=team, risk_tier="regulated")
    old, new = make_version(model, owner, stage="production"), make_version(model, owner, stage="staging")
    policy_publish(
        text="""
name: two-slots
applies_to: {risk_tiers: [regulated]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: risk_officer}, {role: compliance_officer}]
""",
    )
    request = promotion_request(user=owner, version=new, to_stage="production", justification="x")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def decide(user):
        try:
            barrier.wait()
            promotion_decide(user=user, request=request, decision="approve", reason="ok", risk_class="low")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (risk, compliance)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    request.refresh_from_db()
    assert request.status == RequestStatus.PROMOTED
    assert Decision.objects.filter(request=request).count() == 2
    assert ModelVersion.objects.filter(model=model, stage="production").count() == 1
    assert ModelVersion.objects.get(pk=new.pk).stage == "production"
    assert ModelVersion.objects.get(pk=old.pk).stage == "deprecated"
    assert PromotionRequest.objects.filter(status="promoted").count() == 1
    assert audit_verify().ok

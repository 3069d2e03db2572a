"""The promotion state machine, through approvals/services.py, on PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from governance.accounts.services import role_revoke
from governance.approvals.models import Decision, PromotionRequest, RequestStatus
from governance.approvals.services import (
    PromotionError,
    assert_request_transition,
    assert_stage_transition,
    promotion_cancel,
    promotion_decide,
    promotion_request,
    promotion_rollback,
)
from governance.audit.models import AuditEvent
from governance.registry.models import ModelVersion
from tests.factories import grant, make_user, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


def _request(user, version, to_stage="staging", **kw):
    return promotion_request(
        user=user, version=version, to_stage=to_stage, justification="better AUC", ticket_id="RISK-1", **kw
    )


def _approve(user, request, role=None):
    return promotion_decide(
        user=user, request=request, decision="approve", reason="looks good", risk_class="low", role=role
    )


def test_it_refuses_transitions_not_in_the_table():
    assert_stage_transition("draft", "staging")
    with pytest.raises(PromotionError, match="cannot move to production"):
        assert_stage_transition("draft", "production")
    with pytest.raises(PromotionError):
        assert_stage_transition("archived", "draft")
    with pytest.raises(PromotionError):
        assert_request_transition("promoted", "awaiting_approvals")


def test_it_promotes_draft_to_staging_with_a_reviewer_sign_off(alice, bob, version):
    request = _request(alice, version)
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_APPROVALS  # no gates without a policy block
    assert request.required_approvals == [{"role": "reviewer", "count": 1}]
    _approve(bob, request)
    request.refresh_from_db()
    version.refresh_from_db()
    assert request.status == RequestStatus.PROMOTED
    assert version.stage == "staging"
    actions = list(AuditEvent.objects.filter(model_name=version.model.name).values_list("action", flat=True))
    assert "promotion.requested" in actions and "promotion.approved" in actions and "promotion.promoted" in actions


def test_it_refuses_self_approval(alice, team, version):
    grant(alice, "reviewer", team=team)
    request = _request(alice, version)
    with pytest.raises(PermissionDenied, match="separation of duties"):
        _approve(alice, request)
    assert not Decision.objects.exists()


def test_it_lets_one_person_fill_only_one_slot(alice, team, model):
    v = make_version(model, alice, stage="staging")
    make_version(model, alice, stage="staging")
    from governance.policies.services import policy_publish

    policy_publish(
        text="""
name: two-reviewers
applies_to: {models: [credit-scoring]}
transitions:
  staging->production:
    gates: []
    approvals:
      - {role: reviewer, count: 2}
""",
        reason="test",
    )
    dual = make_user("dual")
    grant(dual, "reviewer", team=team)
    request = _request(alice, v, to_stage="production")
    _approve(dual, request)
    with pytest.raises(PromotionError, match="at most one"):
        _approve(dual, request)
    assert Decision.objects.filter(request=request).count() == 1


def test_it_stops_counting_an_approval_when_the_role_is_revoked(alice, team, model):
    from governance.approvals.services import request_slot_state
    from governance.policies.services import policy_publish

    policy_publish(
        text="""
name: owner-and-product
applies_to: {models: [credit-scoring]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: reviewer}, {role: product_owner}]
""",
    )
    v = make_version(model, alice, stage="staging")
    rev = make_user("rev")
    grant(rev, "reviewer", team=team)
    request = _request(alice, v, to_stage="production")
    _approve(rev, request)
    role_revoke(actor=None, user=rev, role="reviewer", team=team)
    state = request_slot_state(PromotionRequest.objects.get(pk=request.pk))
    assert state.slots[0].decision is None
    assert "no longer holds the reviewer role" in state.stale[0][1]
    po = make_user("po")
    grant(po, "product_owner", team=team)
    _approve(po, request)
    request.refresh_from_db()
    assert request.status == RequestStatus.AWAITING_APPROVALS  # the revoked approval does not count


def test_it_refuses_experiments_beyond_staging(alice, model):
    v = make_version(model, alice, stage="staging")
    with pytest.raises(PromotionError, match="experiment may reach staging only"):
        _request(alice, v, to_stage="production", change_type="experiment")
    assert not PromotionRequest.objects.exists()


def test_it_refuses_production_without_a_policy(alice, model):
    v = make_version(model, alice, stage="staging")
    with pytest.raises(PromotionError, match="no policy applies"):
        _request(alice, v, to_stage="production")


def test_it_allows_one_open_request_per_version(alice, version):
    _request(alice, version)
    with pytest.raises(PromotionError, match="already has an open promotion request"):
        _request(alice, version)


def test_it_refuses_a_decision_from_someone_without_a_required_role(alice, charlie, version):
    request = _request(alice, version)
    with pytest.raises(PermissionDenied):
        _approve(charlie, request)


def test_reject_ends_the_request_and_keeps_the_stage(alice, bob, version):
    request = _request(alice, version)
    promotion_decide(user=bob, request=request, decision="reject", reason="AUC too low", risk_class="high")
    request.refresh_from_db()
    version.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert version.stage == "draft"
    with pytest.raises(PromotionError, match="takes no more decisions"):
        _approve(bob, request)


def test_cancel_by_requester(alice, version):
    request = _request(alice, version)
    promotion_cancel(user=alice, request=request, reason="wrong version")
    request.refresh_from_db()
    assert request.status == RequestStatus.CANCELLED
    with pytest.raises(PromotionError):
        promotion_cancel(user=alice, request=request)


def test_promoting_to_production_deprecates_the_previous_and_rollback_restores_it(alice, team, model):
    from governance.policies.services import policy_publish

    policy_publish(
        text="""
name: simple
applies_to: {models: [credit-scoring]}
transitions:
  staging->production:
    gates: []
    approvals: [{role: reviewer}]
""",
    )
    rev = make_user("rev2")
    grant(rev, "reviewer", team=team)
    v1, v2 = make_version(model, alice, stage="staging"), make_version(model, alice, stage="staging")
    for v in (v1, v2):
        request = _request(alice, v, to_stage="production")
        _approve(rev, request)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.stage, v2.stage) == ("deprecated", "production")
    restored = promotion_rollback(user=alice, model=model, reason="latency regression", ticket_id="INC-7")
    v2.refresh_from_db()
    assert restored.pk == v1.pk and restored.stage == "production"
    assert v2.stage == "deprecated"
    assert ModelVersion.objects.filter(model=model, stage="production").count() == 1


def test_open_requests_expire_after_the_configured_days(alice, version, settings):
    from datetime import timedelta

    from django.utils import timezone

    from governance.approvals.services import promotion_expire_stale

    settings.PROMOTION_REQUEST_EXPIRY_DAYS = 30
    request = _request(alice, version)
    assert promotion_expire_stale(now=timezone.now() + timedelta(days=29)) == []
    assert promotion_expire_stale(now=timezone.now() + timedelta(days=31)) == [request.pk]
    request.refresh_from_db()
    assert request.status == RequestStatus.EXPIRED and "30 days" in request.status_reason
    assert AuditEvent.objects.filter(action="promotion.expired").count() == 1
    assert promotion_expire_stale(now=timezone.now() + timedelta(days=31)) == []  # idempotent

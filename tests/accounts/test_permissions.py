"""accounts/permissions.py: the decision rule (pure) and the role and scope lookups (database)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from governance.accounts.permissions import (
    DecisionFacts,
    audit_scope,
    decision_right,
    ensure_may,
    model_scope,
    require,
    roles_by_model,
    roles_by_user_and_model,
    roles_for_model,
    user_may,
    users_holding_roles,
)
from governance.accounts.roles import Action
from governance.accounts.services import role_revoke
from governance.audit.models import AuditEvent
from governance.audit.selectors import audit_events
from governance.registry.models import RegisteredModel
from tests.factories import grant, make_model, make_team, make_user

ME, REQUESTER = 7, 3


def facts(**overrides) -> DecisionFacts:
    values = dict(
        user_id=ME,
        held_roles=frozenset({"risk_officer"}),
        required_roles=("model_owner", "risk_officer", "compliance_officer"),
        open_roles=frozenset({"model_owner", "risk_officer", "compliance_officer"}),
        request_open=True,
        requested_by_id=REQUESTER,
        fills_a_slot=False,
    )
    values.update(overrides)
    return DecisionFacts(**values)


# --- The decision rule, without a database ---------------------------------------------------


def test_it_lets_a_holder_of_a_required_role_approve_an_open_slot():
    right = decision_right(facts())
    assert right.may_decide and right.may_approve
    assert right.approve_roles == ("risk_officer",) and right.decide_roles == ("risk_officer",)
    assert right.refusal("approve") is None and right.role_for("approve") == "risk_officer"


def test_it_never_lets_the_requester_decide_even_with_every_role():
    right = decision_right(facts(user_id=REQUESTER, held_roles=frozenset({"model_owner", "risk_officer"})))
    assert not right.may_decide and right.code == "forbidden"
    assert "separation of duties" in right.why_not
    assert right.refusal("reject") == ("forbidden", right.why_not, None)


def test_it_lets_one_person_fill_one_slot_only():
    right = decision_right(facts(held_roles=frozenset({"risk_officer", "compliance_officer"}), fills_a_slot=True))
    assert not right.may_decide and right.code == "duplicate"
    assert "one person fills at most one slot" in right.why_not


def test_it_refuses_a_role_the_request_does_not_need():
    right = decision_right(facts(held_roles=frozenset({"product_owner", "mlops"})))
    assert not right.may_decide and right.code == "forbidden"
    assert (
        right.why_not
        == "You hold none of the roles this request needs (model_owner, risk_officer, compliance_officer)."
    )


def test_it_never_lets_an_auditor_decide_even_if_a_policy_names_the_role():
    right = decision_right(facts(held_roles=frozenset({"auditor"}), required_roles=("auditor",)))
    assert not right.may_decide


def test_a_closed_request_takes_no_decision():
    right = decision_right(facts(request_open=False))
    assert not right.may_decide and right.code == "invalid_state"


def test_when_my_slots_are_filled_i_may_still_reject_but_not_approve():
    right = decision_right(facts(open_roles=frozenset({"model_owner"})))
    assert right.may_decide and not right.may_approve
    assert right.refusal("reject") is None and right.role_for("reject") == "risk_officer"
    code, message, field = right.refusal("approve")
    assert (code, field) == ("duplicate", "role") and "already filled" in message


def test_a_named_role_must_be_one_i_hold_and_one_with_an_open_slot():
    right = decision_right(
        facts(
            held_roles=frozenset({"risk_officer", "compliance_officer"}), open_roles=frozenset({"compliance_officer"})
        )
    )
    assert right.approve_roles == ("compliance_officer",)
    assert right.decide_roles == ("risk_officer", "compliance_officer")  # policy order
    assert right.refusal("approve", "risk_officer")[0] == "duplicate"
    assert right.refusal("approve", "compliance_officer") is None
    assert right.refusal("reject", "model_owner")[0] == "forbidden"


def test_required_roles_named_twice_are_offered_once():
    right = decision_right(facts(required_roles=("risk_officer", "risk_officer")))
    assert right.decide_roles == ("risk_officer",)


# --- Roles and scopes, on the database ----------------------------------------------------------


@pytest.fixture
def world(db):
    credit, retail = make_team("credit"), make_team("retail")
    scorecard = make_model("scorecard", team=credit)
    fraud = make_model("fraud", team=credit)
    recommender = make_model("recommender", team=retail)
    ana, bo, cy = make_user("ana"), make_user("bo"), make_user("cy")
    grant(ana, "risk_officer", team=credit)  # every credit model
    grant(bo, "model_owner", model=recommender)  # one model only
    grant(bo, "auditor", team=credit)
    return {
        "credit": credit,
        "scorecard": scorecard,
        "fraud": fraud,
        "recommender": recommender,
        "ana": ana,
        "bo": bo,
        "cy": cy,
    }


def _visible(user, action=Action.VIEW) -> set[str]:
    scope = model_scope(user, action)
    qs = RegisteredModel.objects.all() if scope is None else RegisteredModel.objects.filter(scope)
    return set(qs.values_list("name", flat=True))


def test_roles_come_from_the_team_and_from_the_model(world):
    assert roles_for_model(world["ana"], world["scorecard"]) == {"risk_officer"}
    assert roles_for_model(world["ana"], world["recommender"]) == set()
    assert roles_for_model(world["bo"], world["recommender"]) == {"model_owner"}
    assert roles_for_model(world["bo"], world["fraud"]) == {"auditor"}
    models = [world["scorecard"], world["recommender"]]
    assert roles_by_model(world["bo"], models) == {
        world["scorecard"].pk: {"auditor"},
        world["recommender"].pk: {"model_owner"},
    }
    held = roles_by_user_and_model([world["ana"].pk, world["bo"].pk, world["cy"].pk], models)
    assert held[(world["ana"].pk, world["scorecard"].pk)] == {"risk_officer"}
    assert (world["cy"].pk, world["scorecard"].pk) not in held


def test_model_scope_lists_exactly_what_each_person_may_see_or_do(world, admin_user):
    assert _visible(world["ana"]) == {"scorecard", "fraud"}
    assert _visible(world["bo"]) == {"scorecard", "fraud", "recommender"}
    assert _visible(world["bo"], Action.REGISTER_VERSION) == {"recommender"}  # the auditor role registers nothing
    assert _visible(world["cy"]) == set()
    assert _visible(admin_user) == {"scorecard", "fraud", "recommender"}


def test_require_is_404_for_an_unseen_model_and_403_for_a_seen_one(world):
    with pytest.raises(Http404):
        require(world["ana"], Action.VIEW, world["recommender"])
    with pytest.raises(PermissionDenied):
        require(world["ana"], Action.REGISTER_VERSION, world["scorecard"])
    require(world["ana"], Action.VIEW, world["scorecard"])
    with pytest.raises(PermissionDenied, match="needs the mlops or model_owner role"):
        ensure_may(world["bo"], Action.REGISTER_VERSION, world["fraud"], "Uploading evidence for fraud")


def test_a_revoked_role_is_gone_at_once(world):
    assert user_may(world["ana"], Action.DECIDE, world["fraud"])
    role_revoke(actor=None, user=world["ana"], role="risk_officer", team=world["credit"])
    assert not user_may(world["ana"], Action.VIEW, world["fraud"])
    assert users_holding_roles(world["fraud"], ["risk_officer"]) == set()


def test_users_holding_roles_counts_team_and_model_grants(world):
    assert users_holding_roles(world["recommender"], ["model_owner"]) == {world["bo"].pk}
    assert users_holding_roles(world["scorecard"], ["risk_officer", "auditor"]) == {world["ana"].pk, world["bo"].pk}
    assert users_holding_roles(world["scorecard"], []) == set()


def test_audit_scope_shows_events_of_visible_models_and_policies_only(world, admin_user):
    from django.db import transaction

    from governance.audit.services import audit_record

    with transaction.atomic():
        for name in ("scorecard", "recommender"):
            audit_record(actor=None, action="probe.model", obj=world[name], model_name=name, data={})
        audit_record(actor=None, action="policy.published", obj=world["credit"], data={})
    probes = AuditEvent.objects.filter(action__in=["probe.model", "policy.published"])

    def seen(user) -> set[str]:
        return set(audit_events(scope=audit_scope(user)).filter(pk__in=probes).values_list("action", "model_name"))

    assert seen(world["ana"]) == {("probe.model", "scorecard"), ("policy.published", "")}
    assert seen(world["cy"]) == {("policy.published", "")}
    assert seen(admin_user) == {("probe.model", "scorecard"), ("probe.model", "recommender"), ("policy.published", "")}

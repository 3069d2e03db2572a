"""Registering models and versions: who may, which names, version numbers, config hashes."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied

from governance.audit.models import AuditEvent
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.services import RegistryError, model_create, version_register
from tests.factories import grant, make_model, make_user

pytestmark = pytest.mark.django_db

SHA = "a" * 64


def _register(user, model, **kw):
    kw = {"artifact_uri": "s3://models/x.bin", "artifact_sha256": SHA, **kw}
    return version_register(user=user, model=model, **kw)


# --- Creating a model --------------------------------------------------------------------


def test_a_model_owner_creates_a_model_in_their_team_and_it_is_audited(alice, team):
    model = model_create(user=alice, name="churn-2026", team=team, risk_tier="high", domain="marketing")
    assert (model.name, model.team, model.risk_tier) == ("churn-2026", team, "high")
    event = AuditEvent.objects.get(action="model.created")
    assert event.model_name == "churn-2026" and event.actor_id == alice.pk
    assert event.data == {"team": team.name, "risk_tier": "high", "domain": "marketing"}


def test_mlops_and_admins_may_create_models_too(team, admin_user):
    mlops = make_user("mo")
    grant(mlops, "mlops", team=team)
    model_create(user=mlops, name="by-mlops", team=team, risk_tier="low")
    model_create(user=admin_user, name="by-admin", team=team, risk_tier="low")
    assert set(RegisteredModel.objects.values_list("name", flat=True)) == {"by-mlops", "by-admin"}


@pytest.mark.parametrize(
    "who", ["no role", "reviewer on the team", "model owner of another team", "deactivated model owner"]
)
def test_creating_a_model_is_refused_without_the_role_on_that_team(team, other_team, who):
    user = make_user("someone")
    if who == "reviewer on the team":
        grant(user, "reviewer", team=team)
    elif who == "model owner of another team":
        grant(user, "model_owner", team=other_team)
    elif who == "deactivated model owner":
        grant(user, "model_owner", team=team)
        user.is_active = False
        user.save(update_fields=["is_active"])
    events = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied, match="model_owner or mlops role"):
        model_create(user=user, name="not-allowed", team=team, risk_tier="low")
    assert not RegisteredModel.objects.filter(name="not-allowed").exists()
    assert AuditEvent.objects.count() == events


def test_a_model_name_is_taken_once(alice, team, other_team):
    grant(alice, "model_owner", team=other_team)
    model_create(user=alice, name="fraud", team=team, risk_tier="high")
    with pytest.raises(RegistryError, match="already exists") as refused:
        model_create(user=alice, name="fraud", team=other_team, risk_tier="low")
    assert refused.value.code == "conflict" and refused.value.field == "name"
    assert RegisteredModel.objects.get(name="fraud").team == team


@pytest.mark.parametrize("name", ["ab", "credit-scoring", "fraud_v2", "0day", "x" * 100])
def test_good_model_names(alice, team, name):
    assert model_create(user=alice, name=name, team=team, risk_tier="low").name == name


@pytest.mark.parametrize(
    "name",
    ["a", "Credit", "credit scoring", "-credit", "_credit", "crédit", "credit/scoring", "x" * 101, ""],
)
def test_bad_model_names_are_refused_naming_the_field(alice, team, name):
    with pytest.raises(RegistryError) as refused:
        model_create(user=alice, name=name, team=team, risk_tier="low")
    assert refused.value.field == "name"
    assert not RegisteredModel.objects.exists()
    assert not AuditEvent.objects.filter(action="model.created").exists()


def test_an_unknown_risk_tier_is_refused(alice, team):
    with pytest.raises(RegistryError) as refused:
        model_create(user=alice, name="ok-name", team=team, risk_tier="extreme")
    assert refused.value.field == "risk_tier"


# --- Registering versions ----------------------------------------------------------------


def test_versions_are_numbered_one_up_per_model(alice, model, team):
    other = make_model("other-model", team=team)
    assert [_register(alice, model).version for _ in range(3)] == [1, 2, 3]
    assert _register(alice, other).version == 1


def test_a_pipeline_may_choose_a_version_number_and_numbering_continues_after_it(alice, model):
    assert _register(alice, model, version=5).version == 5
    assert _register(alice, model).version == 6
    assert _register(alice, model, version=3).version == 3  # a gap may be filled later
    assert _register(alice, model).version == 7


@pytest.mark.parametrize("number", [0, -1])
def test_a_version_number_below_one_is_refused(alice, model, number):
    with pytest.raises(RegistryError, match="positive") as refused:
        _register(alice, model, version=number)
    assert refused.value.field == "version"
    assert not ModelVersion.objects.exists()


def test_registering_an_existing_version_number_again_is_a_conflict(alice, model):
    first = _register(alice, model, version=1)
    with pytest.raises(RegistryError, match="already exists") as refused:
        _register(alice, model, version=1, artifact_sha256="b" * 64)
    assert refused.value.code == "conflict"
    assert list(ModelVersion.objects.values_list("pk", "artifact_sha256")) == [(first.pk, SHA)]


def test_only_owners_and_mlops_of_the_model_register_versions(model, bob, charlie, other_team):
    stranger = make_user("stranger")
    grant(stranger, "model_owner", team=other_team)
    with pytest.raises(PermissionDenied, match="needs the mlops or model_owner role"):
        _register(bob, model)  # a reviewer sees the model but may not register
    for user in (charlie, stranger):  # they do not even see it
        with pytest.raises(PermissionDenied):
            _register(user, model)
    mlops = make_user("pipeline")
    grant(mlops, "mlops", model=model)  # a role on this one model is enough
    assert _register(mlops, model).version == 1
    assert ModelVersion.objects.count() == 1


def test_the_training_config_hash_is_the_one_a_pipeline_computes(alice, model):
    config = {"max_depth": 6, "learning_rate": 0.1, "features": ["income", "âge"], "early_stopping": None}
    version = _register(alice, model, training_config=config)
    pipeline_hash = hashlib.sha256(
        json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    assert version.training_config_sha256 == pipeline_hash
    event = AuditEvent.objects.get(action="version.registered")
    assert event.data["training_config_sha256"] == pipeline_hash


def test_the_config_hash_ignores_key_order_and_changes_with_any_value(alice, model):
    a = _register(alice, model, training_config={"learning_rate": 0.1, "max_depth": 6})
    b = _register(alice, model, training_config={"max_depth": 6, "learning_rate": 0.1})
    c = _register(alice, model, training_config={"max_depth": 7, "learning_rate": 0.1})
    assert a.training_config_sha256 == b.training_config_sha256
    assert c.training_config_sha256 != a.training_config_sha256


def test_no_config_means_no_hash_and_a_config_must_be_an_object(alice, model):
    assert _register(alice, model).training_config_sha256 == ""
    with pytest.raises(RegistryError) as refused:
        _register(alice, model, training_config=["lr", 0.1])
    assert refused.value.field == "training_config"
    assert ModelVersion.objects.count() == 1


def test_lineage_values_are_normalised_and_a_negative_seed_is_refused(alice, model):
    version = _register(alice, model, artifact_sha256="  " + "AB" * 32 + " ", code_hash=" abc123 ", seed=0)
    assert version.artifact_sha256 == "ab" * 32 and version.code_hash == "abc123" and version.seed == 0
    with pytest.raises(RegistryError) as refused:
        _register(alice, model, seed=-1)
    assert refused.value.field == "seed"

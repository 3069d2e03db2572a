"""Factories (factory-boy) and small builders.

`make_*` go through the real services (audit trail, lineage checks, permissions);
`bulk_*` write many rows at once with `bulk_create` for tests that measure something else
(query counts), where thousands of audited service calls would only cost set-up time.
"""

from __future__ import annotations

import hashlib
import io
import tempfile

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance.accounts.models import Team
from governance.accounts.roles import role_permission
from governance.accounts.services import role_grant
from governance.approvals.models import Decision, PromotionRequest
from governance.registry.models import ModelVersion, RegisteredModel
from governance.registry.services import canonical_json_sha256, version_register  # the hash it stores

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team{n}")


class RegisteredModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisteredModel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"model-{n}")
    team = factory.SubFactory(TeamFactory)
    risk_tier = "medium"
    domain = "testing"


def api_client(user):
    """A DRF test client authenticated with a fresh personal token of `user`."""
    from rest_framework.test import APIClient

    from governance.accounts.models import ApiToken

    _, key = ApiToken.issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def make_user(username: str, **extra):
    return UserFactory(username=username, **extra)


def make_team(name: str) -> Team:
    return TeamFactory(name=name)


def make_model(name: str, *, team: Team, risk_tier: str = "medium") -> RegisteredModel:
    return RegisteredModelFactory(name=name, team=team, risk_tier=risk_tier)


def grant(user, role: str, *, team: Team | None = None, model: RegisteredModel | None = None) -> None:
    role_grant(actor=None, user=user, role=role, team=team, model=model)


def make_version(model: RegisteredModel, user, *, stage: str = "draft", **overrides) -> ModelVersion:
    """A version registered through version_register (lineage, audit), then put at `stage`."""
    config = overrides.pop("training_config", {"learning_rate": 0.1, "max_depth": 6})
    payload = f"{model.name}-{np.random.default_rng().integers(1 << 62)}".encode()
    values = dict(
        artifact_uri=f"s3://models/{model.name}/model.bin",
        artifact_sha256=hashlib.sha256(payload).hexdigest(),
        code_hash=hashlib.sha1(payload).hexdigest(),
        data_snapshot_id="snap-2026-11-01",
        training_config=config,
        seed=42,
        framework="xgboost 2.1",
    )
    values.update(overrides)
    version = version_register(user=user, model=model, **values)
    if stage != "draft":
        put_at_stage(ModelVersion.objects.filter(pk=version.pk), stage)
        version.refresh_from_db()
    return version


def put_at_stage(versions, stage: str) -> None:
    """The one place tests write ModelVersion.stage directly.

    In the product a stage changes only through approvals/services.py (a promotion request,
    its gates and sign-offs). Tests about something else need a version that is already in
    staging or production; walking it there through requests and approvals would make
    every such test depend on the whole approval flow. So set-up writes the column with a
    queryset update: lineage is untouched (the database trigger allows stage changes), no
    audit event is written, and a second production version per model is still refused by
    the database constraint.
    """
    versions.update(stage=stage, stage_changed_at=timezone.now())


# --- Bulk rows (no services, no audit trail) -------------------------------------------


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """Unsaved versions for bulk_versions(); register single versions with make_version()."""

    class Meta:
        model = ModelVersion

    model = factory.SubFactory(RegisteredModelFactory)
    version = 1
    artifact_uri = factory.LazyAttribute(lambda v: f"s3://models/{v.model.name}/v{v.version}/model.bin")
    artifact_sha256 = factory.Sequence(lambda n: hashlib.sha256(f"artifact-{n}".encode()).hexdigest())
    code_hash = factory.Sequence(lambda n: hashlib.sha1(f"code-{n}".encode()).hexdigest())
    data_snapshot_id = "snap-2026-11-01"
    training_config = factory.LazyFunction(lambda: {"learning_rate": 0.1, "max_depth": 6})
    seed = 42
    framework = "xgboost 2.1"
    created_by = factory.SubFactory(UserFactory)


class PromotionRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromotionRequest

    version = factory.SubFactory(ModelVersionFactory)
    from_stage = "draft"
    to_stage = "staging"
    justification = "bulk"
    requested_by = factory.SubFactory(UserFactory)
    status = "awaiting_approvals"
    required_approvals = factory.LazyFunction(lambda: [{"role": "reviewer", "count": 1}])


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Decision

    request = factory.SubFactory(PromotionRequestFactory)
    user = factory.SubFactory(UserFactory)
    role = "reviewer"
    decision = "approve"
    reason = "looks good"
    risk_class = "low"


def bulk_models(n: int, *, team: Team, prefix: str = "m", start: int = 0) -> list[RegisteredModel]:
    return RegisteredModel.objects.bulk_create(
        RegisteredModelFactory.build(name=f"{prefix}{i:04d}", team=team) for i in range(start, start + n)
    )


def bulk_versions(models, user, *, version: int = 1, stage: str = "draft") -> list[ModelVersion]:
    """Version `version` of each model, its lineage as version_register stores it (bar the audit event)."""
    versions = [ModelVersionFactory.build(model=m, version=version, created_by=user) for m in models]
    for v in versions:
        v.training_config_sha256 = canonical_json_sha256(v.training_config)
    versions = ModelVersion.objects.bulk_create(versions)
    if stage != "draft":
        put_at_stage(ModelVersion.objects.filter(pk__in=[v.pk for v in versions]), stage)
        for v in versions:
            v.stage = stage
    return versions


def bulk_requests(versions, user, **fields) -> list[PromotionRequest]:
    """Open promotion requests (no gates), as promotion_request leaves them once gates are done."""
    return PromotionRequest.objects.bulk_create(
        PromotionRequestFactory.build(version=v, requested_by=user, from_stage=v.stage, **fields) for v in versions
    )


def bulk_decisions(requests, user, **fields) -> list[Decision]:
    return Decision.objects.bulk_create(DecisionFactory.build(request=r, user=user, **fields) for r in requests)


def bulk_grant(user, role: str, models) -> None:
    """A role on many models at once (guardian's bulk assignment; no audit events)."""
    assign_perm(role_permission(role), user, RegisteredModel.objects.filter(pk__in=[m.pk for m in models]))


def predictions_csv(
    n: int = 2000, *, seed: int = 0, quality: float = 1.2, baseline_quality: float = 1.2, groups: bool = True
) -> bytes:
    """A predictions table: y_true, y_score, baseline_score and sensitive columns."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    noise = rng.normal(size=n)
    score = 1 / (1 + np.exp(-(quality * (2 * y - 1) + noise)))
    base = 1 / (1 + np.exp(-(baseline_quality * (2 * y - 1) + 0.6 * noise + 0.8 * rng.normal(size=n))))
    buf = io.StringIO()
    header = ["y_true", "y_score", "baseline_score"]
    if groups:
        header += ["gender", "age_band"]
    buf.write(",".join(header) + "\n")
    genders = rng.choice(["f", "m"], n)
    bands = rng.choice(["18-30", "31-50", "51+"], n)
    for i in range(n):
        row = [str(int(y[i])), f"{score[i]:.6f}", f"{base[i]:.6f}"]
        if groups:
            row += [genders[i], bands[i]]
        buf.write(",".join(row) + "\n")
    return buf.getvalue().encode()


def write_temp(data: bytes, suffix: str = ".csv") -> str:
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)
    handle.write(data)
    handle.close()
    return handle.name


COMPLETE_DOCUMENTS = {
    "model_card": {
        "intended_use": "Score consumer credit applications for default risk.",
        "out_of_scope_uses": "Employment or insurance decisions.",
        "training_data": "Applications 2019-2024, snapshot snap-2026-11-01.",
        "evaluation_data": "Out-of-time sample, 2025 Q1-Q2.",
        "metrics": "AUC, KS, approval-rate parity.",
        "ethical_considerations": "Protected attributes are excluded from features.",
        "limitations": "Not validated for thin-file applicants.",
        "human_in_the_loop": "Declines above 0.9 are reviewed by an underwriter.",
        "feature_use_constraints": "No postcode-derived features.",
        "owners_contacts": "Credit risk modelling team, models@bank.example",
    },
    "evaluation_report": {
        "summary": "Non-inferior to production on AUC.",
        "datasets": "OOT 2025 H1.",
        "metrics": "AUC 0.81 (baseline 0.80).",
        "comparison_to_baseline": "+0.01 AUC, CI [-0.003, 0.02].",
        "known_failure_modes": "Drops on self-employed applicants.",
    },
    "monitoring_plan": {
        "monitored_signals": "PSI of top 10 features, approval rate, default rate.",
        "thresholds": "PSI > 0.2, approval rate change > 5 points.",
        "alert_recipients": "risk-oncall@bank.example",
        "review_cadence": "Monthly model risk committee.",
    },
    "rollback_plan": {
        "triggers": "Approval rate drops 5 points for 2 days; PSI > 0.25.",
        "steps": "Roll back through the dashboard; notify risk.",
        "target_version": "The previous production version.",
        "owner": "MLOps on-call",
    },
}


def upload(user, version, kind: str, data: bytes, name: str):
    from governance.evidence.services import evidence_upload

    path = write_temp(data, suffix="." + name.rsplit(".", 1)[-1])
    return evidence_upload(user=user, version=version, kind=kind, path=path, original_name=name)


def attach_full_evidence(user, version, *, n: int = 3000) -> None:
    """An evidence pack under which every gate of tests' 8-gate policy can be computed."""
    import json

    from governance.evidence.services import document_save

    rng = np.random.default_rng(1)
    upload(user, version, "predictions", predictions_csv(n, quality=1.4, baseline_quality=1.2), "predictions.csv")
    latency = "latency_ms,error\n" + "".join(
        f"{v:.2f},{int(e)}\n" for v, e in zip(rng.gamma(4, 12, n), rng.random(n) < 0.001, strict=True)
    )
    upload(user, version, "latency", latency.encode(), "latency.csv")
    upload(user, version, "cost", json.dumps({"total_cost": 1.2, "predictions": 10000}).encode(), "cost.json")
    ref = "income,region\n" + "".join(
        f"{v:.1f},{r}\n" for v, r in zip(rng.normal(50, 10, n), rng.choice(["n", "s"], n), strict=True)
    )
    cur = "income,region\n" + "".join(
        f"{v:.1f},{r}\n" for v, r in zip(rng.normal(50, 10, n), rng.choice(["n", "s"], n), strict=True)
    )
    upload(user, version, "feature_reference", ref.encode(), "reference.csv")
    upload(user, version, "feature_current", cur.encode(), "current.csv")
    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": "numpy", "version": "2.4.6", "licenses": [{"license": {"id": "BSD-3-Clause"}}]},
            {"type": "library", "name": "xgboost", "version": "2.1.0", "licenses": [{"license": {"id": "Apache-2.0"}}]},
        ],
    }
    upload(user, version, "sbom", json.dumps(sbom).encode(), "sbom.json")
    for kind, fields in COMPLETE_DOCUMENTS.items():
        document_save(user=user, version=version, kind=kind, fields=fields, content="")

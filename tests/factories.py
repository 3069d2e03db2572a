"""Factories (factory-boy) and small builders that go through the real services."""

from __future__ import annotations

import hashlib
import io
import tempfile

import factory
import numpy as np
from django.contrib.auth import get_user_model

from governance.accounts.models import Team
from governance.accounts.services import role_grant
from governance.registry.models import RegisteredModel
from governance.registry.services import version_register

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


def make_user(username: str, **extra):
    return UserFactory(username=username, **extra)


def make_team(name: str) -> Team:
    return TeamFactory(name=name)


def make_model(name: str, *, team: Team, risk_tier: str = "medium") -> RegisteredModel:
    return RegisteredModelFactory(name=name, team=team, risk_tier=risk_tier)


def grant(user, role: str, *, team: Team | None = None, model: RegisteredModel | None = None) -> None:
    role_grant(actor=None, user=user, role=role, team=team, model=model)


def make_version(model: RegisteredModel, user, **overrides):
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
    return version_register(user=user, model=model, **values)


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

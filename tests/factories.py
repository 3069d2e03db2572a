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
        code_hash="a" * 40,
        data_snapshot_id="snap-2026-11-01",
        training_config=config,
        seed=42,
        framework="xgboost 2.1",
    )
    values.update(overrides)
    return version_register(user=user, model=model, **values)


def predictions_csv(n: int = 2000, *, seed: int = 0, quality: float = 1.2, baseline_quality: float = 1.2, groups: bool = True) -> bytes:
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

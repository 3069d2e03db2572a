"""Registering models and versions (lineage is written once, here)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from governance.accounts.models import Team
from governance.accounts.permissions import ensure_may, user_may_on_team
from governance.accounts.roles import Action
from governance.audit.services import audit_record
from governance.core.canonical import canonical_json_sha256
from governance.core.errors import DomainError
from governance.registry.models import ModelVersion, RegisteredModel


class RegistryError(DomainError):
    """A refused model or version registration."""


def _validation_fields(exc: ValidationError) -> dict:
    return (
        {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {"non_field_errors": exc.messages}
    )


@transaction.atomic
def model_create(
    *, user, name: str, team: Team, risk_tier: str, domain: str = "", description: str = ""
) -> RegisteredModel:
    if not user_may_on_team(user, Action.CREATE_MODEL, team):
        raise PermissionDenied(f"Creating a model in team {team.name} needs the model_owner or mlops role on it.")
    if RegisteredModel.objects.filter(name=name).exists():
        raise RegistryError(f"A model named {name!r} already exists.", field="name", code="conflict")
    model = RegisteredModel(name=name, team=team, risk_tier=risk_tier, domain=domain, description=description)
    try:
        model.full_clean()
    except ValidationError as exc:
        fields = _validation_fields(exc)
        raise RegistryError("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()), fields=fields) from exc
    model.save()
    audit_record(
        actor=user,
        action="model.created",
        obj=model,
        model_name=model.name,
        data={"team": team.name, "risk_tier": risk_tier, "domain": domain},
    )
    return model


@transaction.atomic
def version_register(
    *,
    user,
    model: RegisteredModel,
    artifact_uri: str,
    artifact_sha256: str,
    code_hash: str = "",
    data_snapshot_id: str = "",
    training_config: dict | None = None,
    seed: int | None = None,
    framework: str = "",
    version: int | None = None,
    source: dict | None = None,
) -> ModelVersion:
    """Register the next (or the given) version of `model`. `source` records where it was
    trained when another system tracked it (e.g. {"mlflow": {"run_id": ...}}): lineage too."""
    ensure_may(user, Action.REGISTER_VERSION, model, f"Registering a version of {model.name}")
    if training_config is None:
        training_config = {}
    if not isinstance(training_config, dict):
        raise RegistryError("training_config must be a JSON object.", field="training_config")
    if source is None:
        source = {}
    if not isinstance(source, dict):
        raise RegistryError("source must be a JSON object.", field="source")
    if seed is not None and not (0 <= int(seed) < 2**63):
        raise RegistryError("seed must be a non-negative integer.", field="seed")
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)  # serialises version numbering
    latest = model.versions.aggregate(n=Max("version"))["n"] or 0
    if version is None:
        version = latest + 1
    elif version < 1:
        raise RegistryError("version must be a positive integer.", field="version")
    elif model.versions.filter(version=version).exists():
        raise RegistryError(
            f"{model.name} v{version} already exists; lineage is immutable, register a new version.",
            field="version",
            code="conflict",
        )
    mv = ModelVersion(
        model=model,
        version=version,
        artifact_uri=(artifact_uri or "").strip(),
        artifact_sha256=(artifact_sha256 or "").strip().lower(),
        code_hash=(code_hash or "").strip(),
        data_snapshot_id=(data_snapshot_id or "").strip(),
        training_config=training_config,
        training_config_sha256=canonical_json_sha256(training_config) if training_config else "",
        seed=seed,
        framework=(framework or "").strip(),
        source=source,
        created_by=user,
    )
    try:
        mv.full_clean(exclude=["created_by", "model"])
    except ValidationError as exc:
        fields = _validation_fields(exc)
        raise RegistryError("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()), fields=fields) from exc
    try:
        with transaction.atomic():
            mv.save(force_insert=True)
    except IntegrityError as exc:
        raise RegistryError(f"{model.name} v{version} already exists.", field="version", code="conflict") from exc
    audit_record(
        actor=user,
        action="version.registered",
        obj=mv,
        model_name=model.name,
        data={
            "version": mv.version,
            "artifact_uri": mv.artifact_uri,
            "artifact_sha256": mv.artifact_sha256,
            "code_hash": mv.code_hash,
            "data_snapshot_id": mv.data_snapshot_id,
            "training_config_sha256": mv.training_config_sha256,
            "seed": mv.seed,
            **({"source": mv.source} if mv.source else {}),
        },
    )
    return mv

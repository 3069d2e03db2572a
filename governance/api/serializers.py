"""Input validation and output shapes of the HTTP API (DESIGN.md contract)."""

from __future__ import annotations

from rest_framework import serializers

from governance.approvals.acceptances import acceptance_out
from governance.approvals.models import ChangeType, DecisionKind, PromotionRequest, RiskClass
from governance.evidence.models import Artifact, DocumentKind, EvidenceKind
from governance.registry.models import IMMUTABLE_FIELDS, ModelVersion, RegisteredModel, RiskTier, Stage


class ModelCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    team = serializers.CharField(max_length=64)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    domain = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class ModelFilterIn(serializers.Serializer):
    """Query-string filters of the model list (the same as the browser's)."""

    team = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False, allow_blank=True, default="")
    stage = serializers.ChoiceField(choices=Stage.choices, required=False, allow_blank=True, default="")
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ModelOut(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name")
    production_version = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = ["name", "team", "risk_tier", "domain", "description", "created_at", "production_version"]

    def get_production_version(self, obj) -> int | None:
        if hasattr(obj, "production_version_number"):  # the list's annotation (models_for_list)
            return obj.production_version_number
        return obj.versions.filter(stage=Stage.PRODUCTION).values_list("version", flat=True).first()


# The columns of `models_for_list(...).values(...)` that `models_out` reads.
MODEL_OUT_VALUES = (
    "name",
    "team__name",
    "risk_tier",
    "domain",
    "description",
    "created_at",
    "production_version_number",
)
_DATETIME = serializers.DateTimeField()


def models_out(rows) -> list[dict]:
    """A page of the model list as `ModelOut` shows each model (the same JSON, compared in
    tests/api/test_lists.py), from plain rows: no model instances, no per-field serializer
    work (a third of the list's CPU for 100 models)."""
    return [
        {
            "name": row["name"],
            "team": row["team__name"],
            "risk_tier": row["risk_tier"],
            "domain": row["domain"],
            "description": row["description"],
            "created_at": _DATETIME.to_representation(row["created_at"]),
            "production_version": row["production_version_number"],
        }
        for row in rows
    ]


class VersionCreateIn(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    artifact_uri = serializers.CharField(max_length=1000)
    artifact_sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$", error_messages={"invalid": "Expected 64 hex characters (sha256)."}
    )
    code_hash = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    data_snapshot_id = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    training_config = serializers.DictField(required=False, default=dict)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**63 - 1, default=None)
    framework = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class VersionOut(serializers.ModelSerializer):
    model = serializers.CharField(source="model.name")
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = ModelVersion
        # What a version was registered with (immutable), its model, and where it stands now.
        fields = [
            "model",
            *({"created_by_id": "created_by"}.get(name, name) for name in IMMUTABLE_FIELDS if name != "model_id"),
            "stage",
            "stage_changed_at",
        ]


class EvidenceIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)


class ArtifactOut(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob_id")
    size = serializers.IntegerField(source="blob.size")
    uploaded_by = serializers.CharField(source="uploaded_by.username")

    class Meta:
        model = Artifact
        fields = [
            "id",
            "kind",
            "original_name",
            "sha256",
            "size",
            "format",
            "row_count",
            "columns",
            "profile",
            "uploaded_by",
            "created_at",
        ]


class DocumentIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    content = serializers.CharField(required=False, allow_blank=True, default="", max_length=200_000)
    fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=20_000), required=False, default=dict
    )


class PromotionIn(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    change_type = serializers.ChoiceField(choices=ChangeType.choices, default=ChangeType.STANDARD)
    justification = serializers.CharField(max_length=5000)
    ticket_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    bypass_gates = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=50,
        required=False,
        allow_null=True,
        default=None,
        help_text="emergency only: the gates to bypass (default: every gate the policy lets an emergency bypass)",
    )


class DecisionIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DecisionKind.choices)
    reason = serializers.CharField(max_length=5000)
    ticket_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    risk_class = serializers.ChoiceField(choices=RiskClass.choices)
    role = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class GateAcceptIn(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="why the inconclusive outcome is acceptable")
    ticket_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    ticket_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ResubmitIn(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class DryRunIn(serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=Stage.choices)
    from_stage = serializers.ChoiceField(
        choices=Stage.choices, required=False, help_text="default: the version's stage"
    )
    policy = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


def promotion_out(request: PromotionRequest, slot_state, gate_runs, right, acceptances=None) -> dict:
    """The promotion as pipelines read it; `you` answers what the calling user may decide.
    Each approval carries what its author saw (round, manifest_sha256) and whether it is
    stale (given on earlier evidence, or by someone who no longer holds the role). Each gate
    carries its policy's `on_inconclusive` and, for an inconclusive one, its `acceptance`
    (who accepted it, when, why) or who may accept it (`acceptors`)."""
    version = request.version
    stale_ids = {d.pk for d, _ in slot_state.stale}
    acceptances = acceptances or {}
    return {
        "id": request.pk,
        "model": version.model.name,
        "version": version.version,
        "from_stage": request.from_stage,
        "to_stage": request.to_stage,
        "change_type": request.change_type,
        "status": request.status,
        "status_reason": request.status_reason,
        "gate_round": request.gate_round,
        "justification": request.justification,
        "ticket_id": request.ticket_id,
        "requested_by": request.requested_by.username,
        "requested_at": request.requested_at.isoformat(),
        "policy": {"name": request.policy_name, "sha256": request.policy_sha256} if request.policy_sha256 else None,
        "bypassed_gates": request.bypassed_gates,
        "bypass_expires_at": request.bypass_expires_at.isoformat() if request.bypass_expires_at else None,
        "review_due_at": request.review_due_at.isoformat() if request.review_due_at else None,
        "required_approvals": request.required_approvals,
        "slots": [
            {
                "role": slot.role,
                "index": slot.index,
                "filled_by": slot.decision.user.username if slot.decision else None,
                "decided_at": slot.decision.created_at.isoformat() if slot.decision else None,
            }
            for slot in slot_state.slots
        ],
        "stale_approvals": [{"user": d.user.username, "role": d.role, "reason": why} for d, why in slot_state.stale],
        "gates": [
            (
                run.outcome
                if run.outcome
                else {
                    "gate_id": run.gate_id,
                    "type": run.gate_type,
                    "status": run.status,
                    "metric": run.params.get("metric"),
                    "value": None,
                    "threshold": None,
                    "ci_low": None,
                    "ci_high": None,
                    "p_value": None,
                    "n": None,
                    "groups": None,
                    "explanation": "Queued for a worker." if run.status == "pending" else "Running.",
                    "inputs": {},
                    "computed_at": None,
                }
            )
            | _acceptance_fields(run, acceptances.get(run.gate_id))
            for run in gate_runs
        ],
        "approvals": [
            {
                "user": d.user.username,
                "role": d.role,
                "decision": d.decision,
                "reason": d.reason,
                "ticket_id": d.ticket_id,
                "risk_class": d.risk_class,
                "decided_at": d.created_at.isoformat(),
                "round": d.round,
                "manifest_sha256": d.manifest_sha256,
                "stale": d.pk in stale_ids,
            }
            for d in request.decisions.all()
        ],
        "you": {
            "may_decide": right.may_decide,
            "may_approve": right.may_approve,
            "approve_roles": list(right.approve_roles),
            "decide_roles": list(right.decide_roles),
            "why_not": right.why_not,
            "may_accept_gates": [gate_id for gate_id, view in acceptances.items() if view.may_accept],
        },
    }


def _acceptance_fields(run, view) -> dict:
    """What a gate adds to the outcome contract: what an inconclusive outcome does under the
    policy, the acceptance that counts, and who may accept it while it waits."""
    return {
        "on_inconclusive": run.params.get("on_inconclusive", "block"),
        "acceptance": acceptance_out(view.acceptance) if view and view.acceptance else None,
        "acceptors": [user.username for user in view.acceptors] if view else [],
    }


class RoleGrantIn(serializers.Serializer):
    user = serializers.CharField(max_length=150)
    role = serializers.CharField(max_length=30)
    team = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if bool(attrs["team"]) == bool(attrs["model"]):
            raise serializers.ValidationError({"team": ["Give exactly one of team or model."]})
        return attrs

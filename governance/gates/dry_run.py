"""Would this version pass policy X for transition T? Runs the gates, creates nothing."""

from __future__ import annotations

from django.utils import timezone

from governance.gates.runners import evaluate_gate
from governance.gates.services import outcome_envelope
from governance.gates.stats.outcome import GateInputError
from governance.policies.models import Policy
from governance.policies.services import policy_for_model
from governance.registry.models import ModelVersion


def dry_run(
    *, version: ModelVersion, to_stage: str, from_stage: str | None = None, policy_name: str | None = None
) -> dict:
    """`from_stage` defaults to the version's stage; any transition the policy names may be tried."""
    model = version.model
    transition = f"{from_stage or version.stage}->{to_stage}"

    def refused(problem: str, policy_version=None) -> dict:
        return {
            "transition": transition,
            "policy": policy_version.policy.name if policy_version else policy_name,
            "policy_sha256": policy_version.sha256 if policy_version else None,
            "would_pass": False,
            "gates": [],
            "approvals": [],
            "problems": [problem],
        }

    if policy_name:
        policy = Policy.objects.select_related("current_version").filter(name=policy_name).first()
        policy_version = policy.current_version if policy else None
        if policy_version is None:
            return refused(f"No policy named {policy_name!r}.")
    else:
        policy_version = policy_for_model(model)
    if policy_version is None:
        return refused(
            f"No policy applies to {model.name} (risk tier {model.risk_tier}); it cannot be promoted beyond staging."
        )
    block = (policy_version.data.get("transitions") or {}).get(transition)
    if block is None:
        name = f"{policy_version.policy.name} v{policy_version.number}"
        return refused(f"Policy {name} has no {transition} transition.", policy_version)
    gates = []
    for spec in block.get("gates", []):
        try:
            result, inputs = evaluate_gate(version=version, spec=spec)
            status, explanation = result["status"], result.get("explanation", "")
        except GateInputError as exc:
            result, inputs, status, explanation = {}, {}, "error", f"The evidence cannot be evaluated: {exc}"
        gates.append(
            outcome_envelope(
                run_gate_id=spec["id"],
                run_type=spec["type"],
                status=status,
                explanation=explanation,
                inputs=inputs,
                policy_sha256=policy_version.sha256,
                result=result,
            )
        )
    failing = [g["gate_id"] for g in gates if g["status"] != "passed"]
    return {
        "transition": transition,
        "policy": policy_version.policy.name,
        "policy_version": policy_version.number,
        "policy_sha256": policy_version.sha256,
        "computed_at": timezone.now().isoformat(),
        "would_pass": not failing,
        "failing_gates": failing,
        "gates": gates,
        "approvals": block.get("approvals", []),
        "problems": [f"{g['gate_id']}: {g['explanation']}" for g in gates if g["status"] != "passed"],
    }

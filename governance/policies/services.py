"""Publishing policies and finding the one that applies to a model."""

from __future__ import annotations

import difflib

from django.db import transaction

from governance.audit.services import audit_record
from governance.policies.loader import parse_policy
from governance.policies.models import Policy, PolicyVersion
from governance.registry.models import RegisteredModel


@transaction.atomic
def policy_publish(*, text: str | bytes, author=None, reason: str = "") -> PolicyVersion:
    """Validate and store a new immutable version. Raises PolicyError; stores nothing then."""
    document = parse_policy(text)
    policy, _ = Policy.objects.select_for_update().get_or_create(name=document.name)
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    current = policy.current_version
    if current is not None and current.sha256 == document.sha256:
        return current  # identical content: publishing again is a no-op
    number = (current.number + 1) if current else 1
    version = PolicyVersion.objects.create(
        policy=policy,
        number=number,
        content=document.content,
        sha256=document.sha256,
        data=document.data,
        author=author,
        reason=reason[:500],
    )
    policy.current_version = version
    policy.save(update_fields=["current_version"])
    audit_record(
        actor=author,
        action="policy.published",
        obj=version,
        data={"policy": policy.name, "version": number, "sha256": document.sha256, "reason": reason[:500]},
    )
    return version


def policy_for_model(model: RegisteredModel, policies: list[PolicyVersion] | None = None) -> PolicyVersion | None:
    """The current policy version that applies: one naming the model wins over a tier match."""
    if policies is None:
        policies = list(
            PolicyVersion.objects.filter(pk__in=Policy.objects.values("current_version")).select_related("policy")
        )
    by_name = [p for p in policies if model.name in (p.data.get("applies_to", {}).get("models") or [])]
    if by_name:
        return sorted(by_name, key=lambda p: p.policy.name)[0]
    by_tier = [p for p in policies if model.risk_tier in (p.data.get("applies_to", {}).get("risk_tiers") or [])]
    if by_tier:
        return sorted(by_tier, key=lambda p: p.policy.name)[0]
    return None


def policy_diff(old: PolicyVersion | None, new: PolicyVersion) -> str:
    old_lines = old.content.splitlines(keepends=True) if old else []
    return "".join(
        difflib.unified_diff(
            old_lines,
            new.content.splitlines(keepends=True),
            fromfile=f"{new.policy.name} v{old.number}" if old else "(none)",
            tofile=f"{new.policy.name} v{new.number}",
        )
    )

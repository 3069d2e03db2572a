"""Issue 14: a policy's approval counts and every list in its schema are bounded; a count of
100,000,000 was published before and cost seconds and 100+ MB on every page of the model."""

from __future__ import annotations

import pytest

from governance.policies import schema as S
from governance.policies.issues import PolicyError
from governance.policies.models import Policy
from governance.policies.services import policy_publish

POLICY = """name: bounded
applies_to: {risk_tiers: [low]}
transitions:
  draft->staging:
    gates: []
    approvals:
      - {role: reviewer, count: 100000000}
"""


@pytest.mark.django_db
def test_a_huge_approval_count_is_a_located_policy_error():
    with pytest.raises(PolicyError) as caught:
        policy_publish(text=POLICY)
    (issue,) = caught.value.issues
    assert issue.path == "transitions.draft->staging.approvals[0].count" and issue.line == 7
    assert "at most 10" in issue.message
    assert not Policy.objects.exists()
    assert policy_publish(text=POLICY.replace("100000000", "3")).policy.name == "bounded"


@pytest.mark.django_db
def test_too_many_approvals_and_gates_are_located_policy_errors():
    approvals = "".join(f"      - {{role: {role}}}\n" for role in ["reviewer"] * 21)
    text = POLICY.replace("      - {role: reviewer, count: 100000000}\n", approvals)
    with pytest.raises(PolicyError) as caught:
        policy_publish(text=text)
    assert any(
        i.path == "transitions.draft->staging.approvals" and "at most 20 items" in i.message
        for i in caught.value.issues
    )


def test_every_list_in_the_schema_is_bounded():
    unbounded = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "array" and not isinstance(node.get("maxItems"), int):
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(S.POLICY_SCHEMA, "")
    assert not unbounded
    assert S.POLICY_SCHEMA["$defs"]["approval"]["properties"]["count"]["maximum"] == S.MAX_APPROVAL_COUNT

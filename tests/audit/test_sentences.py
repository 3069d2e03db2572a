"""Each audit event as one sentence (audit/sentences.py): every action the product records has
one, read from the event's own data; unknown actions and odd data never break the page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import timezone

from governance.audit.models import AuditEvent
from governance.audit.sentences import SENTENCES, action_families, event_sentence

ROOT = Path(__file__).resolve().parents[2] / "governance"
ACTION = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
FILE_NAME = re.compile(r"\.(pdf|csv|json|html|txt|yaml|yml|md|svg|png|py)$")  # "report.pdf" is no action


def recorded_actions() -> set[str]:
    """Every `family.action` string literal in a module that writes audit events."""
    found = set()
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts or path.name == "sentences.py":
            continue
        text = path.read_text()
        if "audit_record" not in text:
            continue
        tree = ast.parse(text)
        # dispatch_uid="audit.login" names a signal receiver, not an action.
        skip = {id(k.value) for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg == "dispatch_uid"}
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION.match(node.value):
                if FILE_NAME.search(node.value):
                    continue
                found.add(node.value)
    return found


def _event(action: str, data: dict | None = None, **fields) -> AuditEvent:
    values = dict(
        seq=1,
        created_at=timezone.now(),
        actor_label="ana",
        actor_id=7,
        action=action,
        object_type="approvals.promotionrequest",
        object_id="21",
        model_name="credit-scoring",
        data=data or {},
    )
    values.update(fields)
    return AuditEvent(**values)


def test_every_action_the_product_records_has_a_sentence():
    actions = recorded_actions()
    assert {"promotion.approved", "version.rolled_back", "policy.published"} <= actions  # the scan works
    missing = sorted(actions - set(SENTENCES))
    assert not missing, f"write a sentence in governance/audit/sentences.py for: {missing}"


def test_an_approval_reads_like_the_issue_says():
    event = _event(
        "promotion.approved",
        {"role": "risk_officer", "reason": "reviewed the evidence", "ticket_id": "RISK-202", "risk_class": "medium"},
        actor_label="Ana",
    )
    assert event_sentence(event) == "Risk officer Ana approved request #21: 'reviewed the evidence' (RISK-202, medium)."


@pytest.mark.parametrize(
    "action,data,expected",
    [
        (
            "promotion.requested",
            {"version": 3, "from": "staging", "to": "production", "change_type": "emergency", "ticket_id": "INC-9"},
            "Ana requested moving credit-scoring v3 from staging to production (request #21, an emergency change, "
            "ticket INC-9).",
        ),
        (
            "version.rolled_back",
            {"from_version": 2, "to_version": 1, "reason": "latency", "ticket_id": "INC-7"},
            "Ana rolled credit-scoring back from v2 to v1: 'latency' (INC-7).",
        ),
        (
            "role.revoked",
            {"user": "bob", "role": "risk_officer", "scope": "team", "target": "credit"},
            "Ana revoked the role risk officer of bob on team credit.",
        ),
        (
            "audit.exported",
            {"format": "csv", "via": "api", "filters": {"model": "credit-scoring"}},
            "Ana exported the audit trail as CSV through the api (filters: model credit-scoring).",
        ),
    ],
)
def test_sentences_say_who_did_what_to_which_object(action, data, expected):
    assert event_sentence(_event(action, data)) == expected


def test_the_workers_are_the_system():
    event = _event("promotion.gates_passed", actor_label="system", actor_id=None)
    assert event_sentence(event) == "Every gate of request #21 passed; it waits for approvals."
    moved = _event(
        "version.stage_changed",
        {"version": 2, "from": "staging", "to": "production", "request": 21},
        actor_label="system",
        actor_id=None,
    )
    assert event_sentence(moved) == "The system moved credit-scoring v2 from staging to production (request #21)."


@pytest.mark.parametrize("action", sorted(SENTENCES))
@pytest.mark.parametrize("data", [{}, {"version": [1], "role": 5, "failed": "x", "moves": "y", "filters": []}])
def test_missing_or_odd_data_still_gives_a_sentence(action, data):
    sentence = event_sentence(_event(action, data))
    assert sentence and not sentence[0].islower() and sentence.endswith(".")


def test_an_unknown_action_gets_a_plain_generic_sentence():
    event = _event("widget.frobbed", {"x": 1}, object_type="things.widget", object_id="4")
    assert event_sentence(event) == "Ana recorded widget.frobbed on widget #4 (model credit-scoring)."


def test_user_text_stays_text_and_long_text_is_cut():
    reason = "<script>alert(1)</script> " + "x" * 500
    sentence = event_sentence(_event("promotion.rejected", {"role": "reviewer", "reason": reason}))
    assert "<script>" in sentence  # escaped by the template, not here
    assert len(sentence) < 300 and "…" in sentence


def test_action_families_group_every_known_action():
    families = dict(action_families())
    assert "promotion.approved" in families["promotion."]
    assert sorted(a for actions in families.values() for a in actions) == sorted(SENTENCES)


def test_a_quote_that_ends_a_sentence_is_not_followed_by_a_second_stop():
    event = _event("promotion.cancelled", {"reason": "Wrong version."})
    assert event_sentence(event) == "Ana cancelled request #21: 'Wrong version.'"

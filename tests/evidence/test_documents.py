"""Document kinds, their fields, what counts as missing, and validation."""

from __future__ import annotations

import pytest

from governance.core.vocabulary import DOCUMENT_KINDS
from governance.evidence.documents import (
    MAX_FIELD_CHARS,
    FieldSpec,
    document_fields,
    document_missing_fields,
    validate_document,
)

MODEL_CARD_FIELDS = [
    "intended_use",
    "out_of_scope_uses",
    "training_data",
    "evaluation_data",
    "metrics",
    "ethical_considerations",
    "limitations",
    "human_in_the_loop",
    "feature_use_constraints",
    "owners_contacts",
]


def _filled(kind: str) -> dict[str, str]:
    return {spec.name: f"Some real text about {spec.label}." for spec in document_fields(kind)}


def test_it_defines_the_four_document_kinds() -> None:
    assert DOCUMENT_KINDS == ("model_card", "evaluation_report", "monitoring_plan", "rollback_plan")
    assert [spec.name for spec in document_fields("model_card")] == MODEL_CARD_FIELDS
    assert [spec.name for spec in document_fields("evaluation_report")] == [
        "summary",
        "datasets",
        "metrics",
        "comparison_to_baseline",
        "known_failure_modes",
    ]
    assert [spec.name for spec in document_fields("monitoring_plan")] == [
        "monitored_signals",
        "thresholds",
        "alert_recipients",
        "review_cadence",
    ]
    assert [spec.name for spec in document_fields("rollback_plan")] == [
        "triggers",
        "steps",
        "target_version",
        "owner",
    ]


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_every_field_has_a_label_and_help(kind: str) -> None:
    for spec in document_fields(kind):
        assert isinstance(spec, FieldSpec)
        assert spec.label and spec.help
        assert spec.required  # every field is required: see the module docstring


def test_single_line_fields_are_marked() -> None:
    single = {(kind, spec.name) for kind in DOCUMENT_KINDS for spec in document_fields(kind) if not spec.multiline}
    assert single == {
        ("monitoring_plan", "review_cadence"),
        ("rollback_plan", "target_version"),
        ("rollback_plan", "owner"),
    }


def test_it_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown document kind"):
        document_fields("readme")
    with pytest.raises(ValueError, match="unknown document kind"):
        document_missing_fields("readme", {}, "")
    assert validate_document("readme", {}) == {"kind": "unknown document kind 'readme'"}


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_a_complete_document_misses_nothing(kind: str) -> None:
    assert document_missing_fields(kind, _filled(kind), "") == []
    assert validate_document(kind, _filled(kind), "# Notes") == {}


def test_it_lists_missing_fields_in_order() -> None:
    fields = _filled("model_card")
    fields["metrics"] = ""
    fields["intended_use"] = "   \n\t "
    del fields["owners_contacts"]
    fields["limitations"] = None

    assert document_missing_fields("model_card", fields, "") == [
        "intended_use",
        "metrics",
        "limitations",
        "owners_contacts",
    ]


@pytest.mark.parametrize("placeholder", ["TODO", "tbd", "...", "-", "<!-- fill me -->", "**TODO**"])
def test_placeholders_count_as_missing(placeholder: str) -> None:
    fields = _filled("rollback_plan") | {"steps": placeholder}

    assert document_missing_fields("rollback_plan", fields, "") == ["steps"]


def test_an_explicit_none_is_an_answer() -> None:
    fields = _filled("model_card") | {"feature_use_constraints": "None"}

    assert document_missing_fields("model_card", fields, "") == []


def test_markdown_sections_fill_fields() -> None:
    content = """# Credit risk model card

## Intended use
Scores retail loan applications for the underwriting team.

## Out-of-scope uses
Not for SME lending.

## Training data
<!-- TODO -->

## Metrics
### AUC
0.91 on the 2024 holdout.

## Human oversight
Underwriters review every decline.

```
## Limitations
this is inside a code block
```
"""
    fields = {"evaluation_data": "2024 holdout", "owners_contacts": "risk-ml@example.com"}

    missing = document_missing_fields("model_card", fields, content)

    assert missing == [
        "training_data",  # a comment is not content
        "ethical_considerations",
        "limitations",  # a heading inside a code block is not a heading
        "feature_use_constraints",
    ]


def test_a_heading_with_only_subheadings_is_empty() -> None:
    content = "## Steps\n### Step one\n\n## Target version\nv12\n"
    fields = {"triggers": "error rate > 1% for 15 min", "owner": "on-call ML"}

    assert document_missing_fields("rollback_plan", fields, content) == ["steps"]


def test_aliases_fill_fields_from_content() -> None:
    content = "## Who is paged\nThe ML on-call rota.\n"
    fields = _filled("monitoring_plan") | {"alert_recipients": ""}

    assert document_missing_fields("monitoring_plan", fields, content) == []


def test_it_validates_field_names_types_and_sizes() -> None:
    errors = validate_document(
        "monitoring_plan",
        {
            "monitored_signals": "ctr, latency",
            "thresholds": 5,
            "alert_recipients": "x" * (MAX_FIELD_CHARS + 1),
            "review_cadence": "monthly\nor weekly",
            "colour": "blue",
        },
    )

    assert errors == {
        "thresholds": "must be text",
        "alert_recipients": "at most 20,000 characters",
        "review_cadence": "must be a single line",
        "colour": (
            "unknown field for a monitoring plan (allowed: monitored_signals, thresholds, "
            "alert_recipients, review_cadence)"
        ),
    }


def test_it_accepts_a_value_at_the_size_limit_and_blank_values() -> None:
    fields = {"summary": "x" * MAX_FIELD_CHARS, "datasets": "", "metrics": None}

    assert validate_document("evaluation_report", fields) == {}


def test_it_validates_the_shape_and_content() -> None:
    assert validate_document("model_card", ["intended_use"]) == {"fields": "must be an object of field name to text"}
    assert validate_document("model_card", {}, content=3) == {"content": "must be text"}
    assert validate_document("model_card", {}, content="a\x00b") == {"content": "must not contain NUL characters"}
    assert "content" in validate_document("model_card", {}, content="x" * 200_001)

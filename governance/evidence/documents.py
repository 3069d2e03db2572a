"""Governance documents: which structured fields each kind has, and what is missing.

A document (model card, evaluation report, monitoring plan, rollback plan) is a set of
structured text fields plus free Markdown `content`. Pure: no Django. The documentation gate
calls `document_missing_fields`; forms and the API call `validate_document`.

A required field counts as filled when its value has real text (not blank, not a bare
placeholder such as "TODO" or "TBD"), or when the Markdown `content` has a heading naming
the field ("## Intended use", "### Out-of-scope uses", ...) with real text under it: a CI
pipeline can post a Markdown model card alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

MAX_FIELD_CHARS = 20_000
MAX_CONTENT_CHARS = 200_000
PLACEHOLDERS = frozenset({"todo", "tbd", "fixme", "xxx", "...", "…", "-", "--", "—", "?"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    help: str
    required: bool = True
    multiline: bool = True
    aliases: tuple[str, ...] = ()  # other headings that fill it from `content`


_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "model_card": (
        FieldSpec(
            "intended_use",
            "Intended use",
            "What the model is for, who uses its output and in which decisions.",
            aliases=("intended uses", "intended purpose", "use cases"),
        ),
        FieldSpec(
            "out_of_scope_uses",
            "Out-of-scope uses",
            "Uses the model was not designed or validated for and must not be used for.",
            aliases=("out of scope use", "out of scope", "misuse"),
        ),
        FieldSpec(
            "training_data",
            "Training data",
            "Sources, time range, size, preprocessing and known gaps of the training data.",
        ),
        FieldSpec(
            "evaluation_data",
            "Evaluation data",
            "Which data the model was evaluated on and how it differs from training data.",
            aliases=("evaluation dataset", "evaluation datasets", "test data"),
        ),
        FieldSpec(
            "metrics",
            "Metrics",
            "Metrics reported, on which data, with confidence intervals and thresholds.",
            aliases=("performance metrics", "evaluation metrics", "performance"),
        ),
        FieldSpec(
            "ethical_considerations",
            "Ethical considerations",
            "Affected groups, fairness analysis, sensitive attributes, risks of harm.",
            aliases=("ethics", "fairness", "ethical considerations and risks"),
        ),
        FieldSpec(
            "limitations",
            "Limitations",
            "Known limitations, failure conditions and caveats for users.",
            aliases=(
                "caveats",
                "limitations and caveats",
                "caveats and recommendations",
            ),
        ),
        FieldSpec(
            "human_in_the_loop",
            "Human oversight",
            "Who reviews the model's outputs, when a person can override it, how to escalate.",
            aliases=("human in the loop", "human oversight", "oversight"),
        ),
        FieldSpec(
            "feature_use_constraints",
            "Feature use constraints",
            "Features that must not be used or are restricted (protected attributes, "
            "proxies) and why. Write “None” if no feature is restricted: an explicit "
            "answer is part of the record.",
            aliases=("feature constraints", "restricted features"),
        ),
        FieldSpec(
            "owners_contacts",
            "Owners and contacts",
            "Accountable owner, team, and how to reach them (e-mail, on-call rota).",
            aliases=("owners", "contacts", "owner", "contact", "model owners"),
        ),
    ),
    "evaluation_report": (
        FieldSpec("summary", "Summary", "The outcome of the evaluation in a few sentences."),
        FieldSpec(
            "datasets",
            "Datasets",
            "Datasets used (name, snapshot id, time range, size) and how they were split.",
            aliases=("data", "evaluation data"),
        ),
        FieldSpec(
            "metrics",
            "Metrics",
            "Metric values with confidence intervals, overall and per relevant group.",
            aliases=("results",),
        ),
        FieldSpec(
            "comparison_to_baseline",
            "Comparison to baseline",
            "How the candidate compares with the model in production on the same data.",
            aliases=("baseline comparison", "comparison with baseline"),
        ),
        FieldSpec(
            "known_failure_modes",
            "Known failure modes",
            "Inputs or populations where the model performs badly, with examples.",
            aliases=("failure modes", "known issues"),
        ),
    ),
    "monitoring_plan": (
        FieldSpec(
            "monitored_signals",
            "Monitored signals",
            "What is watched in production: KPIs, drift, latency, error rate, data quality.",
            aliases=("signals", "metrics monitored"),
        ),
        FieldSpec(
            "thresholds",
            "Thresholds",
            "The value of each signal that raises an alert or triggers a rollback.",
            aliases=("alert thresholds",),
        ),
        FieldSpec(
            "alert_recipients",
            "Alert recipients",
            "Who is paged or e-mailed when a threshold is crossed (rota, team, people).",
            aliases=("alerting", "who is paged", "on call", "on-call"),
        ),
        FieldSpec(
            "review_cadence",
            "Review cadence",
            "How often the monitoring results are reviewed, and by whom (e.g. monthly).",
            multiline=False,
            aliases=("review schedule", "cadence"),
        ),
    ),
    "rollback_plan": (
        FieldSpec(
            "triggers",
            "Rollback triggers",
            "Objective conditions that trigger a rollback (metric, threshold, duration).",
            aliases=("rollback triggers", "when to roll back"),
        ),
        FieldSpec(
            "steps",
            "Rollback steps",
            "The steps to roll back, in order, with the commands or runbook links.",
            aliases=("rollback steps", "procedure", "runbook"),
        ),
        FieldSpec(
            "target_version",
            "Target version",
            "The version to roll back to (normally the one in production today).",
            multiline=False,
            aliases=("rollback target", "rollback version"),
        ),
        FieldSpec(
            "owner",
            "Rollback owner",
            "The person or rota who decides and executes the rollback.",
            multiline=False,
            aliases=("rollback owner", "owners"),
        ),
    ),
}


def document_fields(kind: str) -> list[FieldSpec]:
    """The structured fields of a document kind, in display order."""
    try:
        return list(_FIELDS[kind])
    except KeyError:
        raise ValueError(f"unknown document kind {kind!r}") from None


def document_missing_fields(kind: str, fields: dict[str, Any], content: str) -> list[str]:
    """Names of required fields that are neither filled in `fields` nor in `content`."""
    sections = _content_sections(content or "")
    missing = []
    for spec in document_fields(kind):
        if not spec.required:
            continue
        if _has_text(fields.get(spec.name) if isinstance(fields, dict) else None):
            continue
        headings = {_normalise(spec.label), _normalise(spec.name)}
        headings.update(_normalise(alias) for alias in spec.aliases)
        if any(_has_text(sections.get(heading)) for heading in headings):
            continue
        missing.append(spec.name)
    return missing


def validate_document(kind: str, fields: Any, content: Any = None) -> dict[str, str]:
    """Errors keyed by field name ("kind", "fields", "content" for the whole thing)."""
    if kind not in _FIELDS:
        return {"kind": f"unknown document kind {kind!r}"}
    errors: dict[str, str] = {}
    if content is not None:
        if not isinstance(content, str):
            errors["content"] = "must be text"
        elif len(content) > MAX_CONTENT_CHARS:
            errors["content"] = f"at most {MAX_CONTENT_CHARS:,} characters"
        elif "\x00" in content:
            errors["content"] = "must not contain NUL characters"
    if not isinstance(fields, dict):
        errors["fields"] = "must be an object of field name to text"
        return errors
    specs = {spec.name: spec for spec in _FIELDS[kind]}
    for name, value in fields.items():
        spec = specs.get(name) if isinstance(name, str) else None
        key = str(name)
        if spec is None:
            allowed = ", ".join(specs)
            errors[key] = f"unknown field for a {kind.replace('_', ' ')} (allowed: {allowed})"
        elif value is None:
            continue  # the same as leaving it blank
        elif not isinstance(value, str):
            errors[key] = "must be text"
        elif len(value) > MAX_FIELD_CHARS:
            errors[key] = f"at most {MAX_FIELD_CHARS:,} characters"
        elif "\x00" in value:
            errors[key] = "must not contain NUL characters"
        elif not spec.multiline and ("\n" in value.strip() or "\r" in value.strip()):
            errors[key] = "must be a single line"
    return errors


_MARKDOWN = MarkdownIt("commonmark")
_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_PLACEHOLDER_CHARS = re.compile(r"[\s*_`>#\[\]()<>:.]+")


def _has_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = _COMMENT.sub("", value).strip()
    if not text:
        return False
    if text.lower() in PLACEHOLDERS:
        return False
    bare = _PLACEHOLDER_CHARS.sub(" ", text).strip().lower()
    return bool(bare) and bare not in PLACEHOLDERS


def _normalise(heading: str) -> str:
    return _NON_WORD.sub(" ", heading.lower().replace("_", " ")).strip()


def _content_sections(content: str) -> dict[str, str]:
    """Normalised heading text -> the Markdown under it (down to the next heading of the
    same or a higher level). Headings inside code blocks are not headings."""
    if not content.strip():
        return {}
    lines = content.splitlines()
    tokens = _MARKDOWN.parse(content)
    headings: list[tuple[int, int, int, str]] = []  # level, first line, body start, text
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            text = tokens[index + 1].content if index + 1 < len(tokens) else ""
            headings.append((int(token.tag[1]), token.map[0], token.map[1], text))
    # Where each section ends: at the next heading of the same or a higher level (one
    # pass with a stack, so thousands of headings stay cheap).
    ends = [len(lines)] * len(headings)
    open_sections: list[int] = []
    for position, (level, start, _, _) in enumerate(headings):
        while open_sections and headings[open_sections[-1]][0] >= level:
            ends[open_sections.pop()] = start
        open_sections.append(position)
    sections: dict[str, str] = {}
    for (_, _, body_start, text), end in zip(headings, ends, strict=True):
        body = "\n".join(
            line
            for line in lines[body_start:end]
            if not line.lstrip().startswith("#")  # sub-headings alone are not content
        )
        key = _normalise(text)
        if key and (key not in sections or not _has_text(sections[key])):
            sections[key] = body
    return sections

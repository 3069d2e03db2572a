"""Documentation gate: are the required documents present and complete?

Pure: completeness (which required fields of a document are missing) is computed by the
evidence app; this module only judges its summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from governance.core.vocabulary import DOCUMENT_KINDS

from .outcome import GateInputError, GateResult, checklist
from .params import GateParams, checked, names_from

__all__ = ["DOCUMENT_KINDS", "documentation_gate"]


@dataclass(frozen=True, kw_only=True)
class DocumentationParams(GateParams):
    gate = "documentation"
    required: list[str] = checked(names_from(DOCUMENT_KINDS, what="document kinds"), policy_name="require")


def _summary(kind: str, doc: Any) -> tuple[bool, list[str]]:
    """(present, missing_fields) of one document summary, validated."""
    if doc is None:
        return False, []
    if not isinstance(doc, Mapping):
        raise GateInputError(f"documents.{kind}: must be an object")
    present = doc.get("present", True)
    if not isinstance(present, bool):
        raise GateInputError(f"documents.{kind}.present: must be true or false")
    missing = doc.get("missing_fields", [])
    if missing is None:
        missing = []
    if isinstance(missing, str) or not isinstance(missing, Iterable):
        raise GateInputError(f"documents.{kind}.missing_fields: must be a list of field names")
    fields = list(missing)
    for i, f in enumerate(fields):
        if not isinstance(f, str) or not f:
            raise GateInputError(f"documents.{kind}.missing_fields[{i}]: must be a non-empty string")
    return present, list(dict.fromkeys(fields))


def documentation_gate(*, documents: Mapping[str, Mapping[str, Any]], **spec: Any) -> GateResult:
    """Failed when any required document is absent or has missing fields.

    required (policy: `require`): subset of model_card, evaluation_report, monitoring_plan, rollback_plan
    (None = all four). documents: kind → {"present": bool (default true when the entry
    exists), "missing_fields": [names]}; a kind absent from `documents` is missing.
    Value = number of required documents not complete, threshold 0; groups per kind
    {"status": complete|incomplete|missing, "missing_fields": [...]}.
    """
    wanted = DocumentationParams.from_spec(spec).required
    if documents is None:
        documents = {}
    if not isinstance(documents, Mapping):
        raise GateInputError("documents must be an object keyed by document kind")

    groups: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for kind in wanted:
        present, missing = _summary(kind, documents.get(kind))
        if not present:
            groups[kind] = {"status": "missing", "missing_fields": []}
            problems.append(f"{kind} missing")
        elif missing:
            groups[kind] = {"status": "incomplete", "missing_fields": missing}
            problems.append(f"{kind} incomplete (missing: {', '.join(missing)})")
        else:
            groups[kind] = {"status": "complete", "missing_fields": []}

    if wanted:
        all_clear = f"all {len(wanted)} required documents complete ({', '.join(wanted)})"
    else:
        all_clear = "no documents required"
    details = {"required": wanted}
    return checklist("documents_incomplete", wanted, problems, groups, all_clear=all_clear, details=details)

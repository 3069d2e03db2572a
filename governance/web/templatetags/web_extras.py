"""Small presentation filters for the browser templates. No queries, no HTML from user text."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from django import template
from django.template.defaultfilters import stringfilter, truncatechars

from governance.core.numbers import measured
from governance.gates.stats.outcome import value_name
from governance.web.inbox_rows import inbox_rows as build_inbox_rows
from governance.web.inbox_rows import model_rows as build_model_rows

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`{{ gate_charts|get_item:run.pk }}`: dict lookup by a variable key (None if absent)."""
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        try:
            return mapping[key]
        except (KeyError, IndexError, TypeError):
            return None


@register.filter
def short(value, length=12):
    """First characters of a hash (full value belongs in a title attribute)."""
    if value is None:
        return ""
    return str(value)[: int(length)]


def _default(obj):
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


@register.filter
def json_pretty(value):
    """Indented JSON text (auto-escaped by the template like any other text)."""
    try:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=_default)
    except (TypeError, ValueError):
        return str(value)


@register.filter
def json_compact(value):
    try:
        return json.dumps(value, separators=(", ", ": "), sort_keys=True, ensure_ascii=False, default=_default)
    except (TypeError, ValueError):
        return str(value)


# 'drop' (or 'increase', 'improvement') for a gate that compared with the baseline, else 'value'.
register.filter("value_name", value_name)


@register.filter
def words(value):
    """`awaiting_approvals` → `awaiting approvals`."""
    if value is None:
        return ""
    return str(value).replace("_", " ")


@register.filter
def num(value, digits=4):
    """A measured number: 4 significant digits, ints as ints, '—' for none."""
    return measured(value, digits)


@register.filter
def is_number(value):
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


@register.filter
def diff_lines(diff_text):
    """A unified diff as (css class, line) pairs: added / removed / hunk / file / context."""
    lines = []
    for line in (diff_text or "").splitlines():
        if line.startswith(("+++", "---")):
            css = "diff-file"
        elif line.startswith("@@"):
            css = "diff-hunk"
        elif line.startswith("+"):
            css = "diff-add"
        elif line.startswith("-"):
            css = "diff-del"
        else:
            css = "diff-ctx"
        lines.append((css, line))
    return lines


_NEXT_STEPS = {
    "performance": (
        "Compare the candidate against the baseline on the same rows (predictions table, "
        "columns y_score and baseline_score). Retrain or fix the regression; a different "
        "non-inferiority margin is a policy change, made and justified on the policy page."
    ),
    "threshold_metric": (
        "The metric's confidence bound is on the wrong side of the threshold. Check the "
        "predictions table (y_true, y_score, decision threshold) and the sample size: a "
        "small n widens the interval. Improve the model or add evaluation rows."
    ),
    "fairness": (
        "Inspect the per-group rates in the chart and details below: which group is lowest and "
        "how many rows it has. Address the disparity (data, threshold per policy, model) and "
        "upload new predictions; do not drop the sensitive column."
    ),
    "latency": (
        "Profile the model serving path (feature fetch, model size, batching) and optimise, "
        "then upload a new latency table measured on production-like hardware."
    ),
    "cost": "Reduce the serving cost per 1,000 predictions (model size, hardware, batching) and upload new cost evidence.",
    "drift": (
        "Compare the reference and current feature tables for the features flagged below. "
        "Retrain on recent data or confirm the shift is expected and document it in the evaluation report."
    ),
    "reproducibility": (
        "Make the training run reproducible: record the seed, code hash, data snapshot and "
        "training config. An artifact sha256 that does not match was hashed from the bytes at "
        "the artifact URI (or an uploaded file): register the version again with the right "
        "hash or fix the file. Unverified means the worker could not fetch the artifact: "
        "check the URI, the bucket's permissions for the worker, or upload the file as evidence."
    ),
    "declared_metrics": (
        "The metrics file says one thing, the predictions another. Recompute the metrics from "
        "the very predictions table you uploaded (same rows, same threshold) and upload a "
        "corrected metrics file, or upload the predictions the reported numbers came from."
    ),
    "robustness": "Review the robustness results that fall outside the bound and harden the model, then upload new robustness evidence.",
    "documentation": (
        "Complete the documents and fields listed in the explanation (links under Documents "
        "on the version page). Each save is a new revision."
    ),
    "security": (
        "Remove any secret from the evidence and rotate it; replace or remove dependencies "
        "with a denied licence; regenerate the SBOM; drop personal data from feature samples."
    ),
}

_ERROR_STEP = (
    "The gate could not be computed. Check the evidence named in the explanation (kind, "
    "columns, format) on the version page, upload a corrected file, then re-run the gates "
    "by filing a new request."
)


_INCONCLUSIVE_STEP = (
    "Upload more evidence (the rows named above), then file a new request; or lower the "
    "confidence in the policy, with the sign-off of its approvers."
)


@register.filter
def next_step(gate_type, status="failed"):
    """The "what to do next" hint for a failed, inconclusive or error gate."""
    if status == "error":
        return _ERROR_STEP
    if status == "inconclusive":
        return _INCONCLUSIVE_STEP
    return _NEXT_STEPS.get(
        str(gate_type), "Read the explanation, fix the evidence or the model, and file a new request."
    )


@register.filter
def slots_filled(slot_state):
    """How many required approval slots are filled (SlotState from approvals/services.py)."""
    return sum(1 for slot in getattr(slot_state, "slots", []) if slot.decision is not None)


@register.filter
def doc_state(entry):
    """complete / incomplete / missing for one documents_completeness() entry."""
    if not entry or not entry.get("present"):
        return "missing"
    return "incomplete" if entry.get("missing_fields") else "complete"


@register.filter
def person(user):
    """A user's full name, else username ('—' for none)."""
    if user is None:
        return "—"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or getattr(user, "username", str(user))


@register.filter
def is_scalar(value):
    """True for None, text, numbers and booleans (shown inline); False for lists and dicts."""
    return value is None or isinstance(value, (str, int, float, bool, Decimal))


_GATE_ORDER = ("failed", "inconclusive", "error", "running", "pending", "bypassed", "passed")


@register.filter
def status_counts(gates):
    """[(status, count)] over gate runs (objects) or outcome dicts, worst first, zeros left out."""
    counts: dict[str, int] = {}
    for gate in gates or []:
        status = gate.get("status") if isinstance(gate, dict) else getattr(gate, "status", None)
        counts[str(status)] = counts.get(str(status), 0) + 1
    ordered = [(s, counts.pop(s)) for s in _GATE_ORDER if s in counts]
    return ordered + sorted(counts.items())


@register.filter(expects_localtime=False)
def parse_iso(value):
    """An ISO-8601 string from stored JSON (computed_at) as a datetime for the date filter."""
    if not value or not isinstance(value, str):
        return value
    from django.utils.dateparse import parse_datetime

    try:
        return parse_datetime(value) or value
    except ValueError:
        return value


@register.filter
def stale_ids(slot_state):
    """Primary keys of approvals that no longer count (SlotState.stale)."""
    return {decision.pk for decision, _reason in getattr(slot_state, "stale", [])}


@register.filter
def field_label(name, kind):
    """The label of a document field named in missing_fields (`{{ f|field_label:kind }}`)."""
    from governance.evidence.documents import document_fields

    try:
        for spec in document_fields(kind):
            if spec.name == name:
                return spec.label
    except (KeyError, ValueError, TypeError):
        pass
    return words(name)


_OBJECT_LABELS = {
    "promotionrequest": "request",
    "registeredmodel": "model",
    "modelversion": "version",
    "policyversion": "policy version",
    "policy": "policy",
    "artifact": "evidence",
    "document": "document",
    "decision": "decision",
    "team": "team",
    "gaterun": "gate run",
    "apitoken": "API token",
    "user": "user",
}


@register.filter
def object_label(object_type):
    """`approvals.promotionrequest` → `request` (audit list)."""
    name = str(object_type or "").rsplit(".", 1)[-1]
    return _OBJECT_LABELS.get(name, name)


@register.filter
def preferred_stage(choices):
    """The stage a promotion form should preselect: the first forward move, not `archived`.

    Retiring a version is a deliberate choice; it must never be the default of a form.
    """
    values = [value for value, _label in (choices or [])]
    forward = [v for v in values if v and v != "archived"]
    return forward[0] if forward else (values[0] if values else "")


@register.filter
def sla(promotion):
    """When a request's approvals are due, now (approvals.sla.SlaState: due_at, overdue, text);
    None when no SLA clock runs. `{% with due=promotion|sla %}`."""
    from django.utils import timezone

    from governance.approvals.sla import sla_state

    return sla_state(promotion, timezone.now()) if promotion is not None else None


@register.filter
def inbox_rows(items, tab=""):
    """`{% for row in queue.page.object_list|inbox_rows:tab %}`: the inbox's rows with their
    links, times and labels built once per page (governance/web/inbox_rows.py)."""
    return build_inbox_rows(list(items), closed=tab == "decided")


@register.filter
def model_rows(models):
    """`{% for row in page.object_list|model_rows %}`: the model list's rows with their links
    and labels built once per page (governance/web/inbox_rows.py)."""
    return build_model_rows(list(models))


@register.filter(is_safe=True)
@stringfilter
def clip(value, length):
    """`truncatechars`, answering at once for text no longer than `length` once in NFC, as
    Django's returns it (it cannot need cutting; Django's walks every character first): a
    gate's JSON details are rarely cut."""
    normal = unicodedata.normalize("NFC", value)
    if len(normal) <= int(length):
        return normal
    return truncatechars(value, length)

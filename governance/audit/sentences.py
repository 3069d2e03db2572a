"""Each audit event as one sentence a person reads: the audit page, its CSV and the PDFs.

"Risk officer Ana approved request #21: 'reviewed the evidence' (RISK-202, medium)."

Sentences are plain text built from the event's recorded fields only (no queries beyond the
event's actor, when the caller loaded it); the data is user-controlled, so templates escape
them like any other text. Every action the product records has a sentence here
(tests/audit/test_sentences.py collects the actions from the source); an unknown action
gets a plain generic sentence rather than an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from governance.audit.models import AuditEvent
from governance.core.vocabulary import label

QUOTE_CHARS = 200


def _text(value, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(value) -> str:
    text = _text(value)
    return f"'{text}'" if text else ""


def _short(value) -> str:
    return _text(value, 12) if value else "?"


def _imported_from(data: dict) -> str:
    """The clause ', imported from MLflow run R (experiment 'E')' of a version registered from a run."""
    source = data.get("source")
    mlflow = source.get("mlflow") if isinstance(source, dict) else None
    if not isinstance(mlflow, dict) or not mlflow.get("run_id"):
        return ""
    experiment = mlflow.get("experiment_name") or mlflow.get("experiment_id")
    return f", imported from MLflow run {_text(mlflow['run_id'], 64)}" + (
        f" (experiment {_quote(experiment)})" if experiment else ""
    )


def _actor(event: AuditEvent) -> str:
    """The person's full name when their user row was loaded with the event, else the
    username recorded at the time; "the system" for workers and beat."""
    if event.actor_id is None:
        return "the system" if event.actor_label in ("", "system") else event.actor_label
    if AuditEvent.actor.is_cached(event) and event.actor is not None:
        return event.actor.get_full_name() or event.actor_label
    return event.actor_label


def _role_actor(event: AuditEvent, data: dict) -> str:
    role, name = data.get("role"), _actor(event)
    if not role or label(str(role)).lower() == name.lower():  # a user named after their role
        return name
    return f"{label(str(role))} {name}"


def _request(event: AuditEvent) -> str:
    return f"request #{event.object_id}" if event.object_id else "a request"


def _object(event: AuditEvent, noun: str) -> str:
    return f"{noun} #{event.object_id}" if event.object_id else f"a {noun}"


def _version(event: AuditEvent, data: dict, key: str = "version") -> str:
    number = data.get(key)
    name = event.model_name or "the model"
    return f"{name} v{number}" if number not in (None, "") else name


def _list(values) -> str:
    if isinstance(values, (list, tuple)):
        return ", ".join(_text(v, 60) for v in values) or "none"
    return _text(values, 200) or "none"


def _stage(value) -> str:
    return label(str(value)).lower() if value else "?"


def _join(*parts: str) -> str:
    return "".join(p for p in parts if p)


# --- Pieces several sentences share --------------------------------------------------


def _raw(value):
    return value


def _ticket(value) -> str:
    return _text(value, 100)


def _user(value) -> str:
    return _text(value, 150)


def _if(d: dict, key: str, template: str, show: Callable = _quote) -> str:
    """`template` around the shown value when the data has a non-empty `key`, else nothing:
    _if(d, "reason", ": {}") is ": 'reviewed the evidence'" or ""."""
    return template.format(show(d[key])) if d.get(key) else ""


def _team(d: dict) -> str:
    return _text(d.get("team"), 100) or "?"


def _webhook(event: AuditEvent, d: dict) -> str:
    return f"{_object(event, 'webhook')} of team {_team(d)}"


def _why(d: dict) -> str:
    """The reason a refusal gave, without its full stop (the sentence adds one)."""
    return _text(d.get("reason")).rstrip(".") or "no reason given"


def _bypassed(event: AuditEvent) -> str:
    """Lower case: a sentence that starts with it is capitalised by event_sentence."""
    return f"the gates emergency {_request(event)} bypassed"


def _gate(d: dict, limit: int) -> str:
    return _text(d.get("gate_id"), limit) or "?"


def _round(d: dict) -> str:
    return f"round {d.get('round', '?')}"


def _evidence(verb: str, name_key: str, preposition: str) -> Callable[[AuditEvent, dict], str]:
    """Ana uploaded predictions evidence 'holdout.csv' for credit v3 (sha256 …): the file's
    name is in `name_key` of the event's data."""

    def sentence(e: AuditEvent, d: dict) -> str:
        kind, name = label(str(d.get("kind") or "evidence")).lower(), _quote(d.get(name_key)) or "(unnamed)"
        return f"{_actor(e)} {verb} {kind} evidence {name} {preposition} {_version(e, d)} (sha256 {_short(d.get('sha256'))})."

    return sentence


def _sign_in(d: dict) -> str:
    return f"A sign-in as {_quote(d.get('username')) or 'an unknown user'}"


def _url(d: dict) -> str:
    return _text(d.get("url"), 200) or "?"


def _prefix(d: dict) -> str:
    return _text(d.get("prefix"), 20) or "?"


def _username(d: dict) -> str:
    return _user(d.get("username")) or "?"


def _user_changed(what: str) -> Callable[[AuditEvent, dict], str]:
    return lambda e, d: f"{_actor(e)} changed the {what} of {_username(d)}: {_changes(d)}."


# --- One function per action ------------------------------------------------------------


def _decision(verb: str) -> Callable[[AuditEvent, dict], str]:
    def sentence(event: AuditEvent, d: dict) -> str:
        terms = ", ".join(t for t in (_ticket(d.get("ticket_id")), _text(d.get("risk_class"), 20)) if t)
        return _join(
            f"{_role_actor(event, d)} {verb} {_request(event)}",
            _if(d, "reason", ": {}"),
            f" ({terms})" if terms else "",
            ".",
        )

    return sentence


def _requested(e: AuditEvent, d: dict) -> str:
    change = str(d.get("change_type") or "standard")
    kind = "an emergency change" if change == "emergency" else f"a {label(change).lower()} change"
    return _join(
        f"{_actor(e)} requested moving {_version(e, d)} from {_stage(d.get('from'))} to {_stage(d.get('to'))}",
        f" ({_request(e)}, {kind}",
        _if(d, "ticket_id", ", ticket {}", _ticket),
        ")",
        _if(d, "justification", ": {}"),
        ".",
    )


def _gates_failed(e: AuditEvent, d: dict) -> str:
    parts = []
    if d.get("failed"):
        parts.append(f"failed {_list(d['failed'])}")
    if d.get("inconclusive"):
        parts.append(f"inconclusive (the data cannot tell) {_list(d['inconclusive'])}")
    if d.get("errored"):
        parts.append(f"could not compute {_list(d['errored'])}")
    return f"The gates of {_request(e)} did not pass: " + ("; ".join(parts) or "no detail") + "."


def _refused(e: AuditEvent, d: dict) -> str:
    attempt = {"approve": "approve", "reject": "reject", "request_changes": "request changes on"}.get(
        str(d.get("decision")), "decide on"
    )
    as_role = f" as {label(str(d['role'])).lower()}" if d.get("role") else ""
    return f"{_actor(e)} was refused to {attempt} {_request(e)}{as_role}: {_why(d)}."


def _stage_changed(e: AuditEvent, d: dict) -> str:
    how = ""
    if d.get("rollback"):
        how = " (roll back)"
    elif d.get("emergency_expired"):
        how = f" (the emergency bypass of request #{d.get('request')} expired unresolved)"
    elif d.get("request"):
        how = f" (request #{d.get('request')})"
    return f"{_actor(e)} moved {_version(e, d)} from {_stage(d.get('from'))} to {_stage(d.get('to'))}{how}."


def _rolled_back(e: AuditEvent, d: dict) -> str:
    name = e.model_name or "the model"
    moved = f"rolled {name} back from v{d.get('from_version', '?')} to v{d.get('to_version', '?')}"
    return _join(f"{_actor(e)} {moved}", _if(d, "reason", ": {}"), _if(d, "ticket_id", " ({})", _ticket), ".")


def _role_change(granted: bool) -> Callable[[AuditEvent, dict], str]:
    def sentence(e: AuditEvent, d: dict) -> str:
        user, role = _user(d.get("user")) or "?", label(str(d.get("role") or "?")).lower()
        scope = "model" if d.get("scope") == "model" else "team"
        where = f"on {scope} {_text(d.get('target'), 150) or '?'}"
        if granted:
            return f"{_actor(e)} granted {user} the role {role} {where}."
        ended = d.get("sessions_ended")
        signed_out = (
            f"; {ended} open session{'s' if ended != 1 else ''} ended" if isinstance(ended, int) and ended else ""
        )
        return f"{_actor(e)} revoked the role {role} of {user} {where}{signed_out}."

    return sentence


def _document_saved(e: AuditEvent, d: dict) -> str:
    kind = label(str(d.get("kind") or "document")).lower()
    saved = f"saved revision {d.get('revision', '?')} of the {kind} of {_version(e, d)}"
    return _join(f"{_actor(e)} {saved}", _if(d, "missing_fields", " (still missing: {})", _list), ".")


def _flags(d: dict) -> str:
    return ", ".join(name.replace("is_", "") for name in ("is_superuser", "is_staff") if d.get(name) is True)


def _changes(d: dict) -> str:
    before = d.get("before") if isinstance(d.get("before"), dict) else {}
    after = d.get("after") if isinstance(d.get("after"), dict) else {}
    parts = [f"{_text(k, 40)} {_text(before.get(k), 80)} → {_text(v, 80)}" for k, v in sorted(after.items())]
    return "; ".join(parts) or "no detail"


def _exported(e: AuditEvent, d: dict) -> str:
    filters = d.get("filters") if isinstance(d.get("filters"), dict) else {}
    shown = ", ".join(f"{k} {_text(v, 100)}" for k, v in sorted(filters.items()) if v not in (None, ""))
    return _join(
        f"{_actor(e)} exported the audit trail as {_text(d.get('format') or 'CSV', 10).upper()}",
        _if(d, "via", " through the {}", lambda v: _text(v, 20)),
        f" (filters: {shown})" if shown else " (no filters)",
        ".",
    )


def _webhook_updated(event: AuditEvent, data: dict) -> str:
    changed = data.get("changed") or []
    if changed == ["active"]:
        verb = "reactivated" if (data.get("before") or {}).get("active") is False else "deactivated"
        return f"{_actor(event)} {verb} {_webhook(event, data)}."
    return f"{_actor(event)} changed the {_list(changed)} of {_webhook(event, data)}."


def _token_issued(e: AuditEvent, d: dict) -> str:
    kind = "service" if d.get("scope") == "service" else "API"
    return _join(
        f"{_actor(e)} issued the {kind} token {_prefix(d)}",
        _if(d, "name", " {}"),
        _if(d, "user", " to {}", _user),
        f" for {'teams' if len(d['teams']) > 1 else 'team'} {_list(d['teams'])}" if d.get("teams") else "",
        f", expiring {_text(str(d['expires_at'])[:10], 10)}" if d.get("expires_at") else "",
        _if(d, "via", " ({})", lambda v: _text(v, 60)),
        ".",
    )


def _gates_inconclusive(e: AuditEvent, d: dict) -> str:
    who = "; ".join(
        f"{_text(gate, 64)} may be accepted by a {_text(role, 30).replace('_', ' ')}"
        for gate, role in (d.get("accept_by") or {}).items()
    )
    return f"Gates of {_request(e)} are inconclusive (the data cannot tell): {who}; it waits for their acceptance."


SENTENCES: dict[str, Callable[[AuditEvent, dict], str]] = {
    # Registry
    "model.created": lambda e, d: (
        f"{_actor(e)} registered the model {e.model_name or '?'} for team {_team(d)} (risk tier {_stage(d.get('risk_tier'))})."
    ),
    "version.registered": lambda e, d: (
        f"{_actor(e)} registered {_version(e, d)} (artifact sha256 {_short(d.get('artifact_sha256'))}, "
        f"code {_short(d.get('code_hash'))}){_imported_from(d)}."
    ),
    "version.stage_changed": _stage_changed,
    "version.rolled_back": _rolled_back,
    # Evidence and documents
    "evidence.uploaded": _evidence("uploaded", "name", "for"),
    "evidence.downloaded": _evidence("downloaded the", "file", "of"),
    "document.saved": _document_saved,
    # Gates
    "gate.finished": lambda e, d: (
        f"Gate {_gate(d, 80)} of request #{d.get('request_id', '?')} ({_round(d)}) finished: "
        f"{_text(d.get('status'), 20) or '?'} (outcome sha256 {_short(d.get('outcome_sha256'))})."
    ),
    # Promotion requests
    "promotion.requested": _requested,
    "promotion.gates_passed": lambda e, d: (
        f"Every gate of {_request(e)} passed or was accepted (accepted: {_list(d['accepted'])}); it waits for approvals."
        if d.get("accepted")
        else f"Every gate of {_request(e)} passed; it waits for approvals."
    ),
    "promotion.gates_inconclusive": _gates_inconclusive,
    "promotion.gate_accepted": lambda e, d: _join(
        f"{_role_actor(e, d)} accepted the inconclusive gate {_gate(d, 64)} of {_request(e)} ({_round(d)})",
        _if(d, "reason", ": {}"),
        _if(d, "ticket_id", " (ticket {})", _ticket),
        ".",
    ),
    "promotion.gates_failed": _gates_failed,
    "promotion.gates_restarted": lambda e, d: _join(
        f"The gates of {_request(e)} run again ({_round(d)})", _if(d, "why", ": {}", _text), "."
    ),
    "promotion.gate_acceptance_refused": lambda e, d: (
        f"{_actor(e)} was refused to accept the inconclusive gate {_gate(d, 64)} of {_request(e)}: {_why(d)}."
    ),
    "promotion.approved": _decision("approved"),
    "promotion.rejected": _decision("rejected"),
    "promotion.changes_requested": _decision("requested changes on"),
    "promotion.decision_refused": _refused,
    "promotion.resubmitted": lambda e, d: _join(
        f"{_actor(e)} resubmitted {_request(e)} ({_round(d)})", _if(d, "note", ": {}"), "."
    ),
    "promotion.cancelled": lambda e, d: _join(f"{_actor(e)} cancelled {_request(e)}", _if(d, "reason", ": {}"), "."),
    "promotion.promoted": lambda e, d: (
        f"{_request(e).capitalize()} moved {_version(e, d)} to {_stage(d.get('to'))}"
        + (f" on the sign-off of {_actor(e)}." if e.actor_id else ".")
    ),
    "promotion.expired": lambda e, d: (
        f"{_request(e).capitalize()} expired after {d.get('after_days', '?')} days without a decision."
    ),
    # The event sentence is capitalised: "The gates emergency request #21 bypassed ..."
    "promotion.bypass_recheck_started": lambda e, d: (
        f"{_actor(e)} started a re-check of {_bypassed(e)} ({_list(d.get('gates'))}, {_round(d)})."
    ),
    "promotion.bypass_recheck_failed": lambda e, d: (
        f"{_bypassed(e)} still fail on re-check ({_list((d.get('failed') or []) + (d.get('errored') or []))}); "
        "it is reverted when its bypass expires."
    ),
    "promotion.bypass_resolved": lambda e, d: (
        f"{_bypassed(e)} ({_list(d.get('gates'))}) passed on re-check: the bypass is resolved."
    ),
    "promotion.emergency_reverted": lambda e, d: (
        f"The bypass of emergency {_request(e)} expired with its gates unresolved; reverted: "
        f"{'; '.join(_text(m, 120) for m in d.get('moves') or []) or 'nothing left to revert'}."
    ),
    # Post-incident reviews
    "review.assigned": lambda e, d: (
        f"The post-incident review of emergency {_request(e)} was assigned to "
        f"{len(d.get('assignees') or [])} people, due {_text(d.get('due_at'), 16).replace('T', ' ') or '?'}."
    ),
    "review.submitted": lambda e, d: _join(
        f"{_actor(e)} submitted the post-incident review of emergency {_request(e)}",
        _if(d, "root_cause", "; root cause: {}"),
        ".",
    ),
    # Policies, teams, roles
    "policy.published": lambda e, d: _join(
        f"{_actor(e)} published policy {_text(d.get('policy'), 100) or '?'} v{d.get('version', '?')} "
        f"(sha256 {_short(d.get('sha256'))})",
        _if(d, "reason", ": {}"),
        ".",
    ),
    "team.created": lambda e, d: f"{_actor(e)} created the team {_text(d.get('name'), 100) or '?'}.",
    "role.granted": _role_change(granted=True),
    "role.revoked": _role_change(granted=False),
    # Webhooks (webhooks/services.py)
    "webhook.registered": lambda e, d: (
        f"{_actor(e)} registered {_webhook(e, d)} to {_url(d)} for {_list(d.get('events'))}."
    ),
    "webhook.updated": _webhook_updated,
    "webhook.secret_rotated": lambda e, d: (
        f"{_actor(e)} rotated the secret of {_webhook(e, d)} "
        f"({_text(d.get('previous_prefix'), 16) or '?'}… → {_text(d.get('new_prefix'), 16) or '?'}…)."
    ),
    "webhook.deleted": lambda e, d: (
        f"{_actor(e)} deleted {_webhook(e, d)} ({_url(d)}) and its log of {d.get('deliveries', 0)} deliveries."
    ),
    "webhook.redelivered": lambda e, d: (
        f"{_actor(e)} sent event {_text(d.get('event_type'), 40) or '?'} {_text(d.get('event_id'), 64) or '?'} "
        f"again to {_webhook(e, d)} (delivery #{d.get('redelivery', '?')})."
    ),
    "webhook.pinged": lambda e, d: f"{_actor(e)} sent a test event to {_webhook(e, d)}.",
    # People, sign-ins, tokens (the admin and the login page)
    "auth.login": lambda e, d: f"{_actor(e)} signed in.",
    "auth.logout": lambda e, d: f"{_actor(e)} signed out.",
    "auth.login_failed": lambda e, d: f"{_sign_in(d)} failed.",
    "auth.locked_out": lambda e, d: f"{_sign_in(d)} was refused: locked out after repeated failures.",
    "user.created": lambda e, d: _join(
        f"{_actor(e)} created the user {_username(d)}", f" ({_flags(d)})" if _flags(d) else "", "."
    ),
    "user.privileges_changed": _user_changed("privileges"),
    "user.permissions_changed": _user_changed("groups or permissions"),
    "token.issued": _token_issued,
    "token.revoked": lambda e, d: _join(
        f"{_actor(e)} revoked the API token {_prefix(d)}",
        _if(d, "name", " {}"),
        _if(d, "user", " of {}", _user),
        ".",
    ),
    # Reports (PDF) and the trail itself
    # Dry runs (gates/dry_run.py): asked for, never a decision
    "dry_run.requested": lambda e, d: _join(
        f"{_actor(e)} asked for a dry run of {e.model_name or 'a model'} v{d.get('version', '?')} "
        f"{_stage(d.get('from'))} → {_stage(d.get('to'))}",
        _if(d, "policy", " under policy {}"),
        f" ({_object(e, 'dry run')}).",
    ),
    "report.requested": lambda e, d: (
        f"{_actor(e)} asked for the {_text(d.get('scope'), 30) or 'audit'} report "
        f"{_quote(d.get('title')) or '(untitled)'} ({_object(e, 'report')})."
    ),
    "report.generated": lambda e, d: _join(
        f"{_object(e, 'report').capitalize()} {_quote(d.get('title'))} was generated",
        _if(d, "pages", ": {} pages", _raw),
        f", sha256 {_short(d.get('sha256'))}.",
    ),
    "report.downloaded": lambda e, d: _join(
        f"{_actor(e)} downloaded {_object(e, 'report')} {_quote(d.get('title'))}",
        _if(d, "via", " through the {}", lambda v: _text(v, 20)),
        f" (sha256 {_short(d.get('sha256'))}).",
    ),
    "report.verified": lambda e, d: (
        f"{_actor(e)} checked a PDF (sha256 {_short(d.get('sha256'))}): "
        + (f"it is {_object(e, 'report')}, produced here." if d.get("match") else "not a report produced here.")
    ),
    "audit.exported": _exported,
    "audit.anchored": lambda e, d: _join(
        f"{_actor(e)} anchored the chain head outside the database: event #{d.get('seq', '?')}, "
        f"hash {_short(d.get('hash'))}",
        _if(d, "file", ", in {}", lambda v: _text(v, 150)),
        _if(d, "emailed_to", ", emailed to {} address(es)", _raw),
        ".",
    ),
}


def _generic(event: AuditEvent) -> str:
    what = event.object_type.rsplit(".", 1)[-1] if event.object_type else ""
    target = f" on {what} #{event.object_id}" if what and event.object_id else ""
    model = f" (model {event.model_name})" if event.model_name else ""
    return f"{_actor(event)} recorded {event.action}{target}{model}."


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


_DOUBLE_STOP = re.compile(r"([.!?…])'\.$")


def event_sentence(event: AuditEvent) -> str:
    """The event in one plain-text sentence (escaped by whoever renders it)."""
    data = event.data if isinstance(event.data, dict) else {}
    build = SENTENCES.get(event.action)
    if build is None:
        return _capitalised(_generic(event))
    try:
        sentence = build(event, data)
    except (AttributeError, KeyError, TypeError, ValueError):  # data of an unexpected shape
        return _capitalised(_generic(event))
    sentence = _capitalised(_DOUBLE_STOP.sub(r"\1'", sentence))  # "... 'lower.'" not "'lower.'."
    return sentence + _through_token(data.get("auth"))


def _through_token(auth) -> str:
    """Events written while serving a request made with an API token name the token."""
    if not isinstance(auth, dict) or not auth.get("prefix"):
        return ""
    kind = "service token" if auth.get("scope") == "service" else "API token"
    return f" (through the {kind} {_text(auth.get('prefix'), 20)})"


def action_families() -> list[tuple[str, list[str]]]:
    """Known actions grouped by family ("promotion." → [...]), for the audit page's filter."""
    families: dict[str, list[str]] = {}
    for action in sorted(SENTENCES):
        families.setdefault(action.split(".", 1)[0] + ".", []).append(action)
    return sorted(families.items())

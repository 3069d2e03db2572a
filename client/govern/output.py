"""What a person reads in a CI log: the gate table, a request's state, the approvals left."""

from __future__ import annotations

FINAL_GATE = frozenset({"passed", "failed", "inconclusive", "error", "bypassed"})
# Request statuses: where the CLI stops waiting, and which of them are a success (exit 0).
GATES_DONE = frozenset(
    {"awaiting_approvals", "promoted", "gates_failed", "rejected", "changes_requested", "cancelled", "expired"}
)
SUCCESS = frozenset({"awaiting_gates", "awaiting_approvals", "promoted"})

COLUMNS = (("GATE", 22), ("TYPE", 16), ("STATUS", 12), ("METRIC", 26), ("VALUE", 10), ("THRESHOLD", 10), ("CI", 21))


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def gate_header() -> str:
    return " ".join(f"{name:<{width}}" for name, width in COLUMNS) + " EXPLANATION"


def gate_row(gate: dict) -> str:
    ci = "-"
    if gate.get("ci_low") is not None or gate.get("ci_high") is not None:
        ci = f"[{_number(gate.get('ci_low'))}, {_number(gate.get('ci_high'))}]"
    cells = (
        gate.get("gate_id") or "?",
        gate.get("type") or "",
        gate.get("status") or "",
        gate.get("metric") or "-",
        _number(gate.get("value")),
        _number(gate.get("threshold")),
        ci,
    )
    line = " ".join(f"{_cut(cell, width):<{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True))
    return f"{line} {_cut(gate.get('explanation') or '', 160)}".rstrip()


def request_title(promotion: dict) -> str:
    return (
        f"request {promotion.get('id')}: {promotion.get('model')} v{promotion.get('version')} "
        f"{promotion.get('from_stage')} -> {promotion.get('to_stage')} ({promotion.get('change_type')})"
    )


def status_line(promotion: dict) -> str:
    reason = promotion.get("status_reason") or ""
    return f"status: {promotion.get('status')}" + (f": {reason}" if reason else "")


def approvals_needed(promotion: dict) -> list[str]:
    """The approval slots still open, by role ("risk_officer", "reviewer x2")."""
    counts: dict[str, int] = {}
    for slot in promotion.get("slots") or []:
        if not slot.get("filled_by"):
            counts[slot.get("role", "?")] = counts.get(slot.get("role", "?"), 0) + 1
    return [role if n == 1 else f"{role} x{n}" for role, n in counts.items()]


def approvals_lines(promotion: dict) -> list[str]:
    status = promotion.get("status")
    if status not in ("awaiting_approvals", "awaiting_gates"):
        return []
    needed = approvals_needed(promotion)
    lines = [f"approvals still needed: {', '.join(needed) if needed else 'none'}"]
    given = [
        f"{a['user']} ({a['role']})"
        for a in promotion.get("approvals") or []
        if a.get("decision") == "approve" and not a.get("stale")
    ]
    if given:
        lines.append(f"approved by: {', '.join(given)}")
    stale = [f"{s.get('user')} ({s.get('role')})" for s in promotion.get("stale_approvals") or []]
    if stale:
        lines.append(f"stale approvals (to be given again): {', '.join(stale)}")
    return lines


def inconclusive_lines(promotion: dict) -> list[str]:
    """Each inconclusive gate: the data that would decide it, and whether it blocks the request
    or who may accept it (or who did)."""
    lines = []
    for gate in promotion.get("gates") or []:
        if gate.get("status") != "inconclusive":
            continue
        needed = ((gate.get("details") or {}).get("needed") or {}).get("text")
        line = f"inconclusive gate {gate.get('gate_id')}: " + (f"needs {needed}" if needed else "the data cannot tell")
        mode = gate.get("on_inconclusive") or "block"
        accepted = gate.get("acceptance")
        if accepted:
            line += (
                f"; accepted by {accepted.get('user')} ({accepted.get('role')}): {_cut(accepted.get('reason'), 200)}"
            )
        elif isinstance(mode, dict) and mode.get("accept_by"):
            who = ", ".join(gate.get("acceptors") or []) or "nobody may now"
            line += f"; a {mode['accept_by']} may accept it ({who})"
        else:
            line += "; it blocks the request (on_inconclusive: block)"
        lines.append(line)
    return lines


def request_lines(promotion: dict) -> list[str]:
    """What is left to do on a request: inconclusive gates, then approvals."""
    return inconclusive_lines(promotion) + approvals_lines(promotion)


def dry_run_lines(report: dict) -> list[str]:
    policy = report.get("policy") or "no policy"
    if report.get("policy_version"):
        policy += f" v{report['policy_version']}"
    lines = [f"dry run {report.get('transition')} under {policy}"]
    if report.get("gates"):
        lines.append(gate_header())
        lines += [gate_row(g) for g in report["gates"]]
    approvals = [a.get("role", "?") for a in report.get("approvals") or []]
    if approvals:
        lines.append(f"approvals the request would need: {', '.join(approvals)}")
    for problem in report.get("problems") or []:
        lines.append(f"problem: {_cut(problem, 300)}")
    lines.append("verdict: " + DRY_RUN_VERDICTS.get(report.get("status") or "", _verdict(report)))
    return lines


DRY_RUN_VERDICTS = {
    "timed_out": "timed out on the worker (no verdict)",
    "error": "could not be computed (no verdict)",
}


def _verdict(report: dict) -> str:
    verdict = report.get("verdict") or ("pass" if report.get("would_pass") else "fail")
    return {
        "pass": "would pass",
        "fail": "would NOT pass",
        "inconclusive": "inconclusive: the data cannot tell for a gate (not a pass)",
    }.get(verdict, verdict)

"""The audit page's chain check: a panel showing the latest check and the chain head, and a
button that asks a worker to verify the whole trail (audit.checks). The panel polls itself
every 2 s while a check runs (htmx) and stops once the result is in.

Who may: `accounts.permissions.user_may_verify_audit` (admins, compliance officers, auditors).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from governance.accounts.permissions import user_may_verify_audit
from governance.audit.checks import chain_check_latest, chain_check_lost, chain_check_request
from governance.audit.models import AuditChainCheck
from governance.audit.services import audit_head

PANEL = "web/_audit_check_panel.html"


def audit_check_context(request, check: AuditChainCheck | None = None) -> dict:
    """What the panel shows (the latest check, or `check` as just asked for); `visible`
    False for people who may not run the check."""
    if not user_may_verify_audit(request.user):
        return {"visible": False}
    check = check or chain_check_latest()
    head_seq, head_hash = audit_head()
    lost = check is not None and chain_check_lost(check, timezone.now())
    return {
        "visible": True,
        "check": check,
        "running": check is not None and check.finished_at is None and not lost,
        "lost": lost,
        "head_seq": head_seq,
        "head_hash": head_hash,
        "request": request,
    }


@login_required
@require_http_methods(["GET", "POST"])
def audit_check(request):
    if not user_may_verify_audit(request.user):
        raise PermissionDenied("Only compliance officers, auditors and admins run the chain check.")
    if request.method == "POST":
        check = chain_check_request(user=request.user)
        if not request.headers.get("HX-Request"):
            messages.info(request, "The chain check has started; its result appears below when a worker finishes it.")
            return redirect("web:audit_list")
        return render(request, PANEL, audit_check_context(request, check))  # as asked: it polls on
    return render(request, PANEL, audit_check_context(request))

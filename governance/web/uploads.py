"""The version page's panel of large uploads a worker parses (evidence/queued.py, issue 14):
what is queued or being checked, what was accepted lately, what was refused and why. While
one is still waiting the panel replaces itself every 3 s (htmx) from `version_uploads`; the
final render carries no trigger, so polling stops. Same access as the version page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from governance.accounts.roles import Action
from governance.evidence.models import ParseStatus, QueuedUpload
from governance.evidence.selectors import (
    UPLOAD_ACCEPTED_SHOWN_FOR,
    UPLOAD_REFUSED_SHOWN_FOR,
    UPLOADS_SHOWN_MAX,
    uploads_in_progress,
)
from governance.registry.models import ModelVersion
from governance.registry.selectors import get_model_for_user

PENDING = (ParseStatus.QUEUED, ParseStatus.PARSING)


def uploads_panel_context(version) -> dict:
    uploads: list[QueuedUpload] = uploads_in_progress(version)
    return {
        "uploads": uploads,
        "uploads_pending": any(u.status in PENDING for u in uploads),
        "uploads_accepted_days": UPLOAD_ACCEPTED_SHOWN_FOR.days,
        "uploads_refused_days": UPLOAD_REFUSED_SHOWN_FOR.days,
        "uploads_max": UPLOADS_SHOWN_MAX,
    }


@login_required
def version_uploads(request, name, number):
    model = get_model_for_user(request.user, name, Action.VIEW)  # 404 to those who may not see it
    version = get_object_or_404(ModelVersion.objects.select_related("model"), model=model, version=number)
    context = {"model": version.model, "version": version, **uploads_panel_context(version)}
    return render(request, "web/_uploads.html", context)

"""Evidence downloads, audited: the page view (web.views.artifact_download) checks the
permission and builds the response; this records who took which file before it is sent."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from governance.evidence.access import artifact_download_record
from governance.evidence.models import Artifact
from governance.web import views


@login_required
def artifact_download(request, name, number, artifact_id):
    response = views.artifact_download(request, name, number, artifact_id)  # 404 / 403 raise
    if response.status_code == 200:
        artifact = Artifact.objects.select_related("version__model").get(pk=artifact_id)
        artifact_download_record(user=request.user, artifact=artifact)
    return response

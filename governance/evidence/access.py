"""Reading evidence is audited too: who downloaded which file, of which version, when."""

from __future__ import annotations

from django.db import transaction

from governance.audit.services import audit_record
from governance.evidence.models import Artifact


def artifact_download_record(*, user, artifact: Artifact) -> None:
    """The caller checked the permission and is about to send the file."""
    with transaction.atomic():
        audit_record(
            actor=user,
            action="evidence.downloaded",
            obj=artifact,
            model_name=artifact.version.model.name,
            data={
                "version": artifact.version.version,
                "kind": artifact.kind,
                "sha256": artifact.sha256,
                "file": artifact.original_name,
            },
        )

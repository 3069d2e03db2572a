"""A finished report as a download, for the pages and the API alike (recorded as downloaded)."""

from __future__ import annotations

from django.http import FileResponse

from governance.reports.models import Report
from governance.reports.services import report_downloaded


def report_file_response(report: Report, *, user, via: str) -> FileResponse:
    report_downloaded(user=user, report=report, via=via)
    response = FileResponse(
        report.file.open("rb"), as_attachment=True, filename=f"report-{report.pk}.pdf", content_type="application/pdf"
    )
    response["X-Report-Sha256"] = report.sha256
    return response

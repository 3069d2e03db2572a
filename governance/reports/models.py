"""A generated audit PDF: what it covers, who asked, how far it got, and the file's sha256.

The file is kept; its sha256 is also an audit event, so anyone holding a PDF can ask whether
it is one this product produced (`reports.services.report_verify`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReportScope(models.TextChoices):
    REQUEST = "request", "Promotion request"
    VERSION = "version", "Model version"
    MODEL = "model", "Model history"
    PERIOD = "period", "Period"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    ERROR = "error", "Error"


def report_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.created_at:%Y/%m}/report-{instance.pk}-{instance.sha256[:12]}.pdf"


class Report(models.Model):
    scope = models.CharField(max_length=10, choices=ReportScope.choices)
    # The subject: one of these, by scope (period: since/until and optionally a team).
    request = models.ForeignKey("approvals.PromotionRequest", null=True, blank=True, on_delete=models.PROTECT)
    version = models.ForeignKey("registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT)
    model = models.ForeignKey("registry.RegisteredModel", null=True, blank=True, on_delete=models.PROTECT)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT)
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)

    title = models.CharField(max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.FloatField(default=0.0)  # 0..1
    stage = models.CharField(max_length=200, blank=True)  # what the worker is doing now
    error = models.CharField(max_length=1000, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=report_path, max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    notify_when_done = models.BooleanField(default=False)  # email the link (model, period, slow ones)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "created_at"])]

    def __str__(self) -> str:
        return f"Report #{self.pk}: {self.title}"

    @property
    def finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.ERROR)


class ChartImage(models.Model):
    """A figure rendered to SVG, keyed by the sha256 of the figure's Plotly JSON: the same
    figure always gives the same picture, so it is drawn once. Gate charts are drawn when a
    request's gates finish (`reports.receivers`), so a report only lays them out."""

    figure_sha256 = models.CharField(max_length=64, primary_key=True)
    svg = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"chart {self.figure_sha256[:12]}"

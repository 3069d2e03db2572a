from django.urls import path

from governance.api import dry_runs, mlflow, reports, tokens, uploads, views
from governance.api import webhooks as webhook_api

app_name = "api"

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="models"),
    path("models/<str:name>/", views.ModelDetailView.as_view(), name="model"),
    path("models/<str:name>/rollback/", views.RollbackView.as_view(), name="rollback"),
    path("models/<str:name>/history/", views.ModelHistoryView.as_view(), name="model_history"),
    path("models/<str:name>/versions/", views.VersionListView.as_view(), name="versions"),
    path("models/<str:name>/versions/import-mlflow/", mlflow.MlflowImportView.as_view(), name="import_mlflow"),
    path("models/<str:name>/versions/<int:number>/", views.VersionDetailView.as_view(), name="version"),
    path("models/<str:name>/versions/<int:number>/evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("evidence/uploads/<uuid:pk>/", uploads.QueuedUploadView.as_view(), name="evidence_upload"),
    path("models/<str:name>/versions/<int:number>/documents/", views.DocumentView.as_view(), name="documents"),
    path("models/<str:name>/versions/<int:number>/promotions/", views.PromotionCreateView.as_view(), name="promotions"),
    path("models/<str:name>/versions/<int:number>/dry-run/", dry_runs.DryRunView.as_view(), name="dry_run"),
    path("dry-runs/<int:pk>/", dry_runs.DryRunDetailView.as_view(), name="dry_run_detail"),
    path("promotions/<int:pk>/", views.PromotionDetailView.as_view(), name="promotion"),
    path("promotions/<int:pk>/decisions/", views.DecisionView.as_view(), name="decisions"),
    path("promotions/<int:pk>/gates/<str:gate_id>/accept/", views.GateAcceptView.as_view(), name="gate_accept"),
    path("promotions/<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("promotions/<int:pk>/resubmit/", views.ResubmitView.as_view(), name="resubmit"),
    path("audit/", views.AuditListView.as_view(), name="audit"),
    path("audit.csv", views.AuditCsvView.as_view(), name="audit_csv"),
    path("roles/", views.RoleView.as_view(), name="roles"),
    path("tokens/", tokens.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="token"),
    path("promotions/<int:pk>/report.pdf", reports.PromotionReportView.as_view(), name="promotion_report"),
    path("models/<str:name>/report.pdf", reports.ModelReportView.as_view(), name="model_report"),
    path(
        "models/<str:name>/versions/<int:number>/report.pdf", reports.VersionReportView.as_view(), name="version_report"
    ),
    path("reports/", reports.ReportListView.as_view(), name="reports"),
    path("reports/verify/", reports.ReportVerifyView.as_view(), name="report_verify"),
    path("reports/<int:pk>/", reports.ReportDetailView.as_view(), name="report"),
    path("reports/<int:pk>/file.pdf", reports.ReportFileView.as_view(), name="report_file"),
    path("teams/<str:team>/webhooks/", webhook_api.WebhookListView.as_view(), name="webhooks"),
    path("teams/<str:team>/webhooks/<int:pk>/", webhook_api.WebhookDetailView.as_view(), name="webhook"),
    path(
        "teams/<str:team>/webhooks/<int:pk>/rotate-secret/",
        webhook_api.WebhookRotateView.as_view(),
        name="webhook_rotate",
    ),
    path("teams/<str:team>/webhooks/<int:pk>/test/", webhook_api.WebhookTestView.as_view(), name="webhook_test"),
    path(
        "teams/<str:team>/webhooks/<int:pk>/deliveries/",
        webhook_api.DeliveryListView.as_view(),
        name="webhook_deliveries",
    ),
    path(
        "teams/<str:team>/webhooks/<int:pk>/deliveries/<int:delivery>/",
        webhook_api.DeliveryDetailView.as_view(),
        name="webhook_delivery",
    ),
    path(
        "teams/<str:team>/webhooks/<int:pk>/deliveries/<int:delivery>/redeliver/",
        webhook_api.DeliveryRedeliverView.as_view(),
        name="webhook_redeliver",
    ),
]

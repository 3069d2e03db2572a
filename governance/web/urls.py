from django.urls import path

from governance.web import audit_check, audit_views, downloads, history_views, reports, views
from governance.web import webhooks as webhook_views

app_name = "web"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("models/", views.model_list, name="model_list"),
    path("models/<str:name>/", views.model_detail, name="model_detail"),
    path("models/<str:name>/rollback/", views.model_rollback, name="model_rollback"),
    path("models/<str:name>/history/", history_views.model_history, name="model_history"),
    path("models/<str:name>/v<int:number>/", views.version_detail, name="version_detail"),
    path("models/<str:name>/v<int:number>/promote/", views.version_request_promotion, name="version_request_promotion"),
    path("models/<str:name>/v<int:number>/evidence/", views.version_upload_evidence, name="version_upload_evidence"),
    path("models/<str:name>/v<int:number>/evidence/<int:artifact_id>/", views.artifact_detail, name="artifact_detail"),
    path(
        "models/<str:name>/v<int:number>/evidence/<int:artifact_id>/download/",
        downloads.artifact_download,  # views.artifact_download, audited
        name="artifact_download",
    ),
    path("models/<str:name>/v<int:number>/documents/<str:kind>/", views.document_edit, name="document_edit"),
    path("models/<str:name>/v<int:number>/model-card/", views.model_card, name="model_card"),
    path("models/<str:name>/v<int:number>/dry-run/", views.version_dry_run, name="version_dry_run"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/gates/", views.request_gates, name="request_gates"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="request_cancel"),
    path("requests/<int:pk>/resubmit/", views.request_resubmit, name="request_resubmit"),
    path("requests/<int:pk>/bypass-recheck/", views.request_bypass_recheck, name="request_bypass_recheck"),
    path("requests/<int:pk>/review/", views.request_review, name="request_review"),
    path("requests/<int:pk>/status.json", views.request_status_json, name="request_status_json"),
    path("audit/", audit_views.audit_list, name="audit_list"),
    path("audit.csv", audit_views.audit_csv, name="audit_csv"),
    path("audit/check/", audit_check.audit_check, name="audit_check"),
    path("roles/", views.role_list, name="role_list"),
    path("requests/<int:pk>/report/", reports.request_report, name="request_report"),
    path("models/<str:name>/v<int:number>/report/", reports.version_report, name="version_report"),
    path("models/<str:name>/report/", reports.model_report, name="model_report"),
    path("reports/", reports.report_list, name="report_list"),
    path("reports/verify/", reports.report_verify, name="report_verify"),
    path("reports/<int:pk>/", reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/status.json", reports.report_status, name="report_status"),
    path("reports/<int:pk>/file.pdf", reports.report_file, name="report_file"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<str:name>/", views.policy_detail, name="policy_detail"),
    path("policies/<str:name>/v<int:number>/", views.policy_detail, name="policy_version"),
    path("policies/<str:name>/edit/", views.policy_edit, name="policy_edit"),
    path("webhooks/", webhook_views.webhook_teams, name="webhook_teams"),
    path("teams/<str:team>/webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("teams/<str:team>/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("teams/<str:team>/webhooks/<int:pk>/rotate/", webhook_views.webhook_rotate, name="webhook_rotate"),
    path("teams/<str:team>/webhooks/<int:pk>/active/", webhook_views.webhook_active, name="webhook_active"),
    path("teams/<str:team>/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("teams/<str:team>/webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path(
        "teams/<str:team>/webhooks/<int:pk>/deliveries/<int:delivery>/",
        webhook_views.delivery_detail,
        name="webhook_delivery",
    ),
    path(
        "teams/<str:team>/webhooks/<int:pk>/deliveries/<int:delivery>/redeliver/",
        webhook_views.delivery_redeliver,
        name="webhook_redeliver",
    ),
]

from django.contrib import admin

from governance.approvals.models import Decision, PromotionRequest
from governance.audit.admin import ReadOnlyAdmin


@admin.register(PromotionRequest)
class PromotionRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "version", "from_stage", "to_stage", "change_type", "status", "requested_by", "requested_at")
    list_filter = ("status", "change_type")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("request", "user", "role", "decision", "risk_class", "created_at")

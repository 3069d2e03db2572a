from django.contrib import admin

from governance.audit.admin import ReadOnlyAdmin
from governance.registry.models import ModelVersion, RegisteredModel


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    """Only the description and domain are edited here. A model's team decides who holds
    roles on it and its risk tier which policy governs it: governance facts, fixed at
    registration (audited, `model_create`); no unaudited door changes them."""

    list_display = ("name", "team", "risk_tier", "domain", "created_at")
    list_filter = ("risk_tier", "team")
    search_fields = ("name", "description")
    readonly_fields = ("name", "team", "risk_tier", "created_at")

    def has_add_permission(self, request):
        return False  # created through the API or seed, with an audit event

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "version", "stage", "created_by", "created_at")
    list_filter = ("stage",)

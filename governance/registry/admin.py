from django.contrib import admin

from governance.audit.admin import ReadOnlyAdmin
from governance.registry.models import ModelVersion, RegisteredModel


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "risk_tier", "domain", "created_at")
    list_filter = ("risk_tier", "team")
    search_fields = ("name", "description")
    readonly_fields = ("name", "created_at")

    def has_add_permission(self, request):
        return False  # created through the API or seed, with an audit event


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "version", "stage", "created_by", "created_at")
    list_filter = ("stage",)

from django.contrib import admin

from governance.audit.models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """State changes go through the services; the admin only reads these tables."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "actor_label", "action", "model_name", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("model_name", "actor_label", "action")

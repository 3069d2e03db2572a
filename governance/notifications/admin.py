"""Delivery state for operators: what was sent, what is stuck and why. Rows are written by
the services only; the admin reads them and can queue unsent ones again."""

from __future__ import annotations

from django.contrib import admin

from governance.notifications import services
from governance.notifications.models import Channel, Notification, NotificationDigest, NotificationPreference


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient", "request", "channel", "sent_at", "attempts", "last_error")
    list_filter = ("kind", "channel", ("sent_at", admin.EmptyFieldListFilter), "escalation")
    search_fields = ("recipient__username", "recipient__email", "message", "key")
    list_select_related = ("recipient", "request__version__model")
    actions = ["send_again"]

    @admin.action(description="Queue the selected unsent immediate notifications again")
    def send_again(self, request, queryset):
        ids = list(queryset.filter(sent_at__isnull=True, channel=Channel.IMMEDIATE).values_list("pk", flat=True))
        services.notifications_queue(ids)
        self.message_user(request, f"Queued {len(ids)} notification(s).")


@admin.register(NotificationDigest)
class NotificationDigestAdmin(ReadOnlyAdmin):
    list_display = ("day", "recipient", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("recipient__username", "recipient__email")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "email", "updated_at")
    list_filter = ("email",)
    search_fields = ("user__username", "user__email")

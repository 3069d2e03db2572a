from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from governance.audit.admin import ReadOnlyAdmin
from governance.policies.models import Policy, PolicyVersion


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin):
    """Policies are published through the policy editor (validated, versioned, audited)."""

    list_display = ("name", "current_version", "editor")

    @admin.display(description="edit")
    def editor(self, obj):
        return format_html('<a href="{}">open the policy editor</a>', reverse("web:policy_edit", args=[obj.name]))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("policy", "number", "sha256", "author", "created_at")

"""Teams, tokens and users in the admin. Facts that decide who may do what change through
the audited services (accounts/services.py) or not at all here: a team's name, a token's
revocation (an action that calls `token_revoke`), a user's staff, superuser and active flags
(audited when changed, see AuditedUserAdmin)."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction

from governance.accounts.models import ApiToken, Team
from governance.accounts.services import token_revoke
from governance.audit.services import audit_record


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams are created with `create_team` or on the roles page (audited); here only their
    display name changes. A team's name is how grants and models refer to it."""

    list_display = ("name", "display_name", "created_at")
    search_fields = ("name", "display_name")
    readonly_fields = ("name", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the API tokens page, the API or `manage.py create_token` (the key
    shown once); here they are revoked, with the action below (audited, for good: a revoked
    token is never valid again). Scope and expiry are fixed when a token is issued."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    readonly_fields = (
        "user",
        "prefix",
        "key_hash",
        "teams",
        "expires_at",
        "issued_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    fields = ("user", "name", "prefix", "teams", "expires_at", "issued_by", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would revoke without a trace

    @admin.action(description="Revoke the selected tokens (audited; cannot be undone)")
    def revoke(self, request, queryset):
        revoked = sum(token_revoke(actor=request.user, token=token) for token in queryset.select_related("user"))
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


PRIVILEGE_FIELDS = ("is_active", "is_staff", "is_superuser")


def _audit_user_change(request, user, action: str, before: dict, changed: dict, *, missing=None) -> None:
    """One audit event for a change of what `user` may do: the changed fields' values before
    (`missing` where there was none) and after. The audit trail's sentence for both actions
    (audit/sentences.py, `_user_changed`) reads this shape."""
    audit_record(
        actor=request.user,
        action=action,
        obj=user,
        data={
            "username": user.get_username(),
            "before": {f: before.get(f, missing) for f in changed},
            "after": changed,
        },
    )


class AuditedUserAdmin(UserAdmin):
    """Django's user admin, with changes of what a user may do audited: the active, staff and
    superuser flags (staff see and manage everything, docs/architecture.md), group and
    permission assignments. Roles are granted on the roles page, not here."""

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            before = dict(type(obj).objects.filter(pk=obj.pk).values(*PRIVILEGE_FIELDS).first() or {})
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changed = {f: getattr(obj, f) for f in PRIVILEGE_FIELDS if change and before.get(f) != getattr(obj, f)}
            if not change:
                audit_record(
                    actor=request.user,
                    action="user.created",
                    obj=obj,
                    data={"username": obj.get_username(), **{f: getattr(obj, f) for f in PRIVILEGE_FIELDS}},
                )
            elif changed:
                _audit_user_change(request, obj, "user.privileges_changed", before, changed)

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        fields = [f for f in ("groups", "user_permissions") if f in form.cleaned_data]
        before = {f: sorted(str(x) for x in getattr(obj, f).all()) for f in fields} if change else {}
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            after = {f: sorted(str(x) for x in getattr(obj, f).all()) for f in fields}
            changed = {f: after[f] for f in fields if before.get(f, []) != after[f]}
            if changed:
                _audit_user_change(request, obj, "user.permissions_changed", before, changed, missing=[])


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)

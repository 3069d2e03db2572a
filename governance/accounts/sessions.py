"""Which browser sessions a user holds, and ending them all (after a role is revoked).

A password change already ends a user's other sessions: Django checks each session's auth
hash, derived from the password, on every request (tests/accounts/test_sessions.py).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from governance.accounts.models import UserSession


@receiver(user_logged_in, dispatch_uid="accounts.session_recorded")
def on_login(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(session_key=session.session_key, defaults={"user": user})


@receiver(user_logged_out, dispatch_uid="accounts.session_forgotten")
def on_logout(sender, request, user, **kwargs) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        UserSession.objects.filter(session_key=key).delete()


def sessions_end(user) -> int:
    """End every browser session of `user` (they must sign in again); how many were open."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)

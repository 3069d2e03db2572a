"""Logins, failed logins and logouts in the audit trail (Django's auth signals).

Connected in AuditConfig.ready. The request's IP and user agent come with every event
(audit.context); a failed login records the user name that was tried (never the password),
bounded in length, and whether such an account exists is not recorded. A lockout by
django-axes (too many failures of one user name from one address) is `auth.locked_out`.
"""

from __future__ import annotations

from django.db import transaction

from governance.audit.services import audit_record

MAX_USERNAME_CHARS = 150


def _record(**kwargs) -> None:
    with transaction.atomic():
        audit_record(**kwargs)


def login_recorded(sender, request, user, **kwargs) -> None:
    _record(actor=user, action="auth.login", obj=user, data={"username": user.get_username()})


def logout_recorded(sender, request, user, **kwargs) -> None:
    if user is None:  # a logout without a session: nobody to name
        return
    _record(actor=user, action="auth.logout", obj=user, data={"username": user.get_username()})


def login_failure_recorded(sender, credentials, request=None, **kwargs) -> None:
    tried = credentials.get("username", "") if isinstance(credentials, dict) else ""
    tried = "".join(ch for ch in str(tried) if ch.isprintable())[:MAX_USERNAME_CHARS]
    _record(actor=None, action="auth.login_failed", data={"username": tried})


def lockout_recorded(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """django-axes refused a sign-in: too many failures of this user name from this address
    (sent when the lockout starts and for each attempt while it lasts)."""
    tried = "".join(ch for ch in str(username or "") if ch.isprintable())[:MAX_USERNAME_CHARS]
    _record(actor=None, action="auth.locked_out", data={"username": tried})


def connect() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(login_recorded, dispatch_uid="audit.login")
    user_logged_out.connect(logout_recorded, dispatch_uid="audit.logout")
    user_login_failed.connect(login_failure_recorded, dispatch_uid="audit.login_failed")
    from axes.signals import user_locked_out

    user_locked_out.connect(lockout_recorded, dispatch_uid="audit.locked_out")

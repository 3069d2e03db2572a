"""Signal receivers of the browser pages (connected in apps.WebConfig.ready)."""

from __future__ import annotations

from governance.web.reauth import authentication_record


def remember_authentication_time(sender, request, user, **kwargs) -> None:
    """Every login stamps the session: a decision on a regulated model within 10 minutes of it
    needs no password again (reauth.py)."""
    if request is not None and hasattr(request, "session"):
        authentication_record(request.session)

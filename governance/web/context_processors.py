from functools import cache

from governance.approvals.selectors import inbox_for_user
from governance.webhooks.selectors import teams_managed_by


def navigation(request):
    """The inbox count shown in the navigation: computed once, and only when a page shows it."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated) or request.path.startswith(("/api/", "/healthz", "/static/")):
        return {}
    return {
        "nav_inbox_count": cache(lambda: len(inbox_for_user(user))),
        "nav_manages_webhooks": cache(lambda: teams_managed_by(user).exists()),
    }

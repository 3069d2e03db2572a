import time
from functools import cache

from governance.approvals.selectors import inbox_for_user
from governance.webhooks.selectors import teams_managed_by

# Whether to show "Webhooks" is asked at most every few minutes per session (kept in the
# session), so the navigation costs no query on most pages; a new role shows within that.
WEBHOOK_NAV_RECHECK_SECONDS = 300
_WEBHOOK_NAV_KEY = "nav_manages_webhooks"


def _manages_webhooks(request, user) -> bool:
    known = request.session.get(_WEBHOOK_NAV_KEY)
    if isinstance(known, list) and len(known) == 2 and time.time() - known[1] < WEBHOOK_NAV_RECHECK_SECONDS:
        return bool(known[0])
    answer = teams_managed_by(user).exists()
    request.session[_WEBHOOK_NAV_KEY] = [answer, time.time()]
    return answer


def navigation(request):
    """The inbox count shown in the navigation: computed once, and only when a page shows it."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated) or request.path.startswith(("/api/", "/healthz", "/static/")):
        return {}
    return {
        "nav_inbox_count": cache(lambda: len(inbox_for_user(user))),
        "nav_manages_webhooks": cache(lambda: _manages_webhooks(request, user)),
    }

import time
from functools import cache

from django.core.cache import cache as process_cache

from governance.approvals.selectors import inbox_for_user
from governance.audit.services import audit_head
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


# The navigation's inbox count is the full decision rule over every open request the user
# sees (about 35 ms for 40 waiting requests). Everything that can move it (a request, a gate
# result, a decision, an acceptance, a role change, new evidence or a document's author)
# writes an audit event in the same transaction, so the count is kept per user against the
# audit chain's head: any such change gives a new key, and between changes a page costs
# one primary-key read. The lifetime only bounds the memory of keys nobody asks for again.
NAV_INBOX_CACHE_SECONDS = 600


def inbox_count(user) -> int:
    """How many requests wait for `user`'s sign-off, exact as of the last audit event."""
    seq, head_hash = audit_head()
    key = f"nav-inbox:{user.pk}:{seq}:{head_hash}"
    count = process_cache.get(key)
    if count is None:
        count = len(inbox_for_user(user))
        process_cache.set(key, count, NAV_INBOX_CACHE_SECONDS)
    return count


def navigation(request):
    """The inbox count shown in the navigation: computed once, and only when a page shows it."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated) or request.path.startswith(("/api/", "/healthz", "/static/")):
        return {}
    return {
        "nav_inbox_count": cache(lambda: inbox_count(user)),
        "nav_manages_webhooks": cache(lambda: _manages_webhooks(request, user)),
    }

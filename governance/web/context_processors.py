from governance.approvals.selectors import inbox_for_user


def navigation(request):
    """The inbox count shown in the navigation (constant number of queries)."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated) or request.path.startswith(("/api/", "/healthz", "/static/")):
        return {}
    return {"nav_inbox_count": len(inbox_for_user(user))}

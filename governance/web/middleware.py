"""Edge checks before any view runs."""

from __future__ import annotations

from django.http import Http404


def _printable(text: str) -> bool:
    return text.isprintable() and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


class RefuseNulPathMiddleware:
    """A NUL character in a URL path (`/models/%00/`) names nothing that can exist, and
    PostgreSQL cannot even compare text with it: a 404 (JSON under /api/), before a view
    puts it in a query. Cookies with control characters (a NUL in `sessionid`) are none this
    site set: they are dropped, so the session and CSRF layers see no cookie rather than
    a session key the database cannot look up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("No such page.")
        cookies = request.COOKIES
        if not all(_printable(k) and _printable(v) for k, v in cookies.items()):
            request.COOKIES = {k: v for k, v in cookies.items() if _printable(k) and _printable(v)}
        return self.get_response(request)

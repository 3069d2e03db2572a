"""Edge checks before any view runs."""

from __future__ import annotations

from django.http import Http404


class RefuseNulPathMiddleware:
    """A NUL character in a URL path (`/models/%00/`) names nothing that can exist, and
    PostgreSQL cannot even compare text with it: a 404 (JSON under /api/), before a view
    puts it in a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("No such page.")
        return self.get_response(request)

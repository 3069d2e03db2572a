"""Interactive API docs (Swagger UI) from our own static files, under the site's strict CSP.

Swagger UI's assets come from drf-spectacular-sidecar (SPECTACULAR_SETTINGS *_DIST "SIDECAR",
collected with the other static files), never from a CDN. The page has no inline script:
SpectacularSwaggerSplitView serves the init script as a separate response (`?script`), so
`script-src 'self'` holds. Signed-in users only (any role): an anonymous visitor is sent to
the sign-in page. "Try it out" calls the API with the browser's session (and its CSRF token),
so it does exactly what the user may do; the schema itself stays at /api/schema/.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated


class ApiDocsView(SpectacularSwaggerSplitView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    url_name = "schema"
    title = "Model governance API"


api_docs = login_required(ApiDocsView.as_view())

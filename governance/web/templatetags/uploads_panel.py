"""`{% uploads_panel model version %}`: the version page's panel of large uploads a worker
parses (web/uploads.py). The page's view has already checked that the user may see the
version; the panel reads its one query and renders web/_uploads.html, the same template the
panel's htmx poll (`web:version_uploads`) answers with."""

from __future__ import annotations

from django import template

from governance.web.uploads import uploads_panel_context

register = template.Library()


@register.inclusion_tag("web/_uploads.html", takes_context=True)
def uploads_panel(context, model, version) -> dict:
    return {"request": context.get("request"), "model": model, "version": version, **uploads_panel_context(version)}

"""`{% audit_check_panel %}`: the chain check panel on the audit page (web/audit_check.py)."""

from django import template

from governance.web.audit_check import PANEL, audit_check_context

register = template.Library()


@register.inclusion_tag(PANEL, takes_context=True)
def audit_check_panel(context):
    request = context.get("request")
    if request is None:
        return {"visible": False}
    return {**audit_check_context(request), "csrf_token": context.get("csrf_token")}

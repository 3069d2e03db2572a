"""Formatting for the audit PDF templates (numbers as a regulator reads them)."""

from __future__ import annotations

import json
import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from governance.core.numbers import measured

register = template.Library()


@register.filter
def num(value, digits: int = 4):
    """A number as the pages show it (governance.core.numbers)."""
    return measured(value, digits)


@register.filter
def interval(row: dict):
    low, high = row.get("ci_low"), row.get("ci_high")
    if low is None or high is None:
        return "—"
    return f"[{num(low)}, {num(high)}]"


@register.filter
def params(value: dict):
    """Gate parameters as 'max_drop=0.01, confidence=0.95'."""
    if not value:
        return "—"
    return ", ".join(f"{k}={json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in value.items())


@register.filter
def short(value, length: int = 16):
    return "" if value is None else str(value)[: int(length)]


@register.filter
def ticks(text: str):
    """`command` spans as monospace; everything else escaped."""
    return mark_safe(re.sub(r"`([^`]+)`", r'<span class="mono">\1</span>', escape(text)))

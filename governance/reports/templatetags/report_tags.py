"""Formatting for the audit PDF templates (numbers as a regulator reads them)."""

from __future__ import annotations

import json
import re

from django import template
from django.utils.html import conditional_escape, escape
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
def word_spans(text):
    """The text with each space-separated word in its own <span> (same words, same spaces).

    For cells styled `overflow-wrap: anywhere` in auto-layout tables: WeasyPrint measures such
    a cell's narrowest width by breaking after every character, laying out the whole rest of
    the text box each time, so one 150-character cell cost ~0.15 s and the policy's gate table
    ~0.5 s of every request told in full. A box per word makes that linear; the pages come
    out the same (same text, same lines)."""
    words = str(text).split(" ")
    return mark_safe(" ".join(f"<span>{conditional_escape(w)}</span>" for w in words))


@register.filter
def short(value, length: int = 16):
    return "" if value is None else str(value)[: int(length)]


@register.filter
def ticks(text: str):
    """`command` spans as monospace; everything else escaped."""
    return mark_safe(re.sub(r"`([^`]+)`", r'<span class="mono">\1</span>', escape(text)))

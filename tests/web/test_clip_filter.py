"""`clip` is `truncatechars` with a shortcut for text already short enough (the request
page's gate details): the same text (in NFC, as Django returns it), the same safety, for
short, long and combining text, and text NFC lengthens."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.template.defaultfilters import truncatechars
from django.utils.safestring import SafeString, mark_safe

from governance.web.templatetags.web_extras import clip

TEXTS = [
    "",
    "short",
    "x" * 80,
    "x" * 81,
    "e\u0301" * 60,
    "e\u0301" * 90,
    "\u0958" * 60,
    "\u0958" * 90,
    '{"a": "<b>"}' * 20,
    None,
    12345,
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("length", [0, 1, 5, 80, 100, 20000])
def test_clip_answers_as_truncatechars(text, length):
    assert clip(text, length) == truncatechars(text, length)


def test_clip_keeps_safe_text_safe_and_escapes_the_rest_in_a_template():
    for value in ("<b>" * 40, mark_safe("<b>" * 40)):
        for length in (10, 200):
            ours = Template("{% load web_extras %}{{ v|clip:n }}").render(Context({"v": value, "n": length}))
            django = Template("{{ v|truncatechars:n }}").render(Context({"v": value, "n": length}))
            assert ours == django
    assert isinstance(clip(mark_safe("<i>"), 10), SafeString)

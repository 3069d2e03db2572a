"""The PDF templates' filters that change markup, not words."""

from __future__ import annotations

import re

from governance.reports.templatetags.report_tags import params, word_spans


def test_word_spans_keeps_the_words_and_spaces_and_escapes_them():
    text = params({"sensitive": ["gender", "<age>"], "min": 0.8})
    html = word_spans(text)
    assert html.count("<span>") == len(text.split(" "))
    assert "<age>" not in html and "&lt;age&gt;" in html
    unspanned = re.sub(r"</?span>", "", html).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    assert unspanned == text == 'sensitive=["gender", "<age>"], min=0.8'

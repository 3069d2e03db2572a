"""Render user-written Markdown (model cards, reports, reasons) to safe HTML.

markdown-it-py (CommonMark + tables + strikethrough) renders, then nh3 (ammonia) sanitises
with an explicit allow-list. The output of `render_markdown` is safe to insert into a page
as is (`mark_safe` in the template layer); `render_plain` escapes one-line text.

Decisions:
- Raw HTML in the Markdown is parsed, then sanitised: only the tags below survive; every
  other tag is removed (its text kept), script/style/template-like tags with their content.
- No `style`, no `on*`, no `id`/`class` except the table alignment classes we set ourselves.
- Links: http, https, mailto and relative URLs only; every link gets
  rel="noopener noreferrer nofollow".
- Images are not displayed: a Markdown image becomes a link to the image (its alt text as
  the label) and <img> tags are removed. Embedded remote images would let any author make
  every approver's browser call a third-party server (tracking, IP leak) from a page that
  should be self-contained.
"""

from __future__ import annotations

import html
from typing import Any

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "details",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
ALLOWED_CLASSES = {
    "th": {"text-left", "text-center", "text-right"},
    "td": {"text-left", "text-center", "text-right"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
# Removed together with everything inside them (the rest keep their text).
DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "textarea",
        "title",
        "xmp",
        "noembed",
        "noframes",
        "select",
        "plaintext",
    }
)

_ALIGN_CLASS = {
    "text-align:left": "text-left",
    "text-align:center": "text-center",
    "text-align:right": "text-right",
}


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image_as_link)
    return md


def _render_image_as_link(self: Any, tokens: list, index: int, options: Any, env: Any) -> str:
    token = tokens[index]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    return f'<a href="{html.escape(str(src))}">{html.escape(alt)}</a>'


_MD = _markdown()


def render_markdown(text: str) -> str:
    """Markdown -> sanitised HTML fragment."""
    if not text:
        return ""
    tokens = _MD.parse(text)
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "").replace(" ", "")
            if style:
                token.attrs.pop("style", None)
                if style in _ALIGN_CLASS:
                    token.attrSet("class", _ALIGN_CLASS[style])
    rendered = _MD.renderer.render(tokens, _MD.options, {})
    return sanitize_html(rendered)


def sanitize_html(fragment: str) -> str:
    """The allow-list sanitiser on its own, for HTML that did not come from Markdown."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_plain(text: str) -> str:
    """One-line free text (a reason, a ticket id) as escaped HTML: whitespace and line
    breaks collapse to single spaces, control characters are dropped."""
    if not text:
        return ""
    cleaned = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return html.escape(" ".join(cleaned.split()), quote=True)

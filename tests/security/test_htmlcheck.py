"""The active-content checker, and proof that the vector corpus holds live vectors."""

from __future__ import annotations

import markdown
import pytest
import yaml

from security.htmlcheck import active_content, entry_content, fragment_active_content
from security.vectors import INERT, RAW_ACTIVE, VECTORS, Vector

ACTIVE_SNIPPETS: list[tuple[str, str]] = [
    ("<script>alert(1)</script>", "<script> element"),
    ("<IMG SRC=x OnErRoR=alert(1)>", "event handler onerror"),
    ('<img/src="x"/onerror=alert(1)>', "event handler onerror"),
    ("<svg/onload=alert(1)>", "event handler onload"),
    ('<a href="jav&#x61;script:alert(1)">x</a>', "scheme javascript"),
    ('<a href="java&#9;script:alert(1)">x</a>', "scheme javascript"),
    ('<a href="  JaVaScRiPt:alert(1)">x</a>', "scheme javascript"),
    ('<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>', "scheme data"),
    ('<img src="vbscript:msgbox(1)">', "scheme vbscript"),
    ('<iframe srcdoc="hello"></iframe>', "srcdoc"),
    ('<div style="width: expression(alert(1))">x</div>', "expression("),
    ('<p style="background:url(&#106;avascript:alert(1))">x</p>', "javascript:"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', "http-equiv"),
    ('<base href="https://evil.example/">', "<base> element"),
    ('<form action="https://evil.example/"><button>x</button></form>', "<form> element"),
    ('<button formaction="javascript:alert(1)">x</button>', "formaction URL"),
    ('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', "xlink:href URL"),
    ('<link rel="stylesheet" href="/x.css">', "<link> element"),
    ('<img srcset="ok.png 1x, javascript:alert(1) 2x">', "srcset URL"),
    ("<!-- --!><img src=x onerror=alert(1)> -->", "comment (parser differential)"),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>', "raw '</'"),
]

SAFE_SNIPPETS: list[str] = [
    '<p><a href="http://example.com/">http</a></p>',
    '<p><a href="https://example.com/a?b=1&amp;c=2#d">https</a></p>',
    '<p><a href="mailto:kefu@example.com">邮件</a></p>',
    '<p><a href="tel:+86-10-1234-5678">电话</a></p>',
    '<p><a href="HTTPS://EXAMPLE.COM/">upper-case scheme</a></p>',
    '<p><a href="../faq/">上一级</a> <a href="./a.html">同级</a> <a href="/kb/">根</a></p>',
    '<p><a href="docs/refund:policy">path with a colon after a slash</a></p>',
    '<p><a href="?next=javascript:alert(1)">query only</a></p>',
    '<h2 id="tui-kuan">退款</h2><p><a href="#tui-kuan">跳到退款</a></p>',
    "<p>七天无理由退货，运费由买家承担。</p>",
    "<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>",
    "<pre><code>&lt;img src=x onerror=alert(1)&gt;\n</code></pre>",
    "<table><thead><tr><th>问题</th><th>答复</th></tr></thead>"
    "<tbody><tr><td>退货</td><td>七天</td></tr></tbody></table>",
    '<p><img alt="示意图" src="images/step-1.png" title="第一步"></p>',
    '<p style="text-align: center; color: #333">居中</p>',
    '<p><a href="https://example.com" title="onclick=alert(1)">title text is not a handler</a></p>',
    "<p>price &lt; 100 and javascript:alert(1) as plain text</p>",
]


@pytest.mark.parametrize(("snippet", "reason"), ACTIVE_SNIPPETS)
def test_active_snippet_is_flagged(snippet: str, reason: str) -> None:
    found = active_content(snippet)
    assert any(reason in finding for finding in found), found


@pytest.mark.parametrize("snippet", SAFE_SNIPPETS)
def test_safe_snippet_is_not_flagged(snippet: str) -> None:
    assert active_content(snippet) == []


def test_allow_tags_suppresses_the_element_but_not_its_attributes() -> None:
    snippet = '<link rel="stylesheet" href="/x.css"><link href="javascript:alert(1)">'
    found = fragment_active_content(snippet, allow_tags=frozenset({"link"}))
    assert found == ["<link> href URL with scheme javascript: 'javascript:alert(1)'"]


def test_entry_content_keeps_only_marked_elements() -> None:
    page = (
        "<html><head><script src='/assets/theme.js'></script></head><body>\n"
        '<div class="md-content">\n'
        '  <div class="zhiku-entry other">\n'
        "    <div><p>规则 <b>一</b></p></div>\n"
        "    <p>第二段</p>\n"
        "  </div>\n"
        "  <script>theme()</script>\n"
        '  <section class="zhiku-entry"><img src=x onerror=alert(1)></section>\n'
        "</div></body></html>"
    )
    inner = entry_content(page, "zhiku-entry")
    assert "<div><p>规则 <b>一</b></p></div>" in inner
    assert "<p>第二段</p>" in inner
    assert "theme" not in inner
    assert active_content(inner) == ["<img> event handler onerror='alert(1)'"]
    assert entry_content(page, "missing") == ""


def test_entry_content_of_an_unclosed_element_runs_to_the_end() -> None:
    assert entry_content('<p>x</p><div class="e"><p>y</p>', "e") == "<p>y</p>"


def test_corpus_shape() -> None:
    assert len(VECTORS) >= 60
    assert len({vector.name for vector in VECTORS}) == len(VECTORS)
    assert {vector.category for vector in VECTORS} <= RAW_ACTIVE | {INERT}
    for vector in VECTORS:
        assert isinstance(vector, Vector)
        assert "\t" not in vector.markdown, vector.name
        dumped = yaml.safe_dump({"rule": vector.markdown}, allow_unicode=True)
        assert yaml.safe_load(dumped) == {"rule": vector.markdown}, vector.name


def _render(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "attr_list"])


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector.name)
def test_vector_is_live_without_a_sanitizer(vector: Vector) -> None:
    found = active_content(_render(vector.markdown))
    if vector.category in RAW_ACTIVE:
        assert found, f"{vector.name} renders inert: {_render(vector.markdown)!r}"
    else:
        assert not found, f"{vector.name} is active; give it a live category: {found}"

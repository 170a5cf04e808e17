"""The staff site's 知识健康 and 贡献榜 pages: Markdown with inline SVG charts."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import markdown
from conftest import entry_yaml

from tooling.report.markdown import md
from tooling.report.missing import MissingCluster
from tooling.report.model import (
    CreditRow,
    EntryRef,
    Health,
    OwnerHealth,
    Report,
    SectionCount,
    WeekCount,
)
from tooling.report.pages import SVG_NS, render_report_pages, site_report_pages

TODAY = date(2026, 11, 25)
SVG_BLOCK = re.compile(r"<svg .*?</svg>", re.DOTALL)
URL = re.compile(r"https?://[^\s\"'<>)]+")


def ref(entry_id: str, days: int) -> EntryRef:
    return EntryRef(entry_id, f"{entry_id} 怎么办?", "repairs", "x", "public", TODAY, days)


def sample_report() -> Report:
    weeks = tuple(
        WeekCount(date(2026, 9, 7) + timedelta(weeks=i), i % 3, 1 if i == 11 else 0)
        for i in range(12)
    )
    return Report(
        today=TODAY,
        since=date(2026, 10, 26),
        kb_root="kb",
        repo="/repo",
        main="main",
        history_note="",
        commits_read=10,
        kb_errors=0,
        health=Health(
            entries=5,
            stale=4,
            expiring=0,
            expired=0,
            owners=(
                OwnerHealth("zhang-wei", "张伟", (ref("a", 3), ref("b", 2), ref("c", 1)), (), ()),
                OwnerHealth("li-na", "A&B <李>", (ref("d", 9),), (), ()),
                OwnerHealth("wang-fang", "王芳", (), (ref("e", 4),), ()),
            ),
            thin=(),
            sections=(SectionCount("repairs", "报修", 5, 5, 0, 4),),
        ),
        open_flags=(),
        credit=(CreditRow("li-na", "李娜", 3, 2), CreditRow("zhang-wei", "张伟", 1, 0)),
        flags_per_week=weeks,
        queries=2,
        missing=(
            MissingCluster(
                "<script>alert(1)</script>[点我](javascript:x)",
                2,
                datetime(2026, 11, 20, tzinfo=UTC),
                ("q",),
                (("public", 2),),
            ),
        ),
    )


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(block) for block in SVG_BLOCK.findall(page)]


def q(tag: str) -> str:
    return f"{{{SVG_NS}}}{tag}"


def test_health_page_stale_per_owner_chart() -> None:
    page = render_report_pages(sample_report())["health.md"]
    assert page.startswith("# 知识健康\n")
    [chart] = svgs(page)  # parses as XML: every text is escaped
    bars = [r for r in chart.iter(q("rect")) if r.get("class") == "bar"]
    assert [b.findtext(q("title")) for b in bars] == [
        "张伟:3 条过期未复核",
        "A&B <李>:1 条过期未复核",
    ]
    assert [float(b.get("width", 0)) for b in bars] == [380.0, round(380 / 3, 1)]
    labels = [t.text for t in chart.iter(q("text"))]
    assert labels == ["张伟", "3", "A&B <李>", "1"]
    assert "A&amp;B &lt;李&gt;" in page  # escaped in the SVG source and the table
    # Without a site to link to (kb report --format markdown), entries are plain questions.
    assert "| 张伟 | 过期未复核 | a 怎么办? | 超期 3 天（应于 2026-11-25 复核） |" in page


def test_credit_page_flags_per_week_chart() -> None:
    page = render_report_pages(sample_report())["credit.md"]
    assert page.startswith("# 贡献榜\n")
    assert "| 1 | 李娜 | 3 | 2 | 9 |" in page
    assert "| 2 | 张伟 | 1 | 0 | 1 |" in page
    assert "Flag-By" not in page
    [chart] = svgs(page)
    bars = [r for r in chart.iter(q("rect")) if r.get("class") == "bar"]
    assert len(bars) == 24  # 12 weeks, raised and accepted
    titles = [b.findtext(q("title")) for b in bars]
    assert titles[:4] == [
        "2026-09-07 当周提出 0",
        "2026-09-07 当周被采纳 0",
        "2026-09-14 当周提出 1",
        "2026-09-14 当周被采纳 0",
    ]
    assert titles[-2:] == ["2026-11-23 当周提出 2", "2026-11-23 当周被采纳 1"]
    heights = [float(b.get("height", 0)) for b in bars[::2]]
    assert heights[2] == 156.0 and heights[1] == 78.0 and heights[0] == 0.0  # 2 of peak 2
    labels = [t.text for t in chart.iter(q("text"))]
    assert "09-07" in labels and "11-23" in labels and "被采纳" in labels


def test_pages_have_no_outside_urls_and_escape_user_text() -> None:
    pages = render_report_pages(sample_report())
    for page in pages.values():
        assert set(URL.findall(page)) == {SVG_NS}
        html = markdown.markdown(page, extensions=["tables", "attr_list", "md_in_html"])
        assert "<script" not in html
        assert 'href="javascript' not in html
        assert html.count("<svg ") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\[点我\\](javascript:x)" in pages["health.md"]


def test_pages_outside_git_say_so(make_kb: Callable[[dict[str, str | bytes]], Path]) -> None:
    kb = make_kb({"repairs/a.yaml": entry_yaml("a", reviewed="2026-01-01")})
    pages = site_report_pages(kb, TODAY)
    note = f"没有 git 历史：{md(str(kb))} is not in a git repository: no flags or credit to show"
    assert note in pages["credit.md"] and note in pages["health.md"]
    assert "<svg " not in pages["credit.md"]  # no empty weekly chart
    [chart] = svgs(pages["health.md"])
    assert [t.text for t in chart.iter(q("text"))] == ["张伟", "1"]
    assert "| 张伟 | 过期未复核 | [a 怎么办?](<../repairs/a.md>) |" in pages["health.md"]
    assert "| [报修](<../repairs/index.md>) | 1 | 1 | 0 | 1 |" in pages["health.md"]


def test_credit_page_without_flags_is_a_short_friendly_note() -> None:
    report = sample_report()
    empty = tuple(WeekCount(w.week_start, 0, 0) for w in report.flags_per_week)
    page = render_report_pages(dataclasses.replace(report, credit=(), flags_per_week=empty))[
        "credit.md"
    ]
    assert "<svg " not in page
    assert (
        "统计期内还没有人提出或被采纳反馈。在员工站条目页底部的「发现问题？」里提交一条，"
        "就会记在你的名下。"
    ) in page
    assert (
        "最近 12 周还没有反馈。员工在条目页底部的「发现问题？」里提交的反馈会按周显示在这里。"
    ) in page
    assert "Flag-By" not in page


def test_health_page_without_stale_entries_has_no_empty_chart() -> None:
    report = sample_report()
    health = dataclasses.replace(report.health, owners=(), stale=0)
    page = render_report_pages(dataclasses.replace(report, health=health))["health.md"]
    assert "<svg " not in page
    assert "共 5 条：过期未复核 0 条，14 天内到期 0 条，已过期 0 条，内容单薄 0 条。" in page

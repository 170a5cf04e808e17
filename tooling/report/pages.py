"""The staff site's 知识健康 and 贡献榜 pages, rendered from a :class:`Report`.

Plain Markdown with the charts as inline SVG (no scripts, no outside requests),
so any Markdown engine can build them. The MkDocs plugin adds the returned pages
as generated files; see :func:`site_report_pages`.
"""

from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

from tooling.flags import KIND_LABELS
from tooling.kb.model import KnowledgeBase
from tooling.report.build import make_report
from tooling.report.markdown import (
    Links,
    md,
    md_credit,
    md_health,
    md_missing,
    md_open_flags,
    md_period,
    no_links,
)
from tooling.report.model import MERGED_POINTS, RAISED_POINTS, Report, WeekCount

# Where the pages sit on the site: links to entries are relative to this folder.
REPORT_DIR = "knowledge-report"

SVG_NS = "http://www.w3.org/2000/svg"
RAISED_COLOR = "#90caf9"
MERGED_COLOR = "#1565c0"
STALE_COLOR = "#ef6c00"
TEXT_STYLE = 'font-family="sans-serif" font-size="12" fill="currentColor"'


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    """An accessible inline SVG wrapped in a raw HTML block (no blank lines inside, so
    Markdown leaves it alone)."""
    head = (
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
    )
    return "\n".join(
        [
            '<div class="zhiku-chart">',
            head,
            f"<title>{escape(label)}</title>",
            *body,
            "</svg>",
            "</div>",
        ]
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" {TEXT_STYLE}{extra}>'
        f"{escape(text)}</text>"
    )


def flags_per_week_svg(weeks: tuple[WeekCount, ...]) -> str:
    """Grouped vertical bars: flags raised (light) and accepted (dark) per week."""
    width, height, top, bottom, left = 640, 220, 24, 40, 8
    plot = height - top - bottom
    peak = max([1, *(max(w.raised, w.merged) for w in weeks)])
    slot = (width - 2 * left) / max(len(weeks), 1)
    bar = slot * 0.32
    body = [
        f'<rect x="{left}" y="4" width="10" height="10" fill="{RAISED_COLOR}"/>',
        _text(left + 14, 13, "提出"),
        f'<rect x="{left + 56}" y="4" width="10" height="10" fill="{MERGED_COLOR}"/>',
        _text(left + 70, 13, "被采纳"),
    ]
    baseline = top + plot
    for i, w in enumerate(weeks):
        x0 = left + i * slot + slot * 0.16
        for j, (count, color, kind) in enumerate(
            ((w.raised, RAISED_COLOR, "提出"), (w.merged, MERGED_COLOR, "被采纳"))
        ):
            h = plot * count / peak
            x = x0 + j * bar
            tip = escape(f"{w.week_start} 当周{kind} {count}")
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{baseline - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{tip}</title></rect>'
            )
            if count:
                body.append(_text(x + bar / 2, baseline - h - 3, str(count), "middle"))
        body.append(_text(x0 + bar, baseline + 16, f"{w.week_start:%m-%d}", "middle"))
    body.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width - left}" y2="{baseline}" '
        'stroke="currentColor" stroke-width="1"/>'
    )
    body.append(_text(width / 2, height - 4, "横轴：每周（从周一算起）", "middle"))
    return _svg(width, height, "最近 12 周每周的反馈:提出与被采纳", body)


def stale_per_owner_svg(rows: list[tuple[str, int]]) -> str:
    """Horizontal bars: stale entries per owner, most first."""
    label_w, bar_w, row_h, width = 160, 380, 24, 600
    height = row_h * max(len(rows), 1) + 8
    peak = max([1, *(count for _, count in rows)])
    body = []
    if not rows:
        body.append(_text(8, 20, "没有过期未复核的条目"))
    for i, (owner, count) in enumerate(rows):
        y = 4 + i * row_h
        w = bar_w * count / peak
        body.append(_text(label_w - 8, y + 15, owner, "end"))
        body.append(
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" '
            f'height="{row_h - 8}" fill="{STALE_COLOR}"><title>'
            f"{escape(f'{owner}:{count} 条过期未复核')}</title></rect>"
        )
        body.append(_text(label_w + w + 6, y + 15, str(count)))
    return _svg(width, height, "每位负责人过期未复核的条目数", body)


def health_page(
    report: Report,
    links: Links = no_links,
    section_links: Links = no_links,
    log_note: str = "",
) -> str:
    rows = [
        (o.name or o.handle, len(o.stale))
        for o in sorted(report.health.owners, key=lambda o: (-len(o.stale), o.handle))
        if o.stale
    ]
    chart = ["", "过期未复核的条目，按负责人：", "", stale_per_owner_svg(rows), ""] if rows else []
    lines = [
        *md_health(report, "#", chart, links, section_links),
        *md_open_flags(report, "##", links),
        *md_missing(report, "##", links, log_note),
        f"*{md_period(report)}，生成于 {report.today}。*",
        "",
    ]
    return "\n".join(lines)


def credit_page(report: Report) -> str:
    lines = md_credit(report, "#")
    lines += ["## 每周反馈", ""]
    if not report.has_history:
        lines += [f"没有 git 历史：{md(report.history_note)}", ""]
    elif not any(w.raised or w.merged for w in report.flags_per_week):
        lines += [
            f"最近 {len(report.flags_per_week)} 周还没有反馈。"
            "员工在条目页底部的「发现问题？」里提交的反馈会按周显示在这里。",
            "",
        ]
    else:
        lines += [flags_per_week_svg(report.flags_per_week), ""]
    lines += [
        "## 积分怎么算",
        "",
        f"每提出一条反馈（{'、'.join(KIND_LABELS.values())}）得 {RAISED_POINTS} 分；"
        f"反馈被采纳、合并进知识库，再得 {MERGED_POINTS} 分。"
        "只统计统计期内提出或被采纳的反馈，记在提交反馈的本人名下。",
        "",
        f"*{md_period(report)}，生成于 {report.today}。*",
        "",
    ]
    return "\n".join(lines)


def render_report_pages(
    report: Report,
    links: Links = no_links,
    section_links: Links = no_links,
    log_note: str = "",
) -> dict[str, str]:
    """``{"health.md": …, "credit.md": …}``: Markdown pages with inline SVG charts;
    ``links`` gives each entry's page relative to :data:`REPORT_DIR`."""
    return {
        "health.md": health_page(report, links, section_links, log_note),
        "credit.md": credit_page(report),
    }


def site_links(kb: KnowledgeBase) -> tuple[Links, Links]:
    """Entry id -> its page, section path -> its page, relative to the report pages."""
    from tooling.site.render import entry_page, link, section_page

    here = f"{REPORT_DIR}/health.md"

    def entry_link(entry_id: str) -> str | None:
        entry = kb.entry(entry_id)
        return link(here, entry_page(entry, kb)) if entry is not None else None

    def section_link(path: str) -> str | None:
        section = kb.section(path)
        return link(here, section_page(section)) if section is not None else None

    return entry_link, section_link


def site_report_pages(
    kb_root: Path,
    today: date,
    kb: KnowledgeBase | None = None,
    repo: Path | None = None,
    queries_log: Path | None = None,
    log_note: str = "",
) -> dict[str, str]:
    """Everything the MkDocs plugin needs in one call; never fails because of git (a KB
    outside git, or without ``main``, gives pages that say flags and credit are empty).
    ``log_note`` says why no questions were read (no log found)."""
    report = make_report(kb_root, today=today, kb=kb, repo=repo, queries_log=queries_log)
    if kb is None:
        from tooling.kb.load import load

        kb = load(kb_root).kb
    entry_link, section_link = site_links(kb)
    return render_report_pages(report, entry_link, section_link, log_note)

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
from tooling.report.compute import Report, WeekCount, make_report
from tooling.report.formats import (
    MERGED_POINTS,
    RAISED_POINTS,
    md,
    md_credit,
    md_health,
    md_missing,
    md_open_flags,
    owner_label,
    period,
)

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
    body.append(_text(width / 2, height - 4, "每周一开始的一周", "middle"))
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


def health_page(report: Report) -> str:
    rows = [
        (owner_label(o.name, o.handle), len(o.stale))
        for o in sorted(report.health.owners, key=lambda o: (-len(o.stale), o.handle))
        if o.stale
    ]
    chart = ["", "过期未复核的条目,按负责人:", "", stale_per_owner_svg(rows), ""]
    lines = [
        *md_health(report, "#", chart),
        *md_open_flags(report, "##"),
        *md_missing(report, "##"),
        f"*{period(report)},生成于 {report.today}。*",
        "",
    ]
    return "\n".join(lines)


def credit_page(report: Report) -> str:
    lines = md_credit(report, "#")
    lines += ["## 每周反馈", ""]
    if report.has_history:
        lines += [flags_per_week_svg(report.flags_per_week), ""]
    else:
        lines += [f"没有 git 历史:{md(report.history_note)}", ""]
    lines += [
        "## 积分怎么算",
        "",
        f"每提出一条反馈({'、'.join(KIND_LABELS.values())})得 {RAISED_POINTS} 分;"
        f"反馈被采纳、合并进知识库,再得 {MERGED_POINTS} 分。"
        "只统计统计期内提出或被采纳的反馈,按提交记录里的 Flag-By 计入本人。",
        "",
        f"*{period(report)},生成于 {report.today}。*",
        "",
    ]
    return "\n".join(lines)


def render_report_pages(report: Report) -> dict[str, str]:
    """``{"health.md": …, "credit.md": …}``: Markdown pages with inline SVG charts."""
    return {"health.md": health_page(report), "credit.md": credit_page(report)}


def site_report_pages(
    kb_root: Path,
    today: date,
    kb: KnowledgeBase | None = None,
    repo: Path | None = None,
    queries_log: Path | None = None,
) -> dict[str, str]:
    """Everything the MkDocs plugin needs in one call; never fails because of git (a KB
    outside git, or without ``main``, gives pages that say flags and credit are empty)."""
    report = make_report(kb_root, today=today, kb=kb, repo=repo, queries_log=queries_log)
    return render_report_pages(report)

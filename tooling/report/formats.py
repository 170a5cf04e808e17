"""Format a :class:`~tooling.report.Report` as text (terminal) or JSON, and the labels
every format shares (Markdown: :mod:`tooling.report.markdown`).

Headings are Chinese, as the team reads them; JSON keys are English.
"""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from tooling import flags
from tooling.report.health import EXPIRING_DAYS, MIN_PHRASINGS
from tooling.report.model import MERGED_POINTS, RAISED_POINTS, EntryRef, Report

MAX_CLUSTERS = 30
SCORE_RULE = f"积分 = 提出 × {RAISED_POINTS} + 被采纳 × {MERGED_POINTS}"


def owner_label(name: str, handle: str) -> str:
    if not handle:
        return "(无负责人)"
    return f"{name} ({handle})" if name and name != handle else handle


def period(report: Report) -> str:
    return f"统计期 {report.since} 至 {report.today}"


def summary_line(report: Report) -> str:
    h = report.health
    return (
        f"共 {h.entries} 条：过期未复核 {h.stale} 条，{EXPIRING_DAYS} 天内到期 {h.expiring} 条，"
        f"已过期 {h.expired} 条，内容单薄 {len(h.thin)} 条"
    )


# ---------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("score", "oldest_days", "has_history"):
            if hasattr(type(value), extra):
                data[extra] = getattr(value, extra)
        return data
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def to_json(report: Report) -> str:
    data = _jsonable(report)
    data["score_rule"] = {"raised": RAISED_POINTS, "merged": MERGED_POINTS}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- text


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, cells: int) -> str:
    return text + " " * max(cells - width(text), 0)


def _columns(rows: list[list[str]], indent: str = "  ") -> Iterator[str]:
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            pad(cell, w) if i < len(row) - 1 else cell
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        yield (indent + "  ".join(cells)).rstrip()


def one_line(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def due_text(kind: str, ref: EntryRef, brackets: str = "()") -> str:
    """When a stale, expiring or expired entry was due, e.g. 超期 3 天(应于 … 复核);
    ``brackets`` are the two characters around the date (the terminal's are ASCII,
    so that columns stay aligned; Markdown's are full-width)."""
    left, right = brackets[0], brackets[1]
    if kind == "stale":
        if ref.days == 0:
            return f"今天到复核期{left}{ref.due}{right}"
        return f"超期 {ref.days} 天{left}应于 {ref.due} 复核{right}"
    if kind == "expiring":
        return f"还剩 {ref.days} 天{left}{ref.due} 到期{right}"
    return f"已过期 {ref.days} 天{left}{ref.due}{right}"


def to_text(report: Report) -> str:
    out = [f"知库报告 {report.today}（{period(report)}）", ""]
    h = report.health
    out += ["== 知识健康 ==", summary_line(report)]
    if report.kb_errors:
        out.append(
            f"注意：知识库有 {report.kb_errors} 个错误，"
            "出错的条目不在本报告里（运行 kb validate 查看）"
        )
    for o in h.owners:
        out += [
            "",
            f"{owner_label(o.name, o.handle)}：过期未复核 {len(o.stale)}，"
            f"即将到期 {len(o.expiring)}，已过期 {len(o.expired)}",
        ]
        rows = [
            [label, ref.id, one_line(ref.question, 30), due_text(kind, ref)]
            for kind, label, refs in (
                ("stale", "过期未复核", o.stale),
                ("expiring", "即将到期", o.expiring),
                ("expired", "已过期", o.expired),
            )
            for ref in refs
        ]
        out += _columns(rows, "    ")
    if h.thin:
        out += ["", f"内容单薄（问法少于 {MIN_PHRASINGS} 条或没有常见场景）："]
        out += _columns(
            [
                [
                    t.entry.id,
                    f"问法 {t.phrasings} 条",
                    f"场景 {t.scenarios} 个",
                    f"负责人 {owner_label(t.owner_name, t.entry.owner)}",
                ]
                for t in h.thin
            ]
        )
    out += ["", "分区统计："]
    out += _columns(
        [["分区", "名称", "条目", "公开", "内部", "过期未复核"]]
        + [
            [
                s.path or "（根目录）",
                s.title,
                str(s.entries),
                str(s.public),
                str(s.internal),
                str(s.stale),
            ]
            for s in h.sections
        ]
    )
    out += ["", "== 待处理反馈 =="]
    if not report.has_history:
        out.append(f"没有 git 历史：{report.history_note}")
    elif not report.open_flags:
        out.append("没有未处理的反馈。")
    for g in report.open_flags:
        out.append(
            f"{g.entry_id}  {flags.kind_label(g.kind)}  {len(g.flags)} 条，最早 {g.oldest_days}"
            f" 天前  负责人 {owner_label(g.owner_name, g.owner)}"
            + (f"  “{one_line(g.question, 30)}”" if g.question else "  （条目不存在）")
        )
        out += _columns(
            [
                [
                    f.flag_id,
                    str(f.raised),
                    f"{f.age_days} 天",
                    owner_label(f.by_name, f.by),
                    f.branch,
                ]
                for f in g.flags
            ],
            "    ",
        )
    out += ["", f"== 贡献榜 ==({period(report)};{SCORE_RULE})"]
    if not report.has_history:
        out.append(f"没有 git 历史：{report.history_note}")
    elif not report.credit:
        out.append("统计期内没有人提出或被采纳反馈。")
    else:
        out += _columns(
            [["名次", "姓名", "提出", "被采纳", "积分"]]
            + [
                [str(i), owner_label(r.name, r.handle), str(r.raised), str(r.merged), str(r.score)]
                for i, r in enumerate(report.credit, 1)
            ]
        )
    out += ["", f"== 缺失知识 ==（没有可靠答案的提问，{period(report)}，共 {report.queries} 次）"]
    if not report.missing:
        out.append("没有记录。")
    for c in report.missing[:MAX_CLUSTERS]:
        out.append(f"{c.count:>4} 次  最近 {c.last_seen.date()}  “{one_line(c.representative)}”")
        if len(c.variants) > 1:
            others = "、".join(f"“{one_line(v, 20)}”" for v in c.variants[1:4])
            more = f" 等 {len(c.variants) - 1} 种" if len(c.variants) > 4 else ""
            out.append(f"        其他说法：{others}{more}")
        if c.nearest:
            out.append(
                f"        最接近：{c.nearest.entry_id}“{one_line(c.nearest.question, 30)}”"
                "（可补充为问法或场景）"
            )
    if len(report.missing) > MAX_CLUSTERS:
        out.append(f"…… 另有 {len(report.missing) - MAX_CLUSTERS} 组（--format json 查看全部）")
    return "\n".join(out) + "\n"

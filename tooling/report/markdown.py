"""Format a :class:`~tooling.report.Report` as Markdown: the ``kb report`` Markdown output
and the pieces the staff site's report pages are made of (:mod:`tooling.report.pages`).

Every piece of user text (entry questions, logged search queries, commit subjects) is
escaped: the staff site renders it, and a logged query is typed by anyone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from tooling import flags
from tooling.report.formats import MAX_CLUSTERS, SCORE_RULE, due_text, one_line
from tooling.report.health import EXPIRING_DAYS, MIN_PHRASINGS
from tooling.report.missing import MissingCluster
from tooling.report.model import EntryRef, OpenFlag, Report

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~])")

# Entry id -> link target (a relative Markdown path), or None for plain text.
Links = Callable[[str], str | None]


def no_links(_: str) -> str | None:
    return None


def md(text: str) -> str:
    """User text safe inside a Markdown paragraph or table cell: HTML escaped, Markdown
    syntax and pipes backslash-escaped, newlines folded."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(" ".join(text.split()), quote=False))


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def md_entry(entry_id: str, question: str, links: Links) -> str:
    """An entry as its question, linked to its page when the page exists."""
    text = md(question) if question else f"知识库里没有的条目 {md(entry_id)}"
    target = links(entry_id) if question else None
    return f"[{text}](<{target}>)" if target else text


def md_person(name: str, handle: str) -> str:
    """A staff member as the team knows them: the name (the handle only without one)."""
    return md(name or handle) if handle else "无负责人"


def _md_ref(ref: EntryRef, links: Links) -> str:
    return md_entry(ref.id, ref.question, links)


def md_summary(report: Report) -> str:
    h = report.health
    return (
        f"共 {h.entries} 条：过期未复核 {h.stale} 条，{EXPIRING_DAYS} 天内到期 {h.expiring} 条，"
        f"已过期 {h.expired} 条，内容单薄 {len(h.thin)} 条。"
    )


def md_due(kind: str, ref: EntryRef) -> str:
    return due_text(kind, ref, "（）")


def md_period(report: Report) -> str:
    return f"统计期 {report.since} 至 {report.today}"


def md_health(
    report: Report,
    level: str = "##",
    after_summary: Sequence[str] = (),
    links: Links = no_links,
    section_links: Links = no_links,
) -> list[str]:
    h = report.health
    out = [f"{level} 知识健康", "", md_summary(report), "", *after_summary]
    if report.kb_errors:
        out += [
            f'!!! warning "知识库有 {report.kb_errors} 个错误"',
            "",
            "    出错的条目不在本报告里。在知识库目录运行 kb validate 查看错误。",
            "",
        ]
    if h.owners:
        out += [f"{level}# 按负责人", ""]
        rows = []
        for o in h.owners:
            for kind, label, refs in (
                ("stale", "过期未复核", o.stale),
                ("expiring", "即将到期", o.expiring),
                ("expired", "已过期", o.expired),
            ):
                rows += [
                    [md_person(o.name, o.handle), label, _md_ref(r, links), md_due(kind, r)]
                    for r in refs
                ]
        out += md_table(["负责人", "状态", "条目", "时间"], rows)
    if h.thin:
        out += [
            f"{level}# 内容单薄",
            "",
            f"问法少于 {MIN_PHRASINGS} 条或没有常见场景的条目：",
            "",
        ]
        out += md_table(
            ["条目", "问法", "场景", "负责人"],
            [
                [
                    _md_ref(t.entry, links),
                    f"{t.phrasings} 条",
                    f"{t.scenarios} 个",
                    md_person(t.owner_name, t.entry.owner),
                ]
                for t in h.thin
            ],
        )
    out += [f"{level}# 分区统计", ""]
    out += md_table(
        ["分区", "条目", "公开", "内部", "过期未复核"],
        [
            [
                _md_section(s.path, s.title, section_links),
                str(s.entries),
                str(s.public),
                str(s.internal),
                str(s.stale),
            ]
            for s in h.sections
        ],
    )
    return out


def _md_section(path: str, title: str, section_links: Links) -> str:
    text = md(title) if path else "根目录"
    target = section_links(path) if path else None
    return f"[{text}](<{target}>)" if target else text


def _md_flag(f: OpenFlag) -> str:
    note = f"：{md(one_line(f.note, 80))}" if f.note else ""
    return f"{md_person(f.by_name, f.by)}（{f.raised}，{f.age_days} 天前）{note}"


def md_open_flags(report: Report, level: str = "##", links: Links = no_links) -> list[str]:
    out = [f"{level} 待处理反馈", ""]
    if not report.has_history:
        return [*out, f"没有 git 历史：{md(report.history_note)}", ""]
    if not report.open_flags:
        return [*out, "没有未处理的反馈。", ""]
    rows = [
        [
            md_entry(g.entry_id, g.question, links),
            md(flags.kind_label(g.kind)),
            str(len(g.flags)),
            f"{g.oldest_days} 天",
            md_person(g.owner_name, g.owner),
            "<br>".join(_md_flag(f) for f in g.flags),
        ]
        for g in report.open_flags
    ]
    return out + md_table(["条目", "类型", "条数", "最久", "负责人", "反馈（谁提的：说明）"], rows)


def md_credit(report: Report, level: str = "##") -> list[str]:
    out = [f"{level} 贡献榜", "", f"{md_period(report)}。{SCORE_RULE}。", ""]
    if not report.has_history:
        return [*out, f"没有 git 历史：{md(report.history_note)}", ""]
    if not report.credit:
        return [
            *out,
            "统计期内还没有人提出或被采纳反馈。"
            "在员工站条目页底部的「发现问题？」里提交一条，就会记在你的名下。",
            "",
        ]
    return out + md_table(
        ["名次", "姓名", "提出", "被采纳", "积分"],
        [
            [str(i), md_person(r.name, r.handle), str(r.raised), str(r.merged), str(r.score)]
            for i, r in enumerate(report.credit, 1)
        ],
    )


def _md_cluster(c: MissingCluster, links: Links) -> list[str]:
    others = "、".join(md(v) for v in c.variants[1:4])
    near = md_entry(c.nearest.entry_id, c.nearest.question, links) if c.nearest else "—"
    return [md(c.representative), str(c.count), str(c.last_seen.date()), others or "—", near]


def md_missing(
    report: Report, level: str = "##", links: Links = no_links, log_note: str = ""
) -> list[str]:
    out = [
        f"{level} 缺失知识",
        "",
        f"答疑台没有可靠答案的提问（{md_period(report)}，共 {report.queries} 次），"
        "相近的说法归为一组。只有答疑台自己认为足够接近的条目才列为“最接近的条目”，"
        "可以在那里补充问法或场景；其余的可能需要新条目。",
        "",
    ]
    if not report.missing:
        return [*out, log_note or "统计期内没有记录到答不上来的提问。", ""]
    out += md_table(
        ["提问", "次数", "最近", "其他说法", "最接近的条目"],
        [_md_cluster(c, links) for c in report.missing[:MAX_CLUSTERS]],
    )
    if len(report.missing) > MAX_CLUSTERS:
        out += [f"另有 {len(report.missing) - MAX_CLUSTERS} 组未列出。", ""]
    return out


def to_markdown(report: Report) -> str:
    lines = [f"# 知库报告 {report.today}", "", f"{md_period(report)}。", ""]
    lines += md_health(report) + md_open_flags(report) + md_credit(report) + md_missing(report)
    return "\n".join(lines).rstrip() + "\n"

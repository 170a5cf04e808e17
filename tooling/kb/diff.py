"""Compare the knowledge base at two git revisions: entries added, removed, changed.

Each revision's ``kb/`` tree is read with :func:`tooling.git.kb_at_revision`
(``git archive`` into a temporary folder, then the normal loader), so the
comparison sees exactly what the site and search would see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from pathlib import Path

from tooling.errors import UsageError
from tooling.git import GitError, kb_at_revision
from tooling.kb.model import Entry

log = logging.getLogger(__name__)

# Fields compared between revisions, in the order they are reported.
COMPARED = [f.name for f in fields(Entry) if f.name not in ("positions", "id")]


@dataclass(frozen=True)
class EntryChange:
    id: str
    question: str
    file: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class KbDiff:
    base: str
    head: str
    added: tuple[EntryChange, ...] = ()
    removed: tuple[EntryChange, ...] = ()
    changed: tuple[EntryChange, ...] = ()
    problems: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _changed_fields(old: Entry, new: Entry) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if getattr(old, name) != getattr(new, name))


def diff(repo: Path, base: str, head: str, kb_path: str = "kb") -> KbDiff:
    """Entries added, removed and changed from ``base`` to ``head``."""
    log.debug("loading %s at %s and %s", kb_path, base, head)
    try:
        old = {e.id: e for e in kb_at_revision(repo, base, kb_path).entries}
        new = {e.id: e for e in kb_at_revision(repo, head, kb_path).entries}
    except GitError as exc:
        raise UsageError(exc.stderr.strip() or str(exc)) from None

    def change(entry: Entry, changed: tuple[str, ...] = ()) -> EntryChange:
        return EntryChange(entry.id, entry.question, entry.file, changed)

    changed = []
    for entry_id in sorted(old.keys() & new.keys()):
        names = _changed_fields(old[entry_id], new[entry_id])
        if names:
            changed.append(change(new[entry_id], names))
    return KbDiff(
        base=base,
        head=head,
        added=tuple(change(new[i]) for i in sorted(new.keys() - old.keys())),
        removed=tuple(change(old[i]) for i in sorted(old.keys() - new.keys())),
        changed=tuple(changed),
    )


def format_markdown(result: KbDiff) -> str:
    """The pull-request summary: a heading and one table row per entry."""
    lines = [f"## 知识库变更 `{result.base}` → `{result.head}`", ""]
    if result.empty:
        return "\n".join([*lines, "没有条目变化。", ""])
    lines += [
        f"新增 {len(result.added)} · 删除 {len(result.removed)} · 修改 {len(result.changed)}",
        "",
        "| 变化 | 条目 | 标准问 | 字段 |",
        "|---|---|---|---|",
    ]
    for label, items in (
        ("新增", result.added),
        ("删除", result.removed),
        ("修改", result.changed),
    ):
        for item in items:
            question = item.question.replace("|", "\\|")
            lines.append(f"| {label} | `{item.id}` | {question} | {', '.join(item.fields)} |")
    return "\n".join(lines) + "\n"


def format_text(result: KbDiff) -> str:
    if result.empty:
        return f"no entry changed between {result.base} and {result.head}\n"
    lines = []
    for sign, items in (("+", result.added), ("-", result.removed), ("~", result.changed)):
        for item in items:
            detail = f" [{', '.join(item.fields)}]" if item.fields else ""
            lines.append(f"{sign} {item.id}  {item.question}{detail}")
    lines.append(
        f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    )
    return "\n".join(lines) + "\n"

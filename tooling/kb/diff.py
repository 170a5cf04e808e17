"""Compare the knowledge base at two git revisions: entries added, removed, changed.

Each revision's ``kb/`` tree is exported with ``git archive`` into a temporary
folder and loaded with the normal loader, so the comparison sees exactly what
the site and search would see.
"""

from __future__ import annotations

import io
import logging
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

from tooling.errors import UsageError
from tooling.kb.load import load
from tooling.kb.model import Entry, KnowledgeBase

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


def _git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise UsageError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout


def load_at(repo: Path, rev: str, kb_path: str, into: Path) -> KnowledgeBase:
    """Load the knowledge base folder ``kb_path`` as it is at ``rev``."""
    _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    listing = _git(repo, "ls-tree", "--name-only", rev, "--", kb_path).strip()
    into.mkdir(parents=True, exist_ok=True)
    if listing:
        archive = _git(repo, "archive", "--format=tar", rev, "--", kb_path)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")
    root = into / kb_path
    if not root.is_dir():
        return KnowledgeBase(root, (), (), ())
    return load(root).kb


def _changed_fields(old: Entry, new: Entry) -> tuple[str, ...]:
    return tuple(name for name in COMPARED if getattr(old, name) != getattr(new, name))


def diff(repo: Path, base: str, head: str, kb_path: str = "kb") -> KbDiff:
    """Entries added, removed and changed from ``base`` to ``head``."""
    with tempfile.TemporaryDirectory(prefix="zhiku-diff-") as tmp:
        log.debug("loading %s at %s and %s", kb_path, base, head)
        old = {e.id: e for e in load_at(repo, base, kb_path, Path(tmp) / "base").entries}
        new = {e.id: e for e in load_at(repo, head, kb_path, Path(tmp) / "head").entries}

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

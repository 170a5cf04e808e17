"""Load stage: a knowledge-base folder -> :class:`KnowledgeBase` plus problems.

Reads every file once. Files with errors are reported and left out of the
model; everything else still loads, so one run reports every problem.

``kb serve`` passes a :class:`LoadCache` so that, after a save, only the entry
files whose size or modification time changed are read and parsed again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.identity import load_site
from tooling.kb.model import (
    DEFAULT_REVIEW_EVERY,
    Duration,
    Entry,
    Handoff,
    KnowledgeBase,
    Link,
    Replies,
    Scenario,
    Section,
    Staff,
)
from tooling.kb.schema import (
    ENTRY_SCHEMA,
    SECTION_SCHEMA,
    STAFF_SCHEMA,
    SYNONYMS_SCHEMA,
    check_document,
)
from tooling.kb.yamlio import Document, decode, parse

SECTION_DIR_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SECTION_DEPTH = 2


@dataclass
class LoadResult:
    kb: KnowledgeBase
    problems: list[Problem]
    # Parsed documents by file, for checks that need text positions (HTML, phrasings).
    documents: dict[str, Document] = field(default_factory=dict)
    # Every id seen in an entry file, even one with errors, so that a broken
    # entry does not also produce "unknown related id" noise elsewhere.
    known_ids: set[str] = field(default_factory=set)


@dataclass
class _LoadedEntry:
    """What loading one entry file produced, to be replayed while the file is unchanged."""

    doc: Document | None
    problems: list[Problem]
    entry: Entry | None
    known_id: str | None


@dataclass
class LoadCache:
    """Entry files loaded before, by relative path, with the bytes they had then.

    Reused across loads of the same folder (``kb serve``): an entry file whose bytes
    are unchanged is not decoded, parsed or checked against the schema again.
    (Comparing bytes, not modification times, cannot miss two quick saves.)
    """

    entries: dict[str, tuple[bytes, _LoadedEntry]] = field(default_factory=dict)
    #: Per-document problems of the content checks, with the document they were found in.
    checked: dict[str, tuple[Document, list[Problem]]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


def _error(file: str, line: int, message: str, hint: str, code: str) -> Problem:
    return Problem(file, line, 0, Severity.ERROR, message, hint, code)


def _read(path: Path, rel: str, problems: list[Problem]) -> Document | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(_error(rel, 0, f"无法读取文件:{exc.strerror}", "检查文件权限", "io"))
        return None
    text, found = decode(raw, rel)
    problems.extend(found)
    if text is None:
        return None
    doc, found = parse(text, rel)
    problems.extend(found)
    return doc


def load(root: Path, cache: LoadCache | None = None) -> LoadResult:
    """Load the knowledge base under ``root``; never raises for bad content.

    With ``cache``, unchanged entry files are taken from it and it is updated.
    """
    problems: list[Problem] = []
    result = LoadResult(KnowledgeBase(root, (), (), ()), problems)
    if not root.is_dir():
        problems.append(
            _error(
                ".",
                0,
                f"找不到知识库目录 {root}",
                "用 --kb 指定知识库目录(默认是当前目录下的 kb/)",
                "no-kb",
            )
        )
        return result

    staff = _load_staff(root, result)
    synonyms = _load_synonyms(root, result)
    seen: set[str] = set()
    site = load_site(root, _read, problems)
    sections: list[Section] = []
    entries: list[Entry] = []
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel_parts[:-1]):
            continue
        rel = "/".join(rel_parts)
        if path.is_dir():
            if not rel_parts[-1].startswith((".", "_")):
                section = _load_section(root, path, rel, result)
                if section:
                    sections.append(section)
            continue
        name = rel_parts[-1]
        if name.startswith((".", "_")):
            continue
        if name.endswith(".yml"):
            problems.append(
                _error(rel, 0, "扩展名是 .yml,不会被读取", f"改名为 {name[:-4]}.yaml", "extension")
            )
            continue
        if not name.endswith(".yaml"):
            problems.append(
                Problem(
                    rel,
                    0,
                    0,
                    Severity.WARNING,
                    "不是 YAML 文件,已忽略",
                    "条目文件要以 .yaml 结尾;其他文件请移出知识库目录",
                    "not-yaml",
                )
            )
            continue
        if len(rel_parts) == 1:
            problems.append(
                _error(
                    rel,
                    0,
                    "条目必须放在栏目文件夹里",
                    "把文件移到某个栏目文件夹中,例如 repairs/",
                    "no-section",
                )
            )
            continue
        section_path = "/".join(rel_parts[:-1])
        if cache is None:
            entry = _load_entry(path, rel, section_path, result)
        else:
            entry = _load_entry_cached(path, rel, section_path, result, cache, seen)
        if entry:
            entries.append(entry)

    if cache is not None:
        for gone in set(cache.entries) - seen:
            del cache.entries[gone]
    result.kb = KnowledgeBase(
        root=root,
        entries=tuple(entries),
        sections=tuple(sorted(sections, key=lambda s: (s.parent, s.order, s.path))),
        staff=tuple(staff),
        synonyms=tuple(synonyms),
        site=site,
    )
    return result


def _load_staff(root: Path, result: LoadResult) -> list[Staff]:
    path = root / "_staff.yaml"
    if not path.exists():
        result.problems.append(
            _error(
                "_staff.yaml",
                0,
                "缺少人员名册 _staff.yaml",
                "在知识库根目录创建 _staff.yaml,列出每位同事的 handle、name、email、team",
                "no-staff",
            )
        )
        return []
    doc = _read(path, "_staff.yaml", result.problems)
    if doc is None:
        return []
    found = check_document(doc, STAFF_SCHEMA, "_staff.yaml")
    result.problems.extend(found)
    staff: list[Staff] = []
    if not isinstance(doc.data, list):
        return staff
    seen: dict[str, int] = {}
    for i, item in enumerate(doc.data):
        if not isinstance(item, dict) or not isinstance(item.get("handle"), str):
            continue
        line = doc.positions.get((i,), (0, 0))[0]
        handle = item["handle"]
        if handle in seen:
            result.problems.append(
                _error(
                    "_staff.yaml",
                    line,
                    f"handle `{handle}` 重复(第一次在第 {seen[handle]} 行)",
                    "每位同事的 handle 必须唯一",
                    "duplicate-handle",
                )
            )
            continue
        seen[handle] = line
        staff.append(
            Staff(
                handle,
                str(item.get("name", "")),
                str(item.get("email", "")),
                str(item.get("team", "") or ""),
                line,
            )
        )
    return staff


def _load_synonyms(root: Path, result: LoadResult) -> list[tuple[str, ...]]:
    path = root / "_synonyms.yaml"
    if not path.exists():
        return []
    doc = _read(path, "_synonyms.yaml", result.problems)
    if doc is None:
        return []
    result.problems.extend(check_document(doc, SYNONYMS_SCHEMA, "_synonyms.yaml"))
    if not isinstance(doc.data, list):
        return []
    return [
        tuple(str(word) for word in group if word is not None)
        for group in doc.data
        if isinstance(group, list) and len(group) >= 2
    ]


def _load_section(root: Path, path: Path, rel: str, result: LoadResult) -> Section | None:
    name = path.name
    depth = rel.count("/") + 1
    if not SECTION_DIR_RE.match(name):
        result.problems.append(
            _error(
                rel,
                0,
                f"栏目文件夹名 `{name}` 不合规",
                "只用小写英文字母、数字和连字符,例如 repairs",
                "section-name",
            )
        )
    if depth > MAX_SECTION_DEPTH:
        result.problems.append(
            _error(
                rel,
                0,
                f"栏目层级太深(第 {depth} 层)",
                f"栏目最多 {MAX_SECTION_DEPTH} 层,把这个文件夹往上移一层",
                "section-depth",
            )
        )
        return None
    meta = path / "_section.yaml"
    meta_rel = f"{rel}/_section.yaml"
    if not meta.exists():
        result.problems.append(
            _error(
                meta_rel,
                0,
                "栏目缺少 _section.yaml",
                "创建这个文件并写上 `title: 栏目名称` 和 `order: 1`",
                "no-section-file",
            )
        )
        return None
    doc = _read(meta, meta_rel, result.problems)
    if doc is None:
        return None
    found = check_document(doc, SECTION_SCHEMA, meta_rel)
    result.problems.extend(found)
    if found or not isinstance(doc.data, dict):
        return None
    data = doc.data
    return Section(
        rel,
        str(data["title"]),
        int(data.get("order", 0) or 0),
        str(data.get("description", "") or ""),
    )


def _load_entry(path: Path, rel: str, section: str, result: LoadResult) -> Entry | None:
    doc = _read(path, rel, result.problems)
    if doc is None:
        return None
    result.documents[rel] = doc
    found = check_document(doc, ENTRY_SCHEMA, rel)
    data = doc.data
    if isinstance(data, dict):
        entry_id = data.get("id")
        if isinstance(entry_id, str | int) and not isinstance(entry_id, bool):
            result.known_ids.add(str(entry_id))
            stem = path.stem
            if str(entry_id) != stem:
                line = doc.positions.get(("id",), (1, 1))[0]
                found.append(
                    _error(
                        rel,
                        line,
                        f"id `{entry_id}` 与文件名 `{stem}` 不一致",
                        f"把 id 改成 `{stem}`,或把文件改名为 {entry_id}.yaml",
                        "id-mismatch",
                    )
                )
    result.problems.extend(found)
    if found or not isinstance(data, dict):
        return None
    return _entry_from(data, doc, rel, section)


def _load_entry_cached(
    path: Path, rel: str, section: str, result: LoadResult, cache: LoadCache, seen: set[str]
) -> Entry | None:
    """:func:`_load_entry`, replayed from ``cache`` while the file's bytes are the same."""
    seen.add(rel)
    try:
        raw = path.read_bytes()
    except OSError:
        cache.entries.pop(rel, None)
        return _load_entry(path, rel, section, result)  # reports the error
    cached = cache.entries.get(rel)
    if cached is not None and cached[0] == raw:
        cache.hits += 1
        loaded = cached[1]
    else:
        cache.misses += 1
        scratch = LoadResult(result.kb, [])
        entry = _load_entry(path, rel, section, scratch)
        loaded = _LoadedEntry(
            scratch.documents.get(rel), scratch.problems, entry, next(iter(scratch.known_ids), None)
        )
        cache.entries[rel] = (raw, loaded)
    result.problems.extend(loaded.problems)
    if loaded.doc is not None:
        result.documents[rel] = loaded.doc
    if loaded.known_id is not None:
        result.known_ids.add(loaded.known_id)
    return loaded.entry


def _entry_from(data: dict[str, Any], doc: Document, rel: str, section: str) -> Entry:
    replies = data.get("replies") or {}
    handoff = data.get("handoff")
    expires = data.get("expires")
    return Entry(
        id=str(data["id"]),
        question=str(data["question"]),
        owner=str(data["owner"]),
        rule=str(data["rule"]),
        phrasings=tuple(str(p) for p in data["phrasings"]),
        reviewed=_as_date(data["reviewed"]),
        section=section,
        file=rel,
        scenarios=tuple(
            Scenario(str(s["case"]), str(s["answer"])) for s in data.get("scenarios") or ()
        ),
        audience="internal" if data.get("audience") == "internal" else "public",
        tags=tuple(str(t) for t in data.get("tags") or ()),
        replies=Replies(**{k: str(v) for k, v in replies.items()}),
        handoff=Handoff(
            team=str(handoff["team"]),
            collect=tuple(str(c) for c in handoff.get("collect") or ()),
            respond_within=str(handoff["respond_within"]),
        )
        if handoff
        else None,
        related=tuple(str(r) for r in data.get("related") or ()),
        links=tuple(Link(str(x["title"]), str(x["url"])) for x in data.get("links") or ()),
        review_every=Duration.parse(str(data.get("review_every", ""))) or DEFAULT_REVIEW_EVERY,
        expires=_as_date(expires) if expires else None,
        order=data["order"] if isinstance(data.get("order"), int) else None,
        positions=doc.positions,
    )


def _as_date(value: Any) -> date:
    assert isinstance(value, date), value  # guaranteed by the schema check
    return value

"""Load stage: a knowledge-base folder -> :class:`KnowledgeBase` plus problems.

Reads every file once. Files with errors are reported and left out of the
model; everything else still loads, so one run reports every problem.

``kb serve`` and the feedback app's snapshot pass a :class:`LoadCache` so that,
after a change, only the entry files whose bytes (or git blob id) changed are
parsed again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.identity import load_site
from tooling.kb.meta import error, load_section, load_staff, load_synonyms, read_document
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
)
from tooling.kb.schema import ENTRY_SCHEMA
from tooling.kb.schema_check import check_document
from tooling.kb.yamlio import Document


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

    An owner that knows each file's content id (the feedback app's snapshot: git blob
    ids) puts them in ``fingerprints``; a file listed there is compared by that id and
    not even read while it is unchanged.
    """

    entries: dict[str, tuple[bytes | str, _LoadedEntry]] = field(default_factory=dict)
    #: KB-relative path -> content id (never equal to bytes), set before each load.
    fingerprints: dict[str, str] = field(default_factory=dict)
    #: Per-document problems of the content checks, with the document they were found in.
    checked: dict[str, tuple[Document, list[Problem]]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


def load(root: Path, cache: LoadCache | None = None) -> LoadResult:
    """Load the knowledge base under ``root``; never raises for bad content.

    With ``cache``, unchanged entry files are taken from it and it is updated.
    """
    problems: list[Problem] = []
    result = LoadResult(KnowledgeBase(root, (), (), ()), problems)
    if not root.is_dir():
        problems.append(
            error(
                ".",
                0,
                f"找不到知识库目录 {root}",
                "用 --kb 指定知识库目录(默认是当前目录下的 kb/)",
                "no-kb",
            )
        )
        return result

    staff = load_staff(root, result)
    synonyms = load_synonyms(root, result)
    seen: set[str] = set()
    site = load_site(root, read_document, problems)
    sections: list[Section] = []
    entries: list[Entry] = []
    for rel_parts, where, is_dir in walk(root):
        rel = "/".join(rel_parts)
        if is_dir:
            if not rel_parts[-1].startswith((".", "_")):
                section = load_section(root, Path(where), rel, result)
                if section:
                    sections.append(section)
            continue
        name = rel_parts[-1]
        if name.startswith((".", "_")):
            continue
        if name.endswith(".yml"):
            problems.append(
                error(rel, 0, "扩展名是 .yml,不会被读取", f"改名为 {name[:-4]}.yaml", "extension")
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
                error(
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
            entry = _load_entry(Path(where), rel, section_path, result)
        else:
            entry = _load_entry_cached(where, rel, section_path, result, cache, seen)
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


def walk(root: Path) -> list[tuple[tuple[str, ...], str, bool]]:
    """``(parts relative to root, path, is a folder)`` for what the loader looks at under
    ``root``, in the order of ``sorted(root.rglob("*"))``.

    Folders are entered unless their name starts with ``.`` or ``_`` (nothing inside
    those is read) or they are symbolic links (``rglob`` does not follow them either).
    """
    found: list[tuple[tuple[str, ...], str, bool]] = []

    def visit(folder: str, parts: tuple[str, ...]) -> None:
        try:
            with os.scandir(folder) as listing:
                items = sorted(listing, key=lambda item: item.name)
        except PermissionError:
            return
        for item in items:
            sub = (*parts, item.name)
            is_dir = item.is_dir()  # follows a symbolic link, as Path.is_dir does
            found.append((sub, item.path, is_dir))
            if is_dir and not item.name.startswith((".", "_")) and not item.is_symlink():
                visit(item.path, sub)

    visit(str(root), ())
    return found


def _load_entry(path: Path, rel: str, section: str, result: LoadResult) -> Entry | None:
    doc = read_document(path, rel, result.problems)
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
                    error(
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
    where: str, rel: str, section: str, result: LoadResult, cache: LoadCache, seen: set[str]
) -> Entry | None:
    """:func:`_load_entry`, replayed from ``cache`` while the file's bytes (or the content
    id its owner gave in ``cache.fingerprints``) are the same."""
    seen.add(rel)
    raw: bytes | str | None = cache.fingerprints.get(rel)
    if raw is None:
        try:
            with open(where, "rb") as handle:
                raw = handle.read()
        except OSError:
            cache.entries.pop(rel, None)
            return _load_entry(Path(where), rel, section, result)  # reports the error
    cached = cache.entries.get(rel)
    if cached is not None and cached[0] == raw:
        cache.hits += 1
        loaded = cached[1]
    else:
        cache.misses += 1
        scratch = LoadResult(result.kb, [])
        entry = _load_entry(Path(where), rel, section, scratch)
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

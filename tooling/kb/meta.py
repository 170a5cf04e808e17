"""The knowledge base's files that are not entries: the staff roster
(``_staff.yaml``), the synonyms (``_synonyms.yaml``) and section folders with
their ``_section.yaml``; and :func:`read_document`, the one way every file of
the knowledge base (entries included) is read and parsed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.errors import Problem, Severity
from tooling.kb.model import Section, Staff
from tooling.kb.schema import SECTION_SCHEMA, STAFF_SCHEMA, SYNONYMS_SCHEMA
from tooling.kb.schema_check import check_document
from tooling.kb.yamlio import Document, decode, parse

if TYPE_CHECKING:
    from tooling.kb.load import LoadResult

SECTION_DIR_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SECTION_DEPTH = 2


def error(file: str, line: int, message: str, hint: str, code: str) -> Problem:
    return Problem(file, line, 0, Severity.ERROR, message, hint, code)


def read_document(path: Path, rel: str, problems: list[Problem]) -> Document | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(error(rel, 0, f"无法读取文件:{exc.strerror}", "检查文件权限", "io"))
        return None
    text, found = decode(raw, rel)
    problems.extend(found)
    if text is None:
        return None
    doc, found = parse(text, rel)
    problems.extend(found)
    return doc


def load_staff(root: Path, result: LoadResult) -> list[Staff]:
    path = root / "_staff.yaml"
    if not path.exists():
        result.problems.append(
            error(
                "_staff.yaml",
                0,
                "缺少人员名册 _staff.yaml",
                "在知识库根目录创建 _staff.yaml,列出每位同事的 handle、name、email、team",
                "no-staff",
            )
        )
        return []
    doc = read_document(path, "_staff.yaml", result.problems)
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
                error(
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


def load_synonyms(root: Path, result: LoadResult) -> list[tuple[str, ...]]:
    path = root / "_synonyms.yaml"
    if not path.exists():
        return []
    doc = read_document(path, "_synonyms.yaml", result.problems)
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


def load_section(root: Path, path: Path, rel: str, result: LoadResult) -> Section | None:
    name = path.name
    depth = rel.count("/") + 1
    if not SECTION_DIR_RE.match(name):
        result.problems.append(
            error(
                rel,
                0,
                f"栏目文件夹名 `{name}` 不合规",
                "只用小写英文字母、数字和连字符,例如 repairs",
                "section-name",
            )
        )
    if depth > MAX_SECTION_DEPTH:
        result.problems.append(
            error(
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
            error(
                meta_rel,
                0,
                "栏目缺少 _section.yaml",
                "创建这个文件并写上 `title: 栏目名称` 和 `order: 1`",
                "no-section-file",
            )
        )
        return None
    doc = read_document(meta, meta_rel, result.problems)
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

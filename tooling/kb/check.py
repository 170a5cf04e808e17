"""Check stage: rules across entries, content safety and freshness warnings.

``validate`` is the whole of ``kb validate`` as a function: load, then check,
returning the model and every problem sorted by file and line.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.load import LoadCache, LoadResult, load
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.schema_check import field_label
from tooling.kb.yamlio import Document, text_position
from tooling.site.markup import SanitizerProblem, sanitizer_problems
from tooling.text import compact

EXPIRY_SOON_DAYS = 14


@dataclass
class Validation:
    kb: KnowledgeBase
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


@lru_cache(maxsize=1 << 18)
def normalize_phrase(text: str) -> str:
    """The comparison form of a phrasing (:func:`tooling.text.compact`)."""
    return compact(text)


def validate(root: Path, today: date | None = None, cache: LoadCache | None = None) -> Validation:
    """Load and check the knowledge base under ``root`` (``cache``: see :class:`LoadCache`)."""
    with gc_paused():
        loaded = load(root, cache)
        problems = loaded.problems + check(loaded, today or date.today(), cache)
        return Validation(loaded.kb, sorted_problems(problems))


_PROBLEM_ORDER = attrgetter(*(f.name for f in fields(Problem)))


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """``sorted(set(problems))``: the same order (the dataclass's fields in turn), compared
    as tuples rather than through the dataclass's generated ``<``."""
    return sorted(set(problems), key=_PROBLEM_ORDER)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block without the cyclic garbage collector.

    Loading allocates hundreds of thousands of objects that all stay alive (nodes,
    values, positions); each allocation burst makes the collector traverse the
    ever-growing heap again, which cost a third of ``kb validate`` at 20,000 entries.
    None of it is cyclic garbage, so nothing is left for the collector meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check(loaded: LoadResult, today: date, cache: LoadCache | None = None) -> list[Problem]:
    kb = loaded.kb
    problems: list[Problem] = []
    problems += _check_unique_ids(kb)
    problems += _check_phrasings(kb)
    problems += _check_references(kb, loaded.known_ids)
    problems += _html_problems(loaded, cache)
    problems += _check_freshness(kb, today)
    return problems


def _html_problems(loaded: LoadResult, cache: LoadCache | None) -> list[Problem]:
    """:func:`_check_html` of every document; with ``cache``, only of documents parsed
    again since the previous check (an unchanged file keeps its parsed document)."""
    problems: list[Problem] = []
    previous = cache.checked if cache is not None else {}
    fresh: dict[str, tuple[Document, list[Problem]]] = {}
    for rel, doc in loaded.documents.items():
        cached = previous.get(rel)
        found = cached[1] if cached is not None and cached[0] is doc else _check_html(rel, doc)
        fresh[rel] = (doc, found)
        problems += found
    if cache is not None:
        cache.checked = fresh
    return problems


def _err(
    entry: Entry,
    path: tuple[str | int, ...],
    message: str,
    hint: str,
    code: str,
    severity: Severity = Severity.ERROR,
) -> Problem:
    line, col = entry.positions.get(path, (entry.line_of(*path), 0))
    return Problem(entry.file, line, col, severity, message, hint, code)


def _check_unique_ids(kb: KnowledgeBase) -> list[Problem]:
    first: dict[str, Entry] = {}
    problems = []
    for entry in kb.entries:
        if entry.id in first:
            other = first[entry.id]
            problems.append(
                _err(
                    entry,
                    ("id",),
                    f"id `{entry.id}` 与 {other.file} 重复",
                    "id 在整个知识库里必须唯一:给其中一个条目换个 id(并改文件名)",
                    "duplicate-id",
                )
            )
        else:
            first[entry.id] = entry
    return problems


def _check_phrasings(kb: KnowledgeBase) -> list[Problem]:
    questions: dict[str, Entry] = {normalize_phrase(e.question): e for e in kb.entries}
    owners: dict[str, tuple[Entry, int]] = {}
    problems = []
    for entry in kb.entries:
        for i, phrasing in enumerate(entry.phrasings):
            key = normalize_phrase(phrasing)
            if not key:
                continue
            other_q = questions.get(key)
            if other_q is not None and other_q.id != entry.id:
                line = other_q.line_of("question")
                problems.append(
                    _err(
                        entry,
                        ("phrasings", i),
                        f"问法“{phrasing}”与 {other_q.file}:{line} 的标准问相同",
                        "搜索无法区分这两个条目:删掉这条问法,或改写得更具体",
                        "phrasing-is-question",
                    )
                )
            if key in owners:
                other, j = owners[key]
                where = (
                    "本条目" if other.id == entry.id and other.file == entry.file else other.file
                )
                problems.append(
                    _err(
                        entry,
                        ("phrasings", i),
                        f"问法“{phrasing}”与 {where}:{other.line_of('phrasings', j)} 的问法重复",
                        "同一个问法只能属于一个条目:删掉其中一处,或把两处改写得更具体",
                        "duplicate-phrasing",
                    )
                )
            else:
                owners[key] = (entry, i)
    return problems


def _check_references(kb: KnowledgeBase, known_ids: set[str]) -> list[Problem]:
    handles = {s.handle for s in kb.staff}
    by_id = {e.id: e for e in kb.entries}
    problems = []
    for entry in kb.entries:
        if kb.staff and entry.owner not in handles:
            problems.append(
                _err(
                    entry,
                    ("owner",),
                    f"负责人 `{entry.owner}` 不在 _staff.yaml 里",
                    f"改成名册里的 handle({', '.join(sorted(handles))}),"
                    "或先把这位同事加入 _staff.yaml",
                    "unknown-owner",
                )
            )
        for i, rid in enumerate(entry.related):
            target = by_id.get(rid)
            if target is None and rid not in known_ids:
                problems.append(
                    _err(
                        entry,
                        ("related", i),
                        f"相关条目 `{rid}` 不存在",
                        "检查拼写,或删掉这个 id",
                        "unknown-related",
                    )
                )
            elif target is not None and entry.is_public and not target.is_public:
                problems.append(
                    _err(
                        entry,
                        ("related", i),
                        f"公开条目关联了内部条目 `{rid}`({target.file})",
                        "公开站点没有这个页面:删掉这个关联,或把本条目设为 audience: internal",
                        "public-related-internal",
                    )
                )
    return problems


def _strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, (*path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _strings(sub, (*path, i))


def _locate(text: str, problem: SanitizerProblem) -> tuple[int, int]:
    """(line, column) offsets, 0-based, of the first needle found in ``text``; (0, 0) if none."""
    folded = text.lower()
    for needle in problem.needles:
        at = folded.find(needle.lower()) if needle else -1
        if at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            return text.count("\n", 0, at), at - line_start
    return 0, 0


def _check_html(rel: str, doc: Document) -> list[Problem]:
    """Every text field through the sanitizer: what it would remove or change is an error.

    All strings are checked, not only the Markdown fields (rule, answers): plain
    fields are escaped on the pages, but nothing that only makes sense as an
    attack belongs in a phrasing either. ``url`` values are checked by the schema.
    """
    problems = []
    for path, text in _strings(doc.data, ()):
        if path[-1:] == ("url",):
            continue
        for found in sanitizer_problems(text):
            line, col = text_position(doc, path, *_locate(text, found))
            problems.append(
                Problem(
                    rel,
                    line,
                    col,
                    Severity.ERROR,
                    f"`{field_label(path)}` 里的{found.message}",
                    found.hint,
                    "unsafe-html",
                )
            )
    return problems


def _check_freshness(kb: KnowledgeBase, today: date) -> list[Problem]:
    problems = []
    for entry in kb.entries:
        if entry.is_expired(today):
            problems.append(
                _err(
                    entry,
                    ("expires",),
                    f"条目已于 {entry.expires} 到期,不会出现在站点上",
                    "通知已结束可以删除此文件;仍然有效请更新 expires",
                    "expired",
                    Severity.WARNING,
                )
            )
        elif entry.is_stale(today):
            problems.append(
                _err(
                    entry,
                    ("reviewed",),
                    f"条目已过复核期(上次确认 {entry.reviewed},每 {entry.review_every} 复核一次)",
                    f"请负责人 {entry.owner} 核对内容后把 reviewed 改成今天的日期",
                    "stale",
                    Severity.WARNING,
                )
            )
        if not entry.scenarios:
            problems.append(
                _err(
                    entry,
                    ("id",),
                    "条目没有常见场景(scenarios)",
                    "补充 2–3 个具体情况和对应答复,方便客服直接引用",
                    "no-scenarios",
                    Severity.WARNING,
                )
            )
    return problems

"""Every script-injection vector in every text field: refused by ``kb validate`` with a
located message, or rendered inert by a real ``kb build`` of both sites.

One fixture knowledge base holds one entry per vector (``vectors.VECTORS``), with
the vector in each text field: question, tags, rule, scenario case and answer, a
phrasing, the three replies, hand-off team and collect item, and a link title.
``kb validate --format json`` runs once over it. Every (vector, field) that it
does not refuse on the field's own lines goes into a second knowledge base,
which is built for the public and the staff site; each of those entries' pages
is parsed and must hold no active content (``htmlcheck.active_content``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SECTION_YAML, STAFF_YAML, build_site

from security.htmlcheck import active_content, entry_content
from security.vectors import INERT, RAW_ACTIVE, VECTORS, Vector

TODAY = "2026-11-25"
KB_CMD = str(Path(sys.executable).with_name("kb"))
SECTION = "vectors"
# Fields that hold a vector, in file order, with the benign text used when a field's
# vector was refused and the entry goes into the build without it.
FIELDS: dict[str, str] = {
    "question": "{id} 怎么办?",
    "tags[1]": "标签",
    "rule": "核心规则。",
    "scenarios[1].case": "一种情况",
    "scenarios[1].answer": "对应答复。",
    "phrasings[1]": "{id} 问法一",
    "replies.friendly": "亲切的回复",
    "replies.formal": "专业的回复",
    "replies.brief": "简洁的回复",
    "handoff.team": "售后组",
    "handoff.collect[1]": "订单号",
    "links[1].title": "说明",
}


def _slug(vector: Vector, index: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", vector.name.lower()).strip("-")
    return f"v{index:03d}-{slug}"


@dataclass
class EntryFile:
    """An entry's YAML text and, per field, the file lines its value occupies."""

    id: str
    lines: list[str] = field(default_factory=list)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def value(self, label: str, key_line: str, text: str, indent: int) -> None:
        """``key_line`` then ``text`` as a ``|2-`` block scalar (keeps leading spaces)."""
        start = len(self.lines) + 1
        self.add(f"{key_line} |2-")
        pad = " " * indent
        for line in text.split("\n"):
            self.add(pad + line if line else "")
        self.spans[label] = (start, len(self.lines))

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def entry_file(entry_id: str, values: dict[str, str]) -> EntryFile:
    """An entry with ``values[label]`` in each text field (see FIELDS)."""
    e = EntryFile(entry_id)
    e.add(f"id: {entry_id}")
    e.value("question", "question:", values["question"], 2)
    e.add("owner: zhang-wei")
    e.add("tags:")
    e.value("tags[1]", "  -", values["tags[1]"], 4)
    e.value("rule", "rule:", values["rule"], 2)
    e.add("scenarios:")
    e.value("scenarios[1].case", "  - case:", values["scenarios[1].case"], 6)
    e.value("scenarios[1].answer", "    answer:", values["scenarios[1].answer"], 6)
    e.add("phrasings:")
    # Phrasings must be unique across the knowledge base: vectors that differ only in
    # punctuation would collide, so this one ends with the entry's id on a line of its own.
    e.value("phrasings[1]", "  -", f"{values['phrasings[1]']}\n{entry_id}", 4)
    e.add(f"  - {entry_id} 问法二")
    e.add("replies:")
    for tone in ("friendly", "formal", "brief"):
        e.value(f"replies.{tone}", f"  {tone}:", values[f"replies.{tone}"], 4)
    e.add("handoff:")
    e.value("handoff.team", "  team:", values["handoff.team"], 4)
    e.add("  collect:")
    e.value("handoff.collect[1]", "    -", values["handoff.collect[1]"], 6)
    e.add("  respond_within: 2h")
    e.add("links:")
    e.value("links[1].title", "  - title:", values["links[1].title"], 6)
    e.add(f"    url: https://example.com/{entry_id}")
    e.add("reviewed: 2026-10-01")
    return e


def write_kb(root: Path, entries: list[EntryFile]) -> Path:
    (root / SECTION).mkdir(parents=True)
    (root / "_staff.yaml").write_text(STAFF_YAML, encoding="utf-8")
    (root / SECTION / "_section.yaml").write_text(SECTION_YAML, encoding="utf-8")
    for e in entries:
        (root / SECTION / f"{e.id}.yaml").write_text(e.text, encoding="utf-8")
    return root


def kb_validate(root: Path) -> tuple[int, list[dict[str, object]]]:
    done = subprocess.run(
        [KB_CMD, "validate", "--kb", str(root), "--format", "json", "--today", TODAY],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    problems = json.loads(done.stdout)
    for p in problems:  # file paths are printed under the --kb folder
        p["file"] = Path(str(p["file"])).relative_to(root).as_posix()
    return done.returncode, problems


@dataclass
class Corpus:
    entries: dict[str, tuple[Vector, EntryFile]]
    problems: list[dict[str, object]]
    accepted: dict[str, set[str]]  # entry id -> fields whose vector validate accepted
    sites: dict[str, Path]


def _refused(problems: list[dict[str, object]], file: str, span: tuple[int, int]) -> bool:
    """An error on the field's own lines."""
    return any(
        p["file"] == file and p["severity"] == "error" and span[0] <= int(str(p["line"])) <= span[1]
        for p in problems
    )


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("vectors")
    entries: dict[str, tuple[Vector, EntryFile]] = {}
    for index, vector in enumerate(VECTORS):
        entry_id = _slug(vector, index)
        entries[entry_id] = (vector, entry_file(entry_id, dict.fromkeys(FIELDS, vector.markdown)))
    _, problems = kb_validate(write_kb(base / "all", [e for _, e in entries.values()]))

    accepted: dict[str, set[str]] = {}
    inert_entries = []
    for entry_id, (vector, e) in entries.items():
        file = f"{SECTION}/{entry_id}.yaml"
        fields = {label for label, span in e.spans.items() if not _refused(problems, file, span)}
        if fields:
            accepted[entry_id] = fields
            values = {
                label: vector.markdown if label in fields else benign.format(id=entry_id)
                for label, benign in FIELDS.items()
            }
            inert_entries.append(entry_file(entry_id, values))
    benign = {label: text.format(id=BENIGN_ID) for label, text in FIELDS.items()}
    inert_entries.append(entry_file(BENIGN_ID, {**benign, "rule": BENIGN_RULE}))
    root = write_kb(base / "accepted", inert_entries)
    code, left = kb_validate(root)
    assert code == 0, [p for p in left if p["severity"] == "error"]
    sites = {
        audience: build_site(root, audience, base / f"site-{audience}", today=TODAY)
        for audience in ("public", "staff")
    }
    return Corpus(entries, problems, accepted, sites)


def test_every_refusal_is_located_with_a_reason(corpus: Corpus) -> None:
    errors = [p for p in corpus.problems if p["severity"] == "error"]
    assert errors, "the corpus must contain refused vectors"
    for p in errors:
        assert re.fullmatch(rf"{SECTION}/v\d{{3}}-[a-z0-9-]+\.yaml", str(p["file"])), p
        assert int(str(p["line"])) >= 1 and int(str(p["col"])) >= 1, p
        assert p["message"] and p["hint"], p


def test_live_vectors_in_markdown_fields_are_refused_as_unsafe_html(corpus: Corpus) -> None:
    """The validator itself catches every vector that is live without a sanitizer, in the
    fields rendered as Markdown, with code ``unsafe-html`` on the field's lines."""
    missed = []
    for entry_id, (vector, e) in corpus.entries.items():
        if vector.category not in RAW_ACTIVE:
            continue
        for label in ("rule", "scenarios[1].answer"):
            start, end = e.spans[label]
            if not any(
                p["file"] == f"{SECTION}/{entry_id}.yaml"
                and p["code"] == "unsafe-html"
                and start <= int(str(p["line"])) <= end
                for p in corpus.problems
            ):
                missed.append((vector.name, label))
    assert missed == []


@pytest.mark.parametrize("audience", ["public", "staff"])
def test_accepted_vectors_render_inert(corpus: Corpus, audience: str) -> None:
    site = corpus.sites[audience]
    assert corpus.accepted, "some vectors (the inert category at least) must be accepted"
    checked = 0
    for entry_id in corpus.accepted:
        page = site / SECTION / entry_id / "index.html"
        assert page.is_file(), page
        article = entry_content(page.read_text(encoding="utf-8"), "md-content__inner")
        assert "核心规则" in article, page  # the entry's content is really there
        assert active_content(article) == [], (entry_id, corpus.accepted[entry_id])
        checked += 1
    assert checked == len(corpus.accepted)


def test_inert_category_is_accepted_and_built(corpus: Corpus) -> None:
    """The vectors that are inert under plain Python-Markdown pass validation in the
    Markdown fields, so the build test above really renders them."""
    inert = {entry_id for entry_id, (v, _) in corpus.entries.items() if v.category == INERT}
    code_vectors = {
        entry_id
        for entry_id in inert
        if corpus.entries[entry_id][0].name.startswith(("code-", "zh-fullwidth"))
    }
    assert code_vectors and all("rule" in corpus.accepted.get(e, set()) for e in code_vectors)


def test_code_spans_stay_visible_text_on_the_page(corpus: Corpus) -> None:
    """Sanitizing does not unescape: a code span's ``<script>`` is shown, not run or lost."""
    entry_id = next(e for e, (v, _) in corpus.entries.items() if v.name == "code-span-script")
    page = corpus.sites["public"] / SECTION / entry_id / "index.html"
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in page.read_text("utf-8")


BENIGN_ID = "benign-markup"
# Writing that must survive as written: escapes stay escaped (MkDocs must not run its
# own Markdown pass over the sanitized HTML), braces stay text, tables stay tables.
BENIGN_RULE = (
    "\\*不是强调\\* &lt;b&gt; 与 `<i>` {不是属性}\n"
    "| 项目 | 标准 |\n|---|---|\n| 保证金 | **3000 元** |"
)


def test_benign_markup_reaches_the_page_exactly_once_rendered(corpus: Corpus) -> None:
    page = corpus.sites["public"] / SECTION / BENIGN_ID / "index.html"
    rule = entry_content(page.read_text(encoding="utf-8"), "zhiku-rule")
    assert rule == (
        '\n<p class="admonition-title">核心规则</p>\n'
        "<p>*不是强调* &lt;b&gt; 与 <code>&lt;i&gt;</code> {不是属性}</p>\n"
        "<table>\n<thead>\n<tr>\n<th>项目</th>\n<th>标准</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>保证金</td>\n<td><strong>3000 元</strong></td>\n</tr>\n"
        "</tbody>\n</table>\n"
    )


LINK_URLS = [
    "https://example.com/x/>)<svg/onload=alert(1)>",
    'https://example.com/x"onmouseover="alert(1)',
    "https://example.com/x'><img/src=x/onerror=alert(1)>",
]


def test_link_urls_cannot_break_out(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> None:
    """``links[].url`` passes the schema (http/https, no spaces) but is rendered as an
    attribute value, escaped and sanitized: no way out of the ``href``."""
    links = "".join(
        f"\n  - title: 链接{i}\n    url: '{url.replace(chr(39), chr(39) * 2)}'"
        for i, url in enumerate(LINK_URLS)
    )
    from conftest import entry_yaml

    root = make_kb({"repairs/l.yaml": entry_yaml("l", links=links)})
    code, problems = kb_validate(root)
    assert code == 0, problems
    page = build_site(root, "staff", tmp_path / "site", today=TODAY) / "repairs/l/index.html"
    article = entry_content(page.read_text(encoding="utf-8"), "md-content__inner")
    assert active_content(article) == []
    assert article.count('rel="noopener noreferrer"') == len(LINK_URLS)

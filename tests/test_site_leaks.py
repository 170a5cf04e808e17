"""No leaks: the public build holds nothing internal, in any byte of any file.

Uses both sites of the fixture knowledge base (conftest's ``fixture_sites``) and scans every file of the
public output (pages, Material's search index, sitemap, 404 page, assets,
compressed files unpacked, JSON unescaped, jieba's zero-width spaces removed)
for every internal entry's id, question and distinctive text, every staff-only
field of public entries, and the staff roster's names and e-mail addresses.
The same needles must be found in the staff build, so the scan is shown to work.
"""

from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path

import pytest
from conftest import BuiltSites
from helpers import FIXTURE_KB, FIXTURE_TODAY

from tooling.kb.check import validate
from tooling.kb.model import Entry, KnowledgeBase
from tooling.kb.view import view

TODAY = FIXTURE_TODAY
MIN_FRAGMENT = 6
_MARKUP = re.compile(r"\*\*|__|[*`|>#]|\[|\]\([^)]*\)|\]|^\s*(?:[-+]|\d+[.)])\s+", re.MULTILINE)


def squash(text: str) -> str:
    """Comparison form: entities decoded, zero-width and all other white space removed."""
    return re.sub(r"[\s\u200b]+", "", html.unescape(text))


def readable(path: Path) -> str:
    """A file's content as text a person could read, whatever its encoding on disk."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".json":
        # Material writes \\uXXXX escapes: compare the decoded strings too.
        text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def corpus(site: Path) -> dict[str, str]:
    files = {str(p.relative_to(site)): squash(readable(p)) for p in site.rglob("*") if p.is_file()}
    assert len(files) > 50
    return files


def fragments(markdown: str) -> list[str]:
    """Plain-text runs of a Markdown field, as they appear in the rendered page."""
    pieces = []
    for line in markdown.splitlines():
        for piece in _MARKUP.split(line):
            piece = squash(piece.strip())
            if len(piece) >= MIN_FRAGMENT and not set(piece) <= set("-:|"):
                pieces.append(piece)
    return pieces


def secret_texts(kb: KnowledgeBase) -> dict[str, list[str]]:
    """What the public must not see, by where it comes from."""
    today = __import__("datetime").date.fromisoformat(TODAY)
    needles: dict[str, list[str]] = {}

    def add(label: str, texts: list[str]) -> None:
        needles.setdefault(label, []).extend(t for t in texts if t)

    for entry in view(kb, "staff", today).entries:
        staff_only = [
            *fragments(entry.replies.friendly),
            *fragments(entry.replies.formal),
            *fragments(entry.replies.brief),
        ]
        if entry.handoff:
            staff_only += [squash(entry.handoff.team), *map(squash, entry.handoff.collect)]
        if entry.is_public:
            add(f"{entry.id} (staff-only fields)", staff_only)
        else:
            add(entry.id, [entry.id, squash(entry.question), *internal_text(entry), *staff_only])
    for member in kb.staff:
        add(f"staff {member.handle}", [member.email, squash(member.name)])
    return needles


def internal_text(entry: Entry) -> list[str]:
    texts = [*fragments(entry.rule), *map(squash, entry.phrasings)]
    for scenario in entry.scenarios:
        texts += [squash(scenario.case), *fragments(scenario.answer)]
    return texts


def public_text(kb: KnowledgeBase) -> str:
    """Everything the public site may legitimately show."""
    today = __import__("datetime").date.fromisoformat(TODAY)
    parts = [s.title + s.description for s in kb.sections]
    for e in view(kb, "public", today).entries:
        parts += [
            e.id,
            e.question,
            e.rule,
            *e.phrasings,
            *e.tags,
            *(s.case + s.answer for s in e.scenarios),
            *(x.title for x in e.links),
        ]
    return squash("".join(parts)).replace("*", "")


@pytest.fixture(scope="module")
def needles() -> dict[str, list[str]]:
    kb = validate(FIXTURE_KB).kb
    allowed = public_text(kb)
    # A needle the public may show anyway (a team name quoted in a public rule, say) proves nothing.
    found = {
        label: sorted({n for n in texts if n not in allowed})
        for label, texts in secret_texts(kb).items()
    }
    internal = [e for e in kb.entries if not e.is_public]
    assert len(internal) == 4
    for entry in internal:
        assert entry.id in found[entry.id] and squash(entry.question) in found[entry.id]
    assert sum(len(v) for v in found.values()) > 100
    return found


def test_public_build_leaks_nothing(
    fixture_sites: BuiltSites,
    needles: dict[str, list[str]],
) -> None:
    files = corpus(fixture_sites["public"])
    assert {"search/search_index.json", "sitemap.xml", "sitemap.xml.gz", "404.html"} <= set(files)
    leaks = [
        f"{label}: {needle!r} in {name}"
        for label, texts in needles.items()
        for needle in texts
        for name, text in files.items()
        if needle in text
    ]
    assert not leaks, "\n".join(leaks[:50])


def test_staff_build_has_every_needle(
    fixture_sites: BuiltSites,
    needles: dict[str, list[str]],
) -> None:
    """The scan works: what it looks for really is in the staff site's pages."""
    files = corpus(fixture_sites["staff"])
    everything = "".join(files.values())
    missing = [
        f"{label}: {needle!r}"
        for label, texts in needles.items()
        for needle in texts
        if needle not in everything and not label.startswith("staff ")
    ]
    assert not missing, "\n".join(missing[:50])
    # Owners show by name and team on the staff site (not by e-mail).
    assert "吴婷" in everything


def test_public_build_has_no_staff_markers(fixture_sites: BuiltSites) -> None:
    """No staff-only page parts or scripts (zhiku.css may style them: it holds no content)."""
    files = {
        name: text
        for name, text in corpus(fixture_sites["public"]).items()
        if not name.endswith(".css")
    }
    for marker in (
        "内部条目",
        "zhiku-feedback",
        "zhiku-desk",
        "zhiku-app",
        "答疑台",
        "负责人：",
        "zhiku-handoff",
        "zhiku-badge--internal",
    ):
        hits = [name for name, text in files.items() if marker in text]
        assert not hits, (marker, hits)

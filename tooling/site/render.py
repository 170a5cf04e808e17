"""Render stage: the model -> Markdown pages, ``{relative path: markdown text}``.

Knows nothing of MkDocs (the navigation and the rest of a site are assembled in
:mod:`tooling.site.assemble`): the pages are plain Markdown (with the common
admonition syntax and a little raw HTML), so any Python-Markdown based engine
can build them. The MkDocs plugin (:mod:`tooling.site.mkdocs_plugin`) only adds
these pages to a build.

Two audiences share one set of templates: ``public`` pages leave out internal
entries and every staff-only field (replies, hand-off, owner); ``staff``
pages show everything and mark internal, stale and soon-expiring entries.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import cache, lru_cache

import jinja2

from tooling.kb.check import EXPIRY_SOON_DAYS
from tooling.kb.model import Duration, Entry, KnowledgeBase, Section
from tooling.kb.view import SiteAudience, view
from tooling.site.contacts import contacts_html, hotline_html
from tooling.site.markup import link_html, markdown_to_html, text_to_html

HOME_PAGE = "index.md"
DESK_PAGE = "desk.md"
RECENT_COUNT = 10
SUMMARY_CHARS = 60
# Entries listed per section page: a section of any size stays well under 100 KB of HTML.
SECTION_PAGE_SIZE = 100

TONES = {"friendly": "亲切", "formal": "专业", "brief": "简洁"}
TIME_UNITS = {"m": "分钟", "h": "小时", "d": "天"}
INTERVAL_UNITS = {"d": "天", "w": "周", "m": "个月", "y": "年"}
EXAMPLE_MAX_CHARS = 14


@dataclass(frozen=True)
class SectionView:
    """A section as one audience sees it: only sections with visible entries below them."""

    section: Section
    page: str
    entries: tuple[Entry, ...]
    children: tuple[SectionView, ...]

    @property
    def entry_count(self) -> int:
        return len(self.entries) + sum(child.entry_count for child in self.children)


def entry_page(entry: Entry, kb: KnowledgeBase | None = None) -> str:
    """The Markdown path of an entry's page, e.g. ``shop/orders/shipping-fee.md``.

    An entry whose id equals the name of a sub-section beside it would share
    that sub-section's URL, so it gets ``<id>.entry.md`` instead (ids are
    slugs and never contain a dot, so this cannot collide with another entry).
    """
    base = f"{entry.section}/{entry.id}" if entry.section else entry.id
    if kb is not None and kb.section(base) is not None:
        return f"{base}.entry.md"
    return f"{base}.md"


def page_url(page: str) -> str:
    """The site URL (relative to the site root) MkDocs gives a page with directory URLs."""
    if page == HOME_PAGE:
        return ""
    if page.endswith("/index.md"):
        return page[: -len("index.md")]
    return page[: -len(".md")] + "/"


def entry_url(entry: Entry, kb: KnowledgeBase | None = None) -> str:
    """The URL of an entry's page relative to the site root, e.g. ``shop/orders/shipping-fee/``."""
    return page_url(entry_page(entry, kb))


def section_page(section: Section, number: int = 1) -> str:
    """Page ``number`` (from 1) of a section's entry list: ``index.md``, then ``page.2.md``...

    Ids and folder names never contain a dot, so ``page.N`` cannot collide with an entry."""
    return f"{section.path}/index.md" if number == 1 else f"{section.path}/page.{number}.md"


def section_page_count(entry_count: int) -> int:
    """How many pages a section's entry list takes (at least one)."""
    return max(1, -(-entry_count // SECTION_PAGE_SIZE))


def link(from_page: str, to_page: str) -> str:
    """A relative Markdown link target from one page to another."""
    return posixpath.relpath(to_page, posixpath.dirname(from_page) or ".")


def href(from_page: str, to_page: str) -> str:
    """A relative URL from one page to another, for raw HTML (MkDocs rewrites only
    Markdown links): ``shop/a.md`` -> ``shop/index.md`` gives ``../``."""
    rel = posixpath.relpath(page_url(to_page) or ".", page_url(from_page) or ".")
    return "./" if rel == "." else rel + "/"


# --- text helpers used as template filters ---------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]>()#+!])")


@lru_cache(maxsize=1 << 16)
def md_text(text: str) -> str:
    """Plain text made safe to put into Markdown inline content (on one line)."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def html_text(text: str) -> str:
    """Plain text as HTML, line breaks kept (for raw HTML blocks: no blank lines inside)."""
    lines = [html.escape(line.strip()) for line in text.strip().splitlines()]
    return "<br>".join(line for line in lines if line)


_INLINE_MARKUP = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>]+>"), ""),
    (re.compile(r"(\*\*|__|\*|`|~~)"), ""),
]
_LINE_MARKERS = re.compile(r"^\s*(#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+|\|)\s*")


@lru_cache(maxsize=1 << 16)
def summary(markdown: str, limit: int = SUMMARY_CHARS) -> str:
    """The first meaningful line of a Markdown field as plain text, shortened to ``limit``.

    A line that only introduces what follows (ends with a colon) takes the next
    line along, so a section page does not show just "分两种情况：".
    """
    text = ""
    for raw in markdown.splitlines():
        line = _LINE_MARKERS.sub("", raw).strip()
        if not line or set(line) <= set("|-: "):
            continue
        for pattern, replacement in _INLINE_MARKUP:
            line = pattern.sub(replacement, line)
        line = " ".join(line.replace("|", " ").split())
        text = f"{text}{line}" if text else line
        if text and not text.endswith((":", "：")):
            break
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration_text(value: str) -> str:
    """``2h`` -> ``2 小时``; anything unexpected is shown as written."""
    match = re.fullmatch(r"([0-9]+)([mhd])", value.strip())
    return f"{match.group(1)} {TIME_UNITS[match.group(2)]}" if match else value


def interval_text(value: Duration) -> str:
    """A review interval for people: ``180d`` -> ``180 天``, ``6m`` -> ``6 个月``."""
    return f"{value.amount} {INTERVAL_UNITS[value.unit]}"


def date_text(value: date) -> str:
    """A date as Chinese readers write it: ``2026-10-01`` -> ``2026年10月1日``."""
    return f"{value.year}年{value.month}月{value.day}日"


def entry_order_key(entry: Entry) -> tuple[int, int, tuple[str, ...], str]:
    """Order inside a section: the writers' ``order`` first (lower first), then the
    question in pinyin order (never the id, which readers do not see)."""
    spelled = _pinyin(entry.question)
    if entry.order is not None:
        return (0, entry.order, spelled, entry.question)
    return (1, 0, spelled, entry.question)


@lru_cache(maxsize=1 << 16)
def _pinyin(text: str) -> tuple[str, ...]:
    """A question spelled in pinyin with tone numbers (cached: pypinyin is slow, and
    every build and serve rebuild sorts every section)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(s.lower() for s in lazy_pinyin(text, style=Style.TONE3))


# --- the pages -------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tooling.site", "templates"),
        autoescape=False,  # the output is Markdown; fields are escaped with md/html filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        md=md_text,
        html=html_text,
        markdown=markdown_to_html,
        text=text_to_html,
        link=lambda link: link_html(link.title, link.url),
        summary=summary,
        duration=duration_text,
        interval=interval_text,
        date=date_text,
        contacts=contacts_html,
        hotline=hotline_html,
    )
    return env


def _template(name: str) -> jinja2.Template:
    return _environment().get_template(name)


def section_tree(kb: KnowledgeBase) -> tuple[SectionView, ...]:
    """The visible sections as a tree; sections without any visible entry are left out."""
    by_section: dict[str, list[Entry]] = {}
    for entry in kb.entries:
        by_section.setdefault(entry.section, []).append(entry)

    def view(section: Section) -> SectionView | None:
        children = tuple(
            v for s in kb.sections if s.parent == section.path and (v := view(s)) is not None
        )
        entries = tuple(sorted(by_section.get(section.path, ()), key=entry_order_key))
        if not entries and not children:
            return None
        return SectionView(section, section_page(section), entries, children)

    return tuple(v for s in kb.sections if s.parent == "" and (v := view(s)) is not None)


def _walk(views: Iterable[SectionView]) -> Iterable[SectionView]:
    for v in views:
        yield v
        yield from _walk(v.children)


def render_site(
    kb: KnowledgeBase,
    audience: SiteAudience,
    today: date,
    memo: dict[Hashable, str] | None = None,
) -> dict[str, str]:
    """Every page of one audience's site: ``{relative .md path: Markdown text}``.

    ``kb`` may be the whole knowledge base: internal entries (for ``public``)
    and expired entries are left out here. ``memo`` (``kb serve``) keeps entry
    pages from the previous call by everything they are made from, so an entry
    that did not change, nor any entry it links to, is not rendered again.
    """
    visible = view(kb, audience, today)
    tree = section_tree(visible)
    pages: dict[str, str] = {HOME_PAGE: render_home(visible, tree, audience)}
    for section_view in _walk(tree):
        for number in range(1, section_page_count(len(section_view.entries)) + 1):
            page = section_page(section_view.section, number)
            pages[page] = render_section(visible, section_view, audience, number)
    fresh: dict[Hashable, str] = {}
    rest = tuple(getattr(visible, f.name) for f in fields(visible) if f.name != "entries")
    for entry in visible.entries:
        if memo is None:
            text = render_entry(visible, entry, audience, today)
        else:
            key = _entry_inputs(visible, entry, audience, today, rest)
            text = memo.get(key) or render_entry(visible, entry, audience, today)
            fresh[key] = text
        pages[entry_page(entry, visible)] = text
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    if audience == "staff":
        pages[DESK_PAGE] = _template("desk.md.j2").render(site=visible.site)
    return pages


def _entry_inputs(
    kb: KnowledgeBase, entry: Entry, audience: SiteAudience, today: date, rest: Hashable
) -> Hashable:
    """Everything an entry page is made from besides the templates (the memo's key): the
    entry, the entries it links to, and ``rest``, every part of the knowledge base but
    its entries."""
    related = tuple(kb.entry(rid) for rid in entry.related)
    return (entry, audience, today, related, rest)


def render_entry(kb: KnowledgeBase, entry: Entry, audience: SiteAudience, today: date) -> str:
    """One entry's page. ``kb`` is the audience's knowledge base (related links point into it)."""
    page = entry_page(entry, kb)
    related = [
        (other.question, href(page, entry_page(other, kb)))
        for rid in entry.related
        if (other := kb.entry(rid)) is not None
    ]
    staff = audience == "staff"
    owner = kb.staff_member(entry.owner) if staff else None
    expiring = entry.expires is not None and today <= entry.expires <= today + timedelta(
        days=EXPIRY_SOON_DAYS
    )
    return _template("entry.md.j2").render(
        entry=entry,
        staff=staff,
        internal=not entry.is_public,
        stale=entry.is_stale(today),
        expiring=expiring,
        owner=owner,
        related=related,
        replies=[(tone, TONES[tone], text) for tone, text in entry.replies.items()],
        section_link=href(page, section_page(s)) if (s := kb.section(entry.section)) else "",
        section_title=s.title if s else "",
    )


def render_section(
    kb: KnowledgeBase, section_view: SectionView, audience: SiteAudience, number: int = 1
) -> str:
    """Page ``number`` of a section: sub-sections on the first page, then its share of
    the entries (:data:`SECTION_PAGE_SIZE` a page) and links to the other pages."""
    section = section_view.section
    page = section_page(section, number)
    count = section_page_count(len(section_view.entries))
    shown = section_view.entries[(number - 1) * SECTION_PAGE_SIZE : number * SECTION_PAGE_SIZE]
    parent = kb.section(section.parent) if section.parent else None
    return _template("section.md.j2").render(
        section=section,
        staff=audience == "staff",
        parent=(parent.title, link(page, section_page(parent))) if parent else None,
        home=link(page, HOME_PAGE),
        children=[(c.section, link(page, c.page), c.entry_count) for c in section_view.children]
        if number == 1
        else [],
        entries=[(e, link(page, entry_page(e, kb))) for e in shown],
        number=number,
        page_count=count,
        first=(number - 1) * SECTION_PAGE_SIZE + 1,
        total=len(section_view.entries),
        pager=[(n, link(page, section_page(section, n))) for n in range(1, count + 1)],
    )


def search_example(tree: tuple[SectionView, ...]) -> str:
    """A short way people ask, from the first entry shown on the home page, for the
    search hint ("例如「…」"); ``""`` when none is short enough."""
    for section_view in _walk(tree):
        for entry in section_view.entries:
            for text in (*entry.phrasings, entry.question):
                if len(text) <= EXAMPLE_MAX_CHARS:
                    return text
    return ""


def render_home(kb: KnowledgeBase, tree: tuple[SectionView, ...], audience: SiteAudience) -> str:
    recent = sorted(kb.entries, key=lambda e: (e.reviewed, e.id), reverse=True)[:RECENT_COUNT]
    return _template("home.md.j2").render(
        site=kb.site,
        description=kb.site.description(audience),
        example=search_example(tree),
        staff=audience == "staff",
        sections=[
            (v.section, v.page, v.entry_count, [(c.section, c.page) for c in v.children])
            for v in tree
        ],
        recent=[(e, entry_page(e, kb)) for e in recent],
        entry_count=len(kb.entries),
        desk=DESK_PAGE,
    )

"""Assemble stage: a knowledge base -> one audience's whole site, for any site engine.

:func:`assemble` returns a :class:`Site`: every page as Markdown (the render
stage, plus the staff report pages), the navigation, the assets to copy and
link, and the extra files to write after the pages (the browser search index).
Page URLs come from one place, :func:`tooling.site.render.page_url`, which the
search index uses too.

The MkDocs plugin (:mod:`tooling.site.mkdocs_plugin`) only maps a ``Site`` into
MkDocs: pages and assets become ``File.generated``, the navigation becomes
``config.nav``, linked assets go into ``extra_css``/``extra_javascript`` and the
extra files are written in ``on_post_build``. Another engine (MkDocs' successor
Zensical reads ``mkdocs.yml`` but has no plugin API) could take the same ``Site``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tooling.kb.model import KnowledgeBase
from tooling.kb.view import SiteAudience, view
from tooling.site.render import (
    DESK_PAGE,
    HOME_PAGE,
    entry_url,
    page_url,
    render_site,
    section_tree,
)

log = logging.getLogger("zhiku")

PACKAGE = Path(__file__).resolve().parent
ASSETS = PACKAGE / "assets"
ASSET_DIR = "assets/zhiku"
PUBLIC_ASSETS = ("zhiku.css", "zhiku.js")
# Staff-only scripts and styles written by other modules; included when present.
STAFF_ASSETS = ("zhiku-feedback.css", "zhiku-feedback.js", "zhiku-desk.css", "zhiku-desk.js")
SEARCH_WORKER = "zhiku-search-worker.js"
SEARCH_WORKER_URI = f"assets/javascripts/workers/{SEARCH_WORKER}"
# Staff-only report pages (tooling.report.pages), rendered from git history at build time.
REPORT_NAV = {"知识健康": "health.md", "贡献榜": "credit.md"}
REPORT_DIR = "knowledge-report"


@dataclass(frozen=True)
class NavItem:
    """One navigation entry: a page (its source path), or a group of items."""

    title: str
    page: str | None = None
    children: tuple[NavItem, ...] = ()


@dataclass(frozen=True)
class Asset:
    """A file copied into the site as it is; ``linked`` ones are on every page."""

    path: str  # under the site root
    source: Path
    linked: bool = True


@dataclass
class Site:
    """Everything one audience's site consists of."""

    audience: SiteAudience
    pages: dict[str, str]
    nav: list[NavItem]
    assets: list[Asset]
    #: Written as they are after the pages: ``{path under the site root: text}``.
    extra_files: dict[str, str] = field(default_factory=dict)

    def url(self, page: str) -> str:
        """The URL of a page, relative to the site root (directory URLs)."""
        return page_url(page)

    @property
    def stylesheets(self) -> list[str]:
        return [a.path for a in self.assets if a.linked and a.path.endswith(".css")]

    @property
    def scripts(self) -> list[str]:
        return [a.path for a in self.assets if a.linked and a.path.endswith(".js")]


def search_module_available(assets: Path = ASSETS) -> bool:
    """True when the Chinese search (index builder and worker) is there."""
    return (PACKAGE / "search_index.py").is_file() and (assets / SEARCH_WORKER).is_file()


def site_nav(kb: KnowledgeBase, audience: SiteAudience, today: date) -> list[NavItem]:
    """Home, then sections only (never entries), the desk and the reports for staff."""
    items = [NavItem("首页", HOME_PAGE)]
    for section_view in section_tree(view(kb, audience, today)):
        title, page = section_view.section.title, section_view.page
        if section_view.children:
            children = [NavItem("总览", page)]
            children += [NavItem(c.section.title, c.page) for c in section_view.children]
            items.append(NavItem(title, children=tuple(children)))
        else:
            items.append(NavItem(title, page))
    if audience == "staff":
        items.append(NavItem("答疑台", DESK_PAGE))
        items += [NavItem(title, f"{REPORT_DIR}/{name}") for title, name in REPORT_NAV.items()]
    return items


def site_assets(
    kb: KnowledgeBase, audience: SiteAudience, assets: Path = ASSETS, search: bool = True
) -> list[Asset]:
    names = list(PUBLIC_ASSETS)
    if audience == "staff":
        names += [name for name in STAFF_ASSETS if (assets / name).is_file()]
    out = [Asset(f"{ASSET_DIR}/{name}", assets / name) for name in names]
    if kb.site.logo:
        out.append(Asset(logo_uri(kb), kb.root / kb.site.logo, linked=False))
    if search:
        out.append(Asset(SEARCH_WORKER_URI, assets / SEARCH_WORKER, linked=False))
    return out


def logo_uri(kb: KnowledgeBase) -> str:
    return f"{ASSET_DIR}/logo{Path(kb.site.logo).suffix.lower()}"


def report_pages(
    kb_dir: Path, kb: KnowledgeBase, today: date, queries_log: Path | None, explicit: bool
) -> dict[str, str]:
    """知识健康 and 贡献榜, from the same data as ``kb report`` (staff site only).

    ``queries_log`` is the answer desk's unanswered log (``explicit`` when someone
    set it; otherwise the default place beside the repository is tried)."""
    from tooling.flags import QUERY_LOG_ENV
    from tooling.report.history import find_repo
    from tooling.report.missing import queries_log_path
    from tooling.report.pages import site_report_pages

    found = queries_log_path(str(queries_log) if queries_log else None, find_repo(kb_dir))
    note = ""
    if found is not None and not found.is_file():
        (log.warning if explicit else log.info)(
            f"queries_log {found} not found; missing knowledge left empty"
        )
        note = (
            f"还没有读到答疑台的提问记录（没有找到 {found.name}）。答疑服务默认把"
            "答不上来的提问记在知识库仓库的 .git 目录里；"
            f"放在别处时，构建前设置 {QUERY_LOG_ENV}。"
        )
        found = None
    pages = site_report_pages(kb_dir, today, kb=kb, queries_log=found, log_note=note)
    return {f"{REPORT_DIR}/{name}": text for name, text in pages.items()}


def search_files(
    kb: KnowledgeBase, audience: SiteAudience, today: date, cache: dict[Any, Any] | None = None
) -> dict[str, str]:
    """The browser search index files; entry URLs are the site's own."""
    from tooling.site.search_index import build_index
    from tooling.site.search_shards import INDEX_PATH, index_files

    visible = view(kb, audience, today)
    index = build_index(visible, cache, url=lambda entry: entry_url(entry, visible))
    if not isinstance(index.get("docs"), list):  # a stand-in search module's own format
        return {INDEX_PATH: json.dumps(index, ensure_ascii=False, separators=(",", ":"))}
    return index_files(index)


def assemble(
    kb: KnowledgeBase,
    audience: SiteAudience,
    today: date,
    *,
    kb_dir: Path | None = None,
    queries_log: Path | None = None,
    queries_log_explicit: bool = False,
    assets: Path = ASSETS,
    search: bool | None = None,
    memo: dict[Hashable, str] | None = None,
    index_cache: dict[Any, Any] | None = None,
) -> Site:
    """One audience's site. ``memo`` and ``index_cache`` are ``kb serve``'s caches
    (see :mod:`tooling.site.incremental`). ``search``: whether to write the Chinese
    search index and worker (default: when they are there)."""
    pages = render_site(kb, audience, today, memo)
    if audience == "staff":
        pages.update(report_pages(kb_dir or kb.root, kb, today, queries_log, queries_log_explicit))
    if search is None:
        search = search_module_available(assets)
    return Site(
        audience=audience,
        pages=pages,
        nav=site_nav(kb, audience, today),
        assets=site_assets(kb, audience, assets, search),
        extra_files=search_files(kb, audience, today, index_cache) if search else {},
    )

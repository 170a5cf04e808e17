"""The MkDocs adapter: a thin plugin that puts the rendered knowledge base into a build.

Registered as ``zhiku`` through the ``mkdocs.plugins`` entry point. Per build it

- loads and validates the knowledge base once and assembles the audience's
  :class:`~tooling.site.assemble.Site` (``on_config``), whose navigation becomes
  ``config.nav`` and whose linked assets go into ``extra_css``/``extra_javascript``;
- adds the Site's pages and assets with ``File.generated`` (``on_files``);
- writes the Site's extra files, the Chinese search index (``on_post_build``);
- names the site from the team's ``_site.yaml`` (title, header, logo, footer);
- watches the knowledge-base folder on ``serve``, where validation errors are
  logged and shown in a bar on every page instead of stopping the server, a
  broken file keeps its last good page (:mod:`tooling.site.lastgood`) and the
  404 page reloads itself too;
- on ``serve`` (a dirty build, as ``kb serve`` runs it) rebuilds only the pages a
  save changed (:mod:`tooling.site.incremental`): unchanged pages keep the
  previous build's file and ``Page`` and are marked unmodified, so MkDocs neither
  converts nor writes them again; watching, the theme listing and the 404 page's
  live reload are in :mod:`tooling.site.serving`.

What the site consists of is decided in :mod:`tooling.site.assemble`; what a
page says in :mod:`tooling.site.render`. This module only maps them into MkDocs.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment
from markupsafe import Markup
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from tooling.errors import Problem
from tooling.kb.check import Validation, validate
from tooling.kb.model import KnowledgeBase
from tooling.kb.view import SiteAudience, check_audience
from tooling.site.assemble import (
    SEARCH_WORKER_URI,
    NavItem,
    Site,
    assemble,
    logo_uri,
)
from tooling.site.assemble import search_module_available as _search_in
from tooling.site.contacts import contacts_html
from tooling.site.incremental import Changes, Incremental
from tooling.site.lastgood import LastGood
from tooling.site.rawblocks import RawBlocks
from tooling.site.search_index import INDEX_PATH
from tooling.site.search_shards import write_index_files
from tooling.site.serving import (
    PageFile,
    ThemeListing,
    forget_render,
    set_aside_long_lived,
    use_inotify,
    with_livereload,
)

log = get_plugin_logger("zhiku")

PACKAGE = Path(__file__).resolve().parent
ASSETS = PACKAGE / "assets"
OVERRIDES = PACKAGE / "overrides"
DEFAULT_APP_URL = "http://127.0.0.1:5000"
APP_URL_ENV = "ZHIKU_APP_URL"

# The worker finds its index from this query parameter, relative to the worker script.
SEARCH_WORKER_QUERY = f"?index=../../../{INDEX_PATH}"

_CONFIG_SCRIPT = re.compile(
    r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.DOTALL
)


class ZhikuConfig(base.Config):
    kb = c.Type(str, default="kb")
    audience = c.Choice(("public", "staff"), default="public")
    today = c.Optional(c.Type(str))
    app_url = c.Type(str, default=DEFAULT_APP_URL)
    # The feedback app's unanswered-question log, for the report's missing knowledge.
    queries_log = c.Optional(c.Type(str))


def search_module_available() -> bool:
    """True when the Chinese search (index builder and worker) is there."""
    return _search_in(ASSETS)


def mkdocs_nav(items: list[NavItem]) -> list[object]:
    """A Site's navigation as MkDocs ``nav`` config."""
    return [
        {item.title: mkdocs_nav(list(item.children)) if item.children else item.page}
        for item in items
    ]


def replace_search_worker(config_html: str, worker_url: str) -> str:
    """Point Material's ``__config`` JSON at another search worker (a Jinja filter)."""

    def patch(match: re.Match[str]) -> str:
        data = json.loads(match.group(2))
        data["search"] = worker_url
        return match.group(1) + json.dumps(data, ensure_ascii=False) + match.group(3)

    return Markup(_CONFIG_SCRIPT.sub(patch, str(config_html), count=1))


class ZhikuPlugin(BasePlugin[ZhikuConfig]):
    """Builds the public or the staff site of a knowledge base."""

    def __init__(self) -> None:
        self.command = "build"
        #: A validated knowledge base handed over by ``kb build`` so it is not loaded twice.
        self.preloaded: KnowledgeBase | None = None
        self.kb_dir = Path("kb")
        self.today = date.today()
        self.kb: KnowledgeBase | None = None
        self.site: Site | None = None
        self.problems: list[Problem] = []
        self.page_count = 0
        #: Serve-time caches (dirty builds only); ``None`` on ``kb build``.
        self.incremental: Incremental | None = None
        self.changes = Changes(None, set())
        #: Pages converted by the current build, in order.
        self.converted: list[str] = []
        #: This build's page files, reused by the next serve rebuild for unchanged pages.
        self.page_files: dict[str, PageFile] = {}
        self.theme_listing = ThemeListing()
        self.last_good = LastGood()

    # Defining on_startup keeps one plugin instance across rebuilds on `serve`.
    def on_startup(self, *, command: Literal["build", "gh-deploy", "serve"], dirty: bool) -> None:
        self.command = command
        if command == "serve" and dirty:
            self.incremental = Incremental()

    @property
    def audience(self) -> SiteAudience:
        return check_audience(self.config.audience)

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        logging.getLogger("jieba").setLevel(logging.WARNING)  # Material's search uses jieba
        self.kb_dir = self._resolve(config, self.config.kb)
        self.today = self._today()
        self.kb = self._load()
        self._apply_identity(config)
        self.site = self._assemble(config)
        config.nav = mkdocs_nav(self.site.nav)
        # Entries are deliberately not in the nav; do not list thousands of them in the log.
        config.validation.nav.omitted_files = logging.DEBUG
        if str(OVERRIDES) not in config.theme.dirs:
            config.theme.dirs.insert(0, str(OVERRIDES))
        if config.theme.name == "material":
            config.theme["font"] = False  # no Google Fonts: no request to an outside host
            if "navigation.instant" in (config.theme["features"] or []):
                log.warning(
                    "theme feature navigation.instant breaks Zhiku's page scripts; "
                    "remove it from mkdocs.yml"
                )
        # Entry pages' raw HTML regions go to the page without Markdown parsing them.
        if not any(isinstance(ext, RawBlocks) for ext in config.markdown_extensions):
            config.markdown_extensions.append(RawBlocks())
        config.extra_css.extend(self.site.stylesheets)
        config.extra_javascript.extend(self.site.scripts)
        if self.incremental is not None:
            self.theme_listing.install(config.theme)
        return config

    def _assemble(self, config: MkDocsConfig) -> Site:
        from tooling.flags import QUERY_LOG_ENV

        assert self.kb is not None
        start = time.monotonic()
        setting = os.environ.get(QUERY_LOG_ENV) or self.config.queries_log
        site = assemble(
            self.kb,
            self.audience,
            self.today,
            kb_dir=self.kb_dir,
            queries_log=self._resolve(config, setting) if setting else None,
            queries_log_explicit=bool(setting),
            assets=ASSETS,
            search=search_module_available(),
            memo=self.incremental.render_memo if self.incremental else None,
            index_cache=self.incremental.index_cache if self.incremental else None,
        )
        log.info(
            f"{len(site.pages)} pages rendered for the {self.audience} site "
            f"in {time.monotonic() - start:.1f} s"
        )
        return site

    def _apply_identity(self, config: MkDocsConfig) -> None:
        """The site's name (header and every page title) and logo from ``_site.yaml``."""
        assert self.kb is not None
        site = self.kb.site
        config.site_name = site.name + ("（客服版）" if self.audience == "staff" else "")
        config.site_description = site.description(self.audience) or config.site_description
        config.extra["generator"] = False  # no "Made with Material for MkDocs"
        if site.logo and config.theme.name == "material":
            config.theme["logo"] = config.theme["favicon"] = logo_uri(self.kb)

    def _resolve(self, config: MkDocsConfig, value: str) -> Path:
        path = Path(value)
        if not path.is_absolute() and config.config_file_path:
            path = Path(config.config_file_path).parent / path
        return path.resolve()

    def _today(self) -> date:
        if not self.config.today:
            return date.today()
        try:
            return date.fromisoformat(self.config.today)
        except ValueError:
            raise PluginError(
                f"zhiku: today: not a date: {self.config.today!r} (use YYYY-MM-DD)"
            ) from None

    def _load(self) -> KnowledgeBase:
        if self.preloaded is not None:
            kb, self.problems = self.preloaded, []
            return kb
        start = time.monotonic()
        log.info(f"Loading knowledge base {self.kb_dir}")
        cache = self.incremental.load_cache if self.incremental else None
        result: Validation = validate(self.kb_dir, self.today, cache)
        self.problems = result.errors
        log.info(
            f"{len(result.kb.entries)} entries loaded in {time.monotonic() - start:.1f} s "
            f"({len(result.warnings)} warning(s), {len(result.errors)} error(s))"
        )
        if result.errors:
            listing = "\n".join(p.format(str(self.kb_dir)) for p in result.errors)
            if self.command != "serve":
                raise PluginError(
                    f"the knowledge base has {len(result.errors)} error(s):\n{listing}"
                )
            # On serve, keep the server up: show the errors on every page, and the last
            # good version of each broken file, so the page being edited stays open.
            log.error(
                f"the knowledge base has {len(result.errors)} error(s); files with errors "
                f"show their last good version until fixed:\n{listing}"
            )
        if self.command != "serve":
            return result.kb
        kb, kept = self.last_good.merge(result.kb, result.errors)
        if kept:
            log.info(f"last good version shown for: {', '.join(kept)}")
        return kb

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.site is not None
        pages = self.site.pages
        previous: dict[str, PageFile] = {}
        if self.incremental is not None:
            self.changes = self.incremental.changes(pages, self._chrome(config))
            # (After MkDocs has listed the theme's static files, which leave these out.)
            config.theme.static_templates.discard("sitemap.xml")  # no use to a local preview
            if self.changes.pages is not None:
                previous = self.page_files
                # The 404 page shows only what every page shows: unchanged too.
                config.theme.static_templates.discard("404.html")
        self.converted = []
        self.page_files = {}
        for src_uri, text in pages.items():
            existing = files.get_file_from_path(src_uri)
            if existing is not None:
                files.remove(existing)
            unchanged = not self.changes.is_changed(src_uri)
            page_file = previous.get(src_uri) if unchanged else None
            if page_file is None:
                made = PageFile.generated(config, src_uri, content=text)
                assert isinstance(made, PageFile)
                page_file = made
            page_file.unchanged = unchanged
            files.append(page_file)
            if self.incremental is not None:
                self.page_files[src_uri] = page_file
        self.page_count = len(pages)
        for asset in self.site.assets:
            files.append(File.generated(config, asset.path, abs_src_path=str(asset.source)))
        return files

    def _chrome(self, config: MkDocsConfig) -> tuple[str, ...]:
        """What every page shows besides its own text: when it changes, all pages are rebuilt."""
        mkdocs_yml = Path(config.config_file_path or "")
        return (
            repr(config.nav),
            str(config.site_name),
            str(config.site_description),
            repr(list(config.extra_css)),
            repr(list(config.extra_javascript)),
            repr(sorted(config.theme.items(), key=str)),
            repr([p.format(str(self.kb_dir)) for p in self.problems]),
            repr(self.kb.site) if self.kb else "",  # footer and contacts on every page
            self._app_url(),
            str(mkdocs_yml.stat().st_mtime_ns) if mkdocs_yml.is_file() else "",
        )

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        # With Zhiku's worker, Material's per-page index (HTML parse + jieba) is never read:
        # exclude every page from it. Its search_index.json keeps the config the page
        # script needs, with no docs.
        if search_module_available():
            page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
        self.converted.append(page.file.src_uri)
        return markdown

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        if self.incremental is not None:
            env.bytecode_cache = self.incremental.templates
        env.filters["zhiku_search_config"] = replace_search_worker
        env.globals["zhiku"] = {
            "audience": self.audience,
            "app_url": self._app_url() if self.audience == "staff" else "",
            "search_worker": SEARCH_WORKER_URI if search_module_available() else "",
            "search_worker_query": SEARCH_WORKER_QUERY,
            # Paths relative to the knowledge base, as the writer knows them.
            "problems": [_bar_item(p) for p in self.problems],
            "site": self.kb.site if self.kb else None,
            "contacts": Markup(contacts_html(self.kb.site, "zhiku-footer-contacts"))
            if self.kb
            else "",
            "contacts_page": Markup(contacts_html(self.kb.site)) if self.kb else "",
        }
        return env

    def _app_url(self) -> str:
        return os.environ.get(APP_URL_ENV) or self.config.app_url

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.incremental is not None and self.incremental.builds > 1:
            self._log_rebuilt(config)
        self._write_extra_files(config)
        for page_file in self.page_files.values():
            forget_render(page_file)
        if self.incremental is not None and self.changes.pages is None:
            set_aside_long_lived()

    def _log_rebuilt(self, config: MkDocsConfig) -> None:
        """Say which pages a serve rebuild redid, and remove the pages that are gone."""
        for gone in sorted(self.changes.gone):
            old = File(gone, None, config.site_dir, config.use_directory_urls)
            Path(old.abs_dest_path).unlink(missing_ok=True)
        shown = ", ".join(self.converted[:10]) + (" ..." if len(self.converted) > 10 else "")
        log.info(
            f"{len(self.converted)} of {self.page_count} pages rebuilt"
            + (f": {shown}" if shown else "")
            + (f"; {len(self.changes.gone)} removed" if self.changes.gone else "")
        )

    def _write_extra_files(self, config: MkDocsConfig) -> None:
        """The Site's extra files (the search index); on serve only those that changed."""
        assert self.site is not None
        files = self.site.extra_files
        if self.incremental is not None:
            files = self.incremental.index_files_to_write(files)
        site_dir = Path(config.site_dir)
        write_index_files(files, site_dir)
        if self.site.extra_files:
            # Material's page script still downloads its own index (only its config is
            # read with the Zhiku worker, and every page is excluded from it).
            slim = getattr(
                importlib.import_module("tooling.site.search_index"), "slim_material_index", None
            )
            if callable(slim):
                slim(site_dir)

    def on_serve(
        self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any
    ) -> LiveReloadServer:
        use_inotify(server)
        server.watch(str(self.kb_dir))
        server.error_handler = with_livereload(server, server.error_handler)
        return server


def _bar_item(problem: Problem) -> dict[str, str]:
    """One problem for the error bar: where (``file:line:col``), what, and how to fix it."""
    where = problem.format().split(": ", 1)[0]
    return {"where": where, "message": problem.message, "hint": problem.hint}

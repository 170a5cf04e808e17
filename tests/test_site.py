"""Real MkDocs builds of the public and the staff site.

The fixture knowledge base (tests/fixtures/kb) is built once per run for each
audience by conftest's session fixture ``fixture_sites``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import BuiltSites
from helpers import CONFIG, FIXTURE_KB, FIXTURE_TODAY, entry_yaml

from tooling import cli
from tooling.commands.build import build_site
from tooling.kb.check import validate
from tooling.kb.view import view
from tooling.site import mkdocs_plugin as plugin_module

TODAY = FIXTURE_TODAY
MAX_ENTRY_PAGE = 60 * 1024


def html_pages(site: Path) -> Iterator[Path]:
    return (p for p in site.rglob("*.html"))


def entry_pages(site: Path) -> list[Path]:
    kb = validate(FIXTURE_KB).kb
    pages = []
    for entry in kb.entries:
        page = site / entry.section / entry.id / "index.html"
        if page.exists():
            pages.append(page)
    return pages


# --- the fixture knowledge base, both audiences -----------------------------------------------


def test_build_logs_progress_and_no_warnings(fixture_sites: BuiltSites) -> None:
    for audience, log in fixture_sites.logs.items():
        assert f"Loading and validating {FIXTURE_KB} ..." in log
        # The expired notice and the stale entry: counted, not MkDocs warnings.
        assert "21 entries valid (2 warning(s); `kb validate` lists them)" in log
        assert re.search(r"zhiku: \d+ pages rendered for the " + audience, log), log
        assert re.search(
            rf"Done in [0-9.]+ s: \d+ pages, {audience} site in "
            + re.escape(str(fixture_sites[audience])),
            log,
        ), log
        assert "WARNING" not in log, log


def test_every_visible_entry_has_a_page(fixture_sites: BuiltSites) -> None:
    kb = validate(FIXTURE_KB).kb
    today = date.fromisoformat(TODAY)
    for audience in ("public", "staff"):
        visible = view(kb, audience, today)
        assert len(entry_pages(fixture_sites[audience])) == len(visible.entries)
    assert len(entry_pages(fixture_sites["staff"])) == 20  # 21 entries, one notice expired
    assert len(entry_pages(fixture_sites["public"])) == 16  # and 4 internal ones
    internal = [e for e in kb.entries if not e.is_public]
    assert len(internal) == 4
    for entry in internal:
        assert not (fixture_sites["public"] / entry.section / entry.id).exists()


def test_expired_notice_is_left_out_and_stale_entry_stays(fixture_sites: BuiltSites) -> None:
    for audience in ("public", "staff"):
        site = fixture_sites[audience]
        assert not (site / "community/notices/notice-water-outage-20261118").exists()
        assert (site / "community/notices/notice-elevator-upgrade-2027/index.html").is_file()
        assert (site / "community/dog-keeping/index.html").is_file()  # stale, still shown
        index = (site / "search/zhiku-index.json").read_text(encoding="utf-8")
        assert "notice-water-outage-20261118" not in index and "3–5 号楼" not in index


def test_entry_pages_are_small(fixture_sites: BuiltSites) -> None:
    for page in entry_pages(fixture_sites["staff"]):
        assert page.stat().st_size < MAX_ENTRY_PAGE, page


def test_staff_entry_page(fixture_sites: BuiltSites) -> None:
    html = (fixture_sites["staff"] / "fees/fee-waiver-authority/index.html").read_text()
    assert '<span class="zhiku-badge zhiku-badge--internal">内部</span>' in html
    assert '<p class="admonition-title">内部条目</p>' in html
    assert '<p class="admonition-title">核心规则</p>' in html
    assert '<div class="zhiku-feedback" data-entry="fee-waiver-authority"></div>' in html
    assert '<meta name="zhiku-app" content="http://127.0.0.1:5000">' in html
    assert "负责人：吴婷" in html
    assert "<table>" in html  # the approval table of the rule
    page = (fixture_sites["staff"] / "community/renovation/renovation-hours/index.html").read_text()
    assert page.count('class="zhiku-copy"') == 3
    assert ">装修施工时间是几点到几点？周末能装修吗？</h1>" in page
    assert ">其他问法</h2>" in page


def test_public_entry_page(fixture_sites: BuiltSites) -> None:
    html = (
        fixture_sites["public"] / "community/renovation/renovation-hours/index.html"
    ).read_text()
    assert ">装修施工时间是几点到几点？周末能装修吗？</h1>" in html
    assert ">其他问法</h2>" in html
    assert "最近核对：2026年9月22日" in html
    for staff_only in (
        "zhiku-feedback",
        "zhiku-copy",
        "话术",
        "负责人",
        "zhiku-app",
        "答疑台",
        "何斌",
    ):
        assert staff_only not in html, staff_only


def test_desk_page_on_staff_site_only(fixture_sites: BuiltSites) -> None:
    desk = (fixture_sites["staff"] / "desk/index.html").read_text()
    assert '<div id="zhiku-desk"></div>' in desk
    # The identity file names the desk's organisation; the footer gives the contacts.
    assert "桂香里服务中心：粘贴客户的问题" in desk
    assert 'href="tel:' in desk and "020-8765-4321" in desk
    assert not (fixture_sites["public"] / "desk").exists()


def test_report_pages_on_staff_site_only(fixture_sites: BuiltSites) -> None:
    health = (fixture_sites["staff"] / "knowledge-report/health/index.html").read_text()
    credit = (fixture_sites["staff"] / "knowledge-report/credit/index.html").read_text()
    assert "<h1" in health and "知识健康" in health and "<svg" in health
    assert "贡献榜" in credit
    home = (fixture_sites["staff"] / "index.html").read_text()
    assert "knowledge-report/health/" in home  # in the navigation
    assert not (fixture_sites["public"] / "knowledge-report").exists()


def test_navigation_lists_sections_not_entries(fixture_sites: BuiltSites) -> None:
    kb = validate(FIXTURE_KB).kb
    entry_urls = {f"{e.section}/{e.id}/" for e in kb.entries}
    page = "fees/parking-monthly/"
    html = (fixture_sites["staff"] / page / "index.html").read_text()
    links = [
        href
        for href in re.findall(r'<a href="([^"]+)" class="md-nav__link', html)
        if not href.startswith("#")
    ]  # the page's own table of contents
    resolved = {os.path.normpath(f"{page}{href}") + "/" for href in links}
    assert {f"{s.path}/" for s in kb.sections} <= resolved  # every section and sub-section
    assert "desk/" in resolved  # 答疑台
    assert not resolved & entry_urls


def test_home_page_search_first(fixture_sites: BuiltSites) -> None:
    html = (fixture_sites["public"] / "index.html").read_text()
    search, sections = html.index("data-zhiku-search"), html.index(">按栏目查看</h2>")
    assert search < sections < html.index(">最近更新</h2>")


def test_material_search_index_and_chinese_config(fixture_sites: BuiltSites) -> None:
    index = json.loads((fixture_sites["public"] / "search/search_index.json").read_text())
    assert index["config"]["lang"] == ["zh"]
    assert index["config"]["separator"] == r"[\s\u200b\-]"
    if plugin_module.search_module_available():
        # The Zhiku worker searches search/zhiku-index.json; Material's docs may be slimmed.
        zhiku = json.loads((fixture_sites["public"] / "search/zhiku-index.json").read_text())
        assert any(doc[0] == "community/renovation/renovation-hours/" for doc in zhiku["docs"])
        return
    # Material segments Chinese with jieba, joining words with zero-width spaces.
    assert any(doc["title"].startswith("装修\u200b") for doc in index["docs"])


OUTSIDE = re.compile(
    r"""<(?:link|script|img|iframe|source|audio|video)\b[^>]*?"""
    r"""\b(?:href|src)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def test_no_request_to_outside_hosts(fixture_sites: BuiltSites) -> None:
    for audience, site in fixture_sites.items():
        checked = 0
        for page in html_pages(site):
            html = page.read_text(encoding="utf-8")
            assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html, page
            assert not OUTSIDE.search(html), (page, OUTSIDE.search(html))
            checked += 1
        assert checked >= len(entry_pages(site)) + 3, audience  # entries, sections, home
        for css in site.rglob("*.css"):
            text = css.read_text(encoding="utf-8")
            assert not re.search(r"@import\s+url\(\s*[\"']?(https?:)?//", text), css
            assert "fonts.googleapis" not in text, css


def test_outside_host_check_can_fail() -> None:
    assert OUTSIDE.search('<link rel="stylesheet" href="https://fonts.googleapis.com/css?x">')
    assert OUTSIDE.search("<script src=//cdn.example.com/x.js>")
    assert not OUTSIDE.search('<a href="https://example.com/law">法律</a>')


# --- errors -----------------------------------------------------------------------------------


def test_build_refuses_kb_with_errors(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kb = make_kb({"a/ok.yaml": entry_yaml("ok"), "a/bad.yaml": entry_yaml("bad", owner="nobody")})
    out = tmp_path / "out"
    code = cli.main(["build", "--kb", str(kb), "--out", str(out), "--config", str(CONFIG)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{kb}/a/bad.yaml:3:8: error:" in err
    assert "nobody" in err
    assert "kb: the knowledge base has 1 error(s); fix them first" in err
    assert not out.exists()


def test_build_without_config_is_a_usage_error(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kb = make_kb({"a/ok.yaml": entry_yaml("ok")})
    code = cli.main(["build", "--kb", str(kb), "--config", str(tmp_path / "missing.yml")])
    assert code == 2
    assert "MkDocs configuration not found" in capsys.readouterr().err


# --- wiring for the modules other people write ------------------------------------------------


@pytest.fixture
def fake_companions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for zhiku-feedback.js, zhiku-desk.js and the Chinese search module."""
    assets = tmp_path / "assets"
    assets.mkdir()
    for name in ("zhiku.css", "zhiku.js"):
        (assets / name).write_bytes((plugin_module.ASSETS / name).read_bytes())
    for name in (
        "zhiku-feedback.js",
        "zhiku-feedback.css",
        "zhiku-desk.js",
        "zhiku-search-worker.js",
    ):
        (assets / name).write_text(f"/* {name} */\n")
    monkeypatch.setattr(plugin_module, "ASSETS", assets)
    monkeypatch.setattr(plugin_module, "search_module_available", lambda: True)
    fake = types.ModuleType("tooling.site.search_index")
    fake.build_index = lambda kb, cache=None, url=None: {
        "ids": sorted(e.id for e in kb.entries),  # type: ignore[attr-defined]
        "replies": [e.replies.brief for e in kb.entries],
    }
    monkeypatch.setitem(sys.modules, "tooling.site.search_index", fake)
    monkeypatch.setenv("ZHIKU_APP_URL", "https://desk.example.org/app")
    return assets


@pytest.mark.slow
def test_companion_scripts_and_search_worker(
    fake_companions: Path, make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> None:
    kb = make_kb(
        {
            "a/open.yaml": entry_yaml("open", replies="\n  brief: 秘密话术"),
            "a/secret.yaml": entry_yaml("secret", audience="internal"),
        }
    )
    sites = {}
    for audience in ("public", "staff"):
        sites[audience] = tmp_path / audience
        build_site(kb, audience, sites[audience], CONFIG, TODAY)
    staff, public = sites["staff"], sites["public"]

    for name in ("zhiku-feedback.js", "zhiku-feedback.css", "zhiku-desk.js"):
        assert (staff / "assets/zhiku" / name).is_file()
        assert not (public / "assets/zhiku" / name).exists()
    page = (staff / "a/open/index.html").read_text()
    assert '<script src="../../assets/zhiku/zhiku-feedback.js"></script>' in page
    assert '<link rel="stylesheet" href="../../assets/zhiku/zhiku-feedback.css">' in page
    assert '<meta name="zhiku-app" content="https://desk.example.org/app">' in page
    public_page = (public / "a/open/index.html").read_text()
    assert "zhiku-feedback" not in public_page and "zhiku-app" not in public_page

    for site in sites.values():
        config = re.search(
            r'<script id="__config" type="application/json">(.*?)</script>',
            (site / "a/open/index.html").read_text(),
            re.DOTALL,
        )
        assert config
        settings = json.loads(config.group(1))
        assert settings["search"] == (
            "../../assets/javascripts/workers/zhiku-search-worker.js"
            "?index=../../../search/zhiku-index.json"
        )
        assert settings["translations"]["clipboard.copy"]  # the rest of Material's config stays
        assert (site / "assets/javascripts/workers/zhiku-search-worker.js").is_file()
    assert json.loads((public / "search/zhiku-index.json").read_text()) == {
        "ids": ["open"],
        "replies": [""],
    }
    assert json.loads((staff / "search/zhiku-index.json").read_text()) == {
        "ids": ["open", "secret"],
        "replies": ["秘密话术", ""],
    }


@pytest.mark.slow
def test_material_worker_when_search_module_is_missing(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(plugin_module, "search_module_available", lambda: False)
    kb = make_kb({"a/open.yaml": entry_yaml("open")})
    build_site(kb, "public", tmp_path / "site", CONFIG, TODAY)
    html = (tmp_path / "site/index.html").read_text()
    settings: dict[str, Any] = json.loads(
        re.search(r'id="__config" type="application/json">(.*?)</script>', html, re.DOTALL).group(1)
    )  # type: ignore[union-attr]
    assert re.fullmatch(
        r"assets/javascripts/workers/search\.[0-9a-f]+\.min\.js", settings["search"]
    )
    assert not (tmp_path / "site/search/zhiku-index.json").exists()

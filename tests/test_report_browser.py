"""The staff site's report pages in a real browser, built from a knowledge base in git
with an open flag and an unanswered-question log beside the repository (the default
place, read without any setting). Screenshots at 390 and 1280 px go to
ZHIKU_SCREENSHOT_DIR (default: the test's tmp folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_KB, build_site, git, init_kb_repo, serve_folder

from tooling.flags import default_unanswered_log, format_unanswered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LOGGED = [
    ("孩子放学后有没有托管班", "2026-11-28T09:00:00+00:00"),
    ("孩子放学后有没有托管班", "2026-11-29T09:00:00+00:00"),
    ("楼上漏水了谁来修", "2026-11-30T09:00:00+00:00"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("report")
    repo = init_kb_repo(tmp / "kb-repo", FIXTURE_KB)
    git(repo, "checkout", "-q", "-b", "flag/water-leak/a1")
    git(
        repo,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "反馈(答案错误): water-leak\n\n值班电话已改成 8801。\n\n"
        "Flag-Kind: wrong\nFlag-Entry: water-leak\nFlag-By: zhou-hong\nFlag-Id: a1\n",
        env={"GIT_AUTHOR_DATE": "2026-11-27T10:00:00+00:00"},
    )
    git(repo, "checkout", "-q", "main")
    # Where the feedback app writes it by default, in the format it writes.
    default_unanswered_log(repo / ".git").write_text(
        "".join(format_unanswered(q, "staff", 1, datetime.fromisoformat(t)) for q, t in LOGGED),
        encoding="utf-8",
    )
    out = tmp / "site"
    env = {"ZHIKU_QUERY_LOG": ""}
    build_site(repo / "kb", "staff", out, today="2026-12-01", env=env)
    with serve_folder(out) as url:
        yield {"url": url, "out": out, "shots": tmp}


def _shot(page: Any, site: dict[str, Any], name: str) -> None:
    folder = Path(os.environ.get("ZHIKU_SCREENSHOT_DIR") or site["shots"])
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.screenshot(path=str(folder / f"{name}-full.png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_health_page_links_entries_and_shows_notes_and_the_log(
    browser: Any, site: dict[str, Any], viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site["url"] + "knowledge-report/health/")
    content = page.locator("article")
    # Open flags: the entry is a link to its page, the staff member's note is shown.
    flags = content.locator("table", has=page.locator("th", has_text="反馈（谁提的：说明）"))
    row = flags.locator("tbody tr").first
    link = row.locator("a").first
    assert link.inner_text() == "家里漏水或者楼上往下渗水怎么办？"
    link_href = link.get_attribute("href") or ""
    assert link_href.endswith("repairs/water-leak/")
    assert "值班电话已改成 8801。" in row.inner_text()
    assert "(wrong)" not in content.inner_text() and "(missing)" not in content.inner_text()
    # No code font for ids and folders.
    assert content.locator("table code").count() == 0
    # 缺失知识 read the log beside the repository; the after-school question gets no
    # suggestion, the leak question gets the leak entry.
    missing = content.locator("table", has=page.locator("th", has_text="最接近的条目"))
    rows = {r.locator("td").first.inner_text(): r for r in missing.locator("tbody tr").all()}
    assert set(rows) == {"孩子放学后有没有托管班", "楼上漏水了谁来修"}
    assert rows["孩子放学后有没有托管班"].locator("td").last.inner_text() == "—"
    assert (
        rows["楼上漏水了谁来修"].locator("td a").inner_text() == "家里漏水或者楼上往下渗水怎么办？"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _shot(page, site, f"report-health-{viewport['width']}")
    page.goto(site["url"] + "knowledge-report/credit/")
    text = page.locator("article").inner_text()
    assert "Flag-By" not in text
    assert page.locator("article svg").count() == 1  # one flag this week: the weekly chart
    assert page.locator("article table").locator("tbody tr").first.inner_text().split() == [
        "1",
        "周红",
        "1",
        "0",
        "1",
    ]
    _shot(page, site, f"report-credit-{viewport['width']}")
    assert errors == []
    context.close()

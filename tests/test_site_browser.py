"""The built sites in a real browser: a phone screen, no outside requests, copy and search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import BuiltSites
from helpers import serve_folder

from tooling.site.mkdocs_plugin import DEFAULT_APP_URL

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site_urls(fixture_sites: BuiltSites) -> Iterator[dict[str, str]]:
    """Both built sites over HTTP on 127.0.0.1 (search and clipboard need http, not file:)."""
    with ExitStack() as stack:
        yield {
            audience: stack.enter_context(serve_folder(root))
            for audience, root in fixture_sites.sites.items()
        }


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    yield context
    context.close()


@pytest.mark.parametrize(
    ("audience", "path"),
    [
        ("staff", "fees/fee-waiver-authority/"),  # internal, a table in the rule
        ("staff", "community/renovation/renovation-hours/"),  # replies with copy buttons
        ("public", "community/renovation/renovation-hours/"),
        ("public", ""),
        ("staff", "community/"),
    ],
)
def test_phone_screen_no_horizontal_overflow(
    phone: Any, site_urls: dict[str, str], audience: str, path: str, tmp_path: Path
) -> None:
    page = phone.new_page()
    page.goto(site_urls[audience] + path)
    page.wait_for_load_state("networkidle")
    shot = tmp_path / f"{audience}-{path.strip('/').replace('/', '-') or 'home'}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a 390px screen; see {shot}"
    # The question is the first thing on the page, in a readable size.
    h1 = page.locator("article h1").first
    assert (
        float(page.evaluate("e => parseFloat(getComputedStyle(e).fontSize)", h1.element_handle()))
        >= 20
    )


def test_pages_request_nothing_from_outside(browser: Any, site_urls: dict[str, str]) -> None:
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    for audience, path in [
        ("public", ""),
        ("public", "community/renovation/renovation-hours/"),
        ("staff", "fees/fee-waiver-authority/"),
        ("staff", "desk/"),
    ]:
        page.goto(site_urls[audience] + path)
        page.wait_for_load_state("networkidle")
    context.close()
    # The staff site's feedback script talks to the feedback app (ZHIKU_APP_URL, local).
    local = (*site_urls.values(), DEFAULT_APP_URL)
    outside = [url for url in requests if not url.startswith((*local, "data:", "blob:"))]
    assert len(requests) > 10
    assert not outside


def test_copy_button_copies_the_reply(browser: Any, site_urls: dict[str, str]) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(site_urls["staff"] + "community/renovation/renovation-hours/")
    reply = page.locator(".zhiku-reply[data-tone=formal]")
    button = reply.locator(".zhiku-copy")
    button.click()
    page.wait_for_function(
        "() => document.querySelector("
        "'.zhiku-reply[data-tone=formal] .zhiku-copy').textContent === '已复制'"
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        "您好，本小区装修施工时间为工作日 8:30–12:00、14:00–18:00；"
        "周六仅限无噪音作业，周日及法定节假日全天停工。"
    )
    context.close()


def test_home_search_button_opens_search(browser: Any, site_urls: dict[str, str]) -> None:
    page = browser.new_page()
    page.goto(site_urls["public"])
    page.click("[data-zhiku-search]")
    page.wait_for_function(
        "() => document.activeElement && "
        "document.activeElement.matches('[data-md-component=search-query]')"
    )
    page.keyboard.type("装修时间")  # inserted as text, like an IME: no key events ...
    page.keyboard.press("End")  # ... and Material searches on keyup
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    assert "装修施工时间是几点到几点" in page.inner_text(".md-search-result")
    page.close()

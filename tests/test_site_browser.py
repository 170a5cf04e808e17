"""The built sites in a real browser: a phone screen, no outside requests, copy and search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import serve_folder
from test_site import eval_sites  # noqa: F401  (session fixture, built once)

from tooling.site.mkdocs_plugin import DEFAULT_APP_URL

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site_urls(eval_sites: dict[str, Path]) -> Iterator[dict[str, str]]:  # noqa: F811
    """Both built sites over HTTP on 127.0.0.1 (search and clipboard need http, not file:)."""
    with ExitStack() as stack:
        yield {
            audience: stack.enter_context(serve_folder(root))
            for audience, root in eval_sites.items()
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
        ("staff", "groupbuy/quality/gb-compensation-limits/"),  # internal, a table in the rule
        ("staff", "groupbuy/pickup/pickup-code/"),  # replies with copy buttons
        ("public", "groupbuy/pickup/pickup-code/"),
        ("public", ""),
        ("staff", "shop/orders/"),
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
        ("public", "groupbuy/pickup/pickup-code/"),
        ("staff", "groupbuy/quality/gb-compensation-limits/"),
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
    page.goto(site_urls["staff"] + "groupbuy/pickup/pickup-code/")
    reply = page.locator(".zhiku-reply[data-tone=formal]")
    button = reply.locator(".zhiku-copy")
    button.click()
    page.wait_for_function(
        "() => document.querySelector("
        "'.zhiku-reply[data-tone=formal] .zhiku-copy').textContent === '已复制'"
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        "您好，取货码可在 App「订单 → 待取货」中查看；如无法出示，"
        "可向团长报手机号后 4 位及收货人姓名核销取货。"
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
    page.keyboard.type("取货码")  # inserted as text, like an IME: no key events ...
    page.keyboard.press("End")  # ... and Material searches on keyup
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    assert "取货码在哪里看" in page.inner_text(".md-search-result")
    page.close()

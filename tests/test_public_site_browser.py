"""Both sites of a fixture knowledge base in Debian's chromium, at 1280 px and on a 390 px
phone: what a resident sees on the home, section, entry and 404 pages, the tappable
hotline, search that starts on pasted text, and the order of entries in a section.

Screenshots of every page type on both widths go to ``$ZHIKU_SCREENSHOTS`` (default:
the test's temporary folder) to be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF_YAML, build_site, entry_yaml, serve_folder

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TODAY = "2026-11-25"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SITE = """\
name: 青山小区服务中心
organisation: 青山物业服务有限公司
description:
  public: 青山小区业主和住户的常见问题，随时可查。
  staff: 青山小区服务中心内部知识库。
contacts:
  - {label: 24 小时服务热线, phone: "0571-8866-6600"}
  - {label: 微信小程序, text: 青山管家}
hours: 服务中心 8:30–17:30，报修热线 24 小时
address: 青山小区 2 号楼一层
"""
# Questions chosen so that id order, file order and pinyin order all differ.
REPAIRS = {
    "a-door.yaml": ("a-door", "门禁卡丢了怎么补办？", None),
    "b-power.yaml": ("b-power", "家里突然停电怎么办？", None),
    "c-lift.yaml": ("c-lift", "电梯坏了找谁？", None),
    "z-leak.yaml": ("z-leak", "水管漏水了怎么处理？", 1),
    "d-price.yaml": ("d-price", "户内维修收费吗？", None),
}
EXPECTED_ORDER = [
    "水管漏水了怎么处理？",  # order: 1
    "电梯坏了找谁？",  # dian
    "户内维修收费吗？",  # hu
    "家里突然停电怎么办？",  # jia
    "门禁卡丢了怎么补办？",  # men
]


def fixture_kb(root: Path) -> Path:
    files = {
        "_staff.yaml": STAFF_YAML,
        "_site.yaml": SITE,
        "repairs/_section.yaml": "title: 报修\norder: 1\ndescription: 户内维修和公共设施报修\n",
        "fees/_section.yaml": "title: 缴费\norder: 2\n",
        "fees/fee-standard.yaml": entry_yaml(
            "fee-standard",
            question="物业费多少钱一平米？",
            review_every="90d",
            phrasings="\n  - 物业费标准\n  - 管理费多少",
        ),
    }
    for name, (entry_id, question, order) in REPAIRS.items():
        extra = {"order": str(order)} if order is not None else {}
        files[f"repairs/{name}"] = entry_yaml(
            entry_id,
            question=question,
            phrasings=f"\n  - {question[:4]}问法一\n  - {question[:4]}问法二",
            **extra,
        )
    files["repairs/z-leak.yaml"] = entry_yaml(
        "z-leak",
        question="水管漏水了怎么处理？",
        order="1",
        phrasings="\n  - 漏水\n  - 楼上渗水",
        rule="|\n  先关总阀，再拨 24 小时服务热线。",
    )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base = tmp_path_factory.mktemp("public-site")
    kb = fixture_kb(base / "kb")
    sites = {a: build_site(kb, a, base / a, today=TODAY) for a in ("public", "staff")}
    with ExitStack() as stack:
        yield {a: stack.enter_context(serve_folder(site)) for a, site in sites.items()}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ZHIKU_SCREENSHOTS")
    target = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def new_page(browser: Any, phone: bool) -> Any:
    if phone:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    else:
        context = browser.new_context(viewport=DESKTOP)
    return context.new_page()


PAGES = [
    ("home", ""),
    ("section", "repairs/"),
    ("entry", "repairs/z-leak/"),
    ("404", "404.html"),
]


@pytest.mark.parametrize("audience", ["public", "staff"])
@pytest.mark.parametrize("phone", [False, True], ids=["1280", "390"])
def test_every_page_type_on_both_widths(
    browser: Any, urls: dict[str, str], shots: Path, audience: str, phone: bool
) -> None:
    page = new_page(browser, phone)
    width = PHONE["width"] if phone else DESKTOP["width"]
    name = "青山小区服务中心" + ("（客服版）" if audience == "staff" else "")
    for kind, path in PAGES:
        page.goto(urls[audience] + path)
        page.wait_for_load_state("networkidle")
        shot = shots / f"{audience}-{kind}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{audience} {kind} is {scroll}px wide; see {shot}"
        assert page.title() in (name, f"{page.inner_text('article h1')} - {name}")
        assert page.locator(".md-header__topic").first.inner_text() == name
        footer = page.locator(".zhiku-footer")
        assert "青山物业服务有限公司" in footer.inner_text()
        assert footer.locator("a.zhiku-tel").get_attribute("href") == "tel:057188666600"
        assert "Made with" not in page.content()
    page.context.close()


def test_phone_home_speaks_to_residents(browser: Any, urls: dict[str, str]) -> None:
    page = new_page(browser, phone=True)
    page.goto(urls["public"])
    article = page.inner_text("article")
    assert article.startswith("青山小区服务中心\n")
    assert "青山小区业主和住户的常见问题，随时可查。" in article
    assert "有问题先搜一搜" in article
    for wording in ("客户", "顶部的搜索框", "快捷键", "内部知识库"):
        assert wording not in article
    # The hotline is a link a thumb can hit, above the fold.
    hotline = page.locator(".zhiku-hotline a.zhiku-tel")
    assert hotline.get_attribute("href") == "tel:057188666600"
    box = hotline.bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"]
    assert box["height"] >= 24
    # Search is the header's icon on a phone.
    assert page.locator("label.md-header__button[for=__search]").is_visible()
    contacts = page.locator("article .zhiku-contacts").inner_text()
    assert "微信小程序\n青山管家" in contacts and "青山小区 2 号楼一层" in contacts
    page.context.close()


def test_staff_shortcuts_only_where_there_is_a_keyboard(browser: Any, urls: dict[str, str]) -> None:
    desktop = new_page(browser, phone=False)
    desktop.goto(urls["staff"])
    assert desktop.locator(".zhiku-search-keys").is_visible()
    desktop.context.close()
    phone = new_page(browser, phone=True)
    phone.goto(urls["staff"])
    assert phone.locator(".zhiku-search-keys").is_hidden()
    phone.context.close()


@pytest.mark.parametrize("how", ["input", "paste"])
def test_pasted_text_starts_the_search(browser: Any, urls: dict[str, str], how: str) -> None:
    """Long-press paste on a phone gives the field text without any key press."""
    page = new_page(browser, phone=True)
    page.goto(urls["public"])
    page.wait_for_load_state("networkidle")
    page.tap("[data-zhiku-search]")
    query = page.locator("[data-md-component=search-query]")
    query.wait_for(state="visible")
    page.wait_for_function(
        "() => document.activeElement && "
        "document.activeElement.matches('[data-md-component=search-query]')"
    )
    if how == "input":
        page.keyboard.insert_text("漏水")  # an input event, no keydown/keyup
    else:
        query.evaluate(
            """el => {
                const data = new DataTransfer();
                data.setData('text/plain', '漏水');
                el.value = '漏水';
                el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
            }"""
        )
    page.wait_for_selector(".md-search-result__item", timeout=10_000)
    assert "水管漏水了怎么处理" in page.inner_text(".md-search-result")
    assert page.inner_text(".md-search-result__meta") != "键入以开始搜索"
    page.context.close()


@pytest.mark.parametrize("audience", ["public", "staff"])
def test_section_lists_explicit_order_then_pinyin(
    browser: Any, urls: dict[str, str], audience: str
) -> None:
    page = new_page(browser, phone=False)
    page.goto(urls[audience] + "repairs/")
    links = page.locator("article li > a").all_inner_texts()
    assert links == EXPECTED_ORDER
    page.context.close()


def test_dates_and_intervals_read_as_text(browser: Any, urls: dict[str, str]) -> None:
    page = new_page(browser, phone=False)
    page.goto(urls["staff"] + "fees/fee-standard/")
    meta = page.inner_text(".zhiku-meta")
    assert "最近核对：2026年10月1日" in meta and "复核周期：90 天" in meta
    assert page.locator(".zhiku-meta code").count() == 0
    page.goto(urls["public"])
    date = page.locator(".zhiku-date").first
    assert date.inner_text() == "2026年10月1日"
    family = date.evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" not in family.lower()
    page.context.close()


@pytest.mark.parametrize("audience", ["public", "staff"])
def test_404_leads_back_home(browser: Any, urls: dict[str, str], audience: str) -> None:
    page = new_page(browser, phone=True)
    page.goto(urls[audience] + "404.html")
    assert page.inner_text("article h1") == "没有找到这个页面"
    assert "404 - Not found" not in page.content()
    page.click("a.zhiku-home-link")
    page.wait_for_load_state()
    assert page.url == urls[audience]
    page.context.close()

"""The staff site's own search, in a real browser: Material's search box and result
list, driven by the Zhiku worker (assets/javascripts/workers/zhiku-search-worker.js).

The site is the real ``kb build --audience staff`` output for the fixture KB (built
once per run, conftest's ``fixture_sites``); one more test measures the hit rates on
the shared eval KB when it is beside the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _search_harness import answerable_queries, entry_id_of, hit_rates
from conftest import (
    EVAL_KB,
    EVAL_QUERIES,
    FIXTURE_QUERIES,
    BuiltSites,
    build_site,
    require_shared_eval,
    serve_folder,
)

from tooling.site.search_index import not_sure, search

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The eval KB has notices that expire in early 2027; judge its build as of a fixed day.
BUILD_DAY = "2026-12-01"
SEARCH_INPUT = "input[data-md-component=search-query]"
RESULT_LINKS = ".md-search-result__list > li > a.md-search-result__link"
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def staff_site(fixture_sites: BuiltSites) -> Path:
    out = fixture_sites["staff"]
    assert (out / "search" / "zhiku-index.json").is_file(), "kb build wrote no search index"
    return out


@pytest.fixture(scope="module")
def site_url(staff_site: Path) -> Iterator[str]:
    with serve_folder(staff_site) as url:
        yield url


@pytest.fixture(scope="module")
def eval_site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_shared_eval()
    out = tmp_path_factory.mktemp("search") / "staff"
    build_site(EVAL_KB, "staff", out, today=BUILD_DAY)
    with serve_folder(out) as url:
        yield url


def _open(browser: Any, url: str) -> Iterator[Any]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    yield page
    page.close()
    assert errors == []


@pytest.fixture
def page(browser: Any, site_url: str) -> Iterator[Any]:
    yield from _open(browser, site_url)


@pytest.fixture
def eval_page(browser: Any, eval_site_url: str) -> Iterator[Any]:
    yield from _open(browser, eval_site_url)


def ask(page: Any, query: str) -> list[str]:
    """Type ``query`` into Material's search box; the result links, best first."""
    box = page.locator(SEARCH_INPUT)
    # Clear first and wait for the empty list, so the next list is this query's.
    box.fill("")
    box.press("End")
    page.wait_for_function(f"!document.querySelector({json.dumps(RESULT_LINKS)})", timeout=WAIT_MS)
    box.fill(query)
    box.press("End")
    page.wait_for_function(f"document.querySelector({json.dumps(RESULT_LINKS)})", timeout=WAIT_MS)
    links: list[str] = page.eval_on_selector_all(RESULT_LINKS, "els => els.map(a => a.href)")
    # The 没有找到可信的答案 notice links to "#", not to an entry.
    return [link for link in links if not link.endswith("#")]


def test_fixture_questions_hit_rates(page: Any) -> None:
    page.locator(SEARCH_INPUT).focus()
    rows = answerable_queries(FIXTURE_QUERIES)
    hit1, hit5 = hit_rates(rows, lambda q: [entry_id_of(link) for link in ask(page, q)])
    print(
        f"\nbrowser search, staff site of the fixture KB: hit@1 {hit1:.3f}, "
        f"hit@5 {hit5:.3f} over {len(rows)} answerable questions"
    )
    assert hit1 >= 0.75
    assert hit5 >= 0.90


def test_dev_questions_hit_rates(eval_page: Any) -> None:
    """Quality on the large shared eval KB (its fixture twin is the test above)."""
    eval_page.locator(SEARCH_INPUT).focus()
    rows = answerable_queries(EVAL_QUERIES)
    hit1, hit5 = hit_rates(rows, lambda q: [entry_id_of(link) for link in ask(eval_page, q)])
    print(
        f"\nbrowser search, staff site of the eval KB: hit@1 {hit1:.3f}, "
        f"hit@5 {hit5:.3f} over {len(rows)} answerable dev questions"
    )
    assert hit1 >= 0.75
    assert hit5 >= 0.90


def test_traditional_characters_find_the_elevator_entry(page: Any) -> None:
    page.locator(SEARCH_INPUT).focus()
    links = ask(page, "電梯壞了")
    assert entry_id_of(links[0]) == "elevator-fault"
    first = page.locator(".md-search-result__list > li").first
    assert "电梯" in first.locator("h1").inner_text()
    assert first.locator("mark").count() > 0  # the matching words are highlighted


PINYIN_QUESTIONS = ["dianti huaile", "diantihuaile", "baoxiu dianhua", "电梯 wifi"]


def test_a_question_typed_in_pinyin_finds_its_entry(page: Any) -> None:
    page.locator(SEARCH_INPUT).focus()
    assert entry_id_of(ask(page, "dianti huaile")[0]) == "elevator-fault"
    assert entry_id_of(ask(page, "diantihuaile")[0]) == "elevator-fault"


def test_keyboard_picks_a_result_and_opens_its_page(page: Any, site_url: str) -> None:
    page.locator(SEARCH_INPUT).focus()
    ask(page, "楼上往下滴水怎么办")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert "water-leak" in focused
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/repairs/water-leak/" in page.url
    assert "漏水" in page.locator("h1").first.inner_text()


def test_material_query_syntax_is_ignored(page: Any) -> None:
    page.locator(SEARCH_INPUT).focus()
    plain = ask(page, "天花板 滴水")
    assert ask(page, "+天花板* -滴水~2") == plain


def test_worker_protocol_and_reference_ranking(page: Any, staff_site: Path) -> None:
    """Talk to the worker directly, as Material does; its ranking equals the reference."""
    index = json.loads((staff_site / "search" / "zhiku-index.json").read_text("utf-8"))
    # ... and questions typed in pinyin, whose syllable pairs are looked up too.
    queries = [q for q, _ in answerable_queries(FIXTURE_QUERIES)] + PINYIN_QUESTIONS
    replies = page.evaluate(
        """async queries => {
          const worker = new Worker("assets/javascripts/workers/zhiku-search-worker.js")
          const next = () => new Promise(resolve =>
            worker.addEventListener("message", ev => resolve(ev.data), { once: true }))
          worker.postMessage({ type: 0, data: { config: {}, docs: [], options: {} } })
          const ready = await next()
          const results = []
          for (const query of ["", ...queries]) {
            worker.postMessage({ type: 2, data: query })
            results.push(await next())
          }
          worker.terminate()
          return { ready, results }
        }""",
        queries,
    )
    assert replies["ready"] == {"type": 1}
    empty, *results = replies["results"]
    assert empty == {"type": 3, "data": {"items": []}}
    for query, message in zip(queries, results, strict=True):
        assert message["type"] == 3
        items = message["data"]["items"]
        assert all(
            len(group) == 1 and set(group[0]) == {"location", "title", "text", "score", "terms"}
            for group in items
        )
        unsure = not_sure(index, query)
        assert (items[0][0]["location"] == "#") == unsure, query
        entries = items[1:] if unsure else items
        got = [(g[0]["location"], round(g[0]["score"], 9)) for g in entries[:5]]
        want = [(loc, round(score, 9)) for loc, score in search(index, query, limit=5)]
        assert got == want, query


def test_low_coverage_says_no_trusted_answer(page: Any) -> None:
    page.locator(SEARCH_INPUT).focus()
    links = ask(page, "小区旁边的地铁几点有首班车")
    first = page.locator(".md-search-result__list > li").first
    assert first.locator("h1").inner_text() == "没有找到可信的答案：下面的条目仅供参考"
    assert links  # the nearest entries are still listed as suggestions
    # Material's count line does not claim matching results above the notice.
    # It offers the team's first phone contact (from the footer) as a tap-to-call link.
    meta = page.locator(".md-search-result__meta")
    page.wait_for_function(
        "(m => m.firstChild && m.firstChild.nodeValue === '没有把握：下列条目仅供参考'"
        " && m.querySelector('.zhiku-search-help'))"
        "(document.querySelector('.md-search-result__meta'))",
        timeout=WAIT_MS,
    )
    footer_tel = page.locator(".zhiku-footer-contacts a.zhiku-tel").first
    call = meta.locator(".zhiku-search-help a.zhiku-tel")
    assert call.count() == 1
    assert call.get_attribute("href") == footer_tel.get_attribute("href")
    assert call.get_attribute("href").startswith("tel:")
    assert "服务热线" in meta.inner_text() and footer_tel.inner_text() in meta.inner_text()
    ask(page, "電梯壞了")
    first = page.locator(".md-search-result__list > li").first
    assert not first.locator("h1").inner_text().startswith("没有找到可信的答案")
    assert "符合条件的结果" in meta.inner_text()
    assert meta.locator(".zhiku-search-help").count() == 0  # a sure answer needs no hotline


def test_nothing_found_offers_the_hotline(page: Any) -> None:
    box = page.locator(SEARCH_INPUT)
    box.focus()
    box.fill("☃☃☃")
    box.press("End")
    page.wait_for_function(
        "document.querySelector('.md-search-result__meta .zhiku-search-help')", timeout=WAIT_MS
    )
    meta = page.locator(".md-search-result__meta").inner_text()
    assert "没有找到符合条件的结果" in meta and "020-8765-4321" in meta
    assert page.locator(RESULT_LINKS).count() == 0

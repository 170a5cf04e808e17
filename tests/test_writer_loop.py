"""The writer's loop: `kb new`, then editing with `kb serve` open in a browser.

A typo keeps the last good page with the error bar over it (paths relative to
the knowledge base, one typo one error) and the page recovers by itself on the
next good save; an untouched `kb new` starter fails validation, says what to
fill in, and never reaches a site. The server is a real `kb serve` in a
subprocess; the browser is Debian's chromium.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT, entry_yaml, fetch, kb_serve, wait_for

from tooling.cli import main
from tooling.kb.check import validate
from tooling.site.lastgood import LastGood

MakeKb = Callable[[dict[str, str | bytes]], Path]
TODAY = "2026-11-25"


def problems(root: Path) -> list[str]:
    return [p.format() for p in validate(root, date.fromisoformat(TODAY)).problems]


# --- one typo, one error ----------------------------------------------------------------------


def test_misspelt_required_key_is_one_error_with_the_right_name(make_kb: MakeKb) -> None:
    text = entry_yaml("leak").replace("phrasings:", "phrasing:")
    root = make_kb({"repairs/leak.yaml": text})
    assert problems(root) == [
        "repairs/leak.yaml:10:1: error: 未知字段 `phrasing` — 是不是想写 `phrasings`?"
    ]


def test_misspelt_key_inside_a_scenario_is_one_error(make_kb: MakeKb) -> None:
    root = make_kb(
        {"repairs/leak.yaml": entry_yaml("leak", scenarios="\n  - cas: 一种情况\n    answer: 答")}
    )
    assert problems(root) == [
        "repairs/leak.yaml:8:5: error: `scenarios[1]` 里未知字段 `cas` — 是不是想写 `case`?"
    ]


def test_unknown_key_next_to_the_right_one_still_reports_nothing_missing(make_kb: MakeKb) -> None:
    """`phrasing:` beside a present `phrasings:` is an unknown key; nothing is missing."""
    root = make_kb({"repairs/leak.yaml": entry_yaml("leak", phrasing="[再问一遍]")})
    assert problems(root) == [
        "repairs/leak.yaml:14:1: error: 未知字段 `phrasing` — 是不是想写 `phrasings`?"
    ]


def test_a_missing_required_key_without_a_near_miss_is_still_reported(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/leak.yaml": entry_yaml("leak", phrasings=None, colour="红")})
    assert problems(root) == [
        "repairs/leak.yaml:1:1: error: 缺少必填字段 `phrasings` — "
        "加上 `phrasings:`(衍生问法:大家实际怎么问,至少 2 条,搜索会用到)",
        "repairs/leak.yaml:11:1: error: 未知字段 `colour` — 可用的字段:id, question, owner, "
        "rule, phrasings, scenarios, audience, tags, replies, handoff, related, links, "
        "reviewed, review_every, expires, order",
    ]


# --- kb new: an untouched starter fails and says what to fill in --------------------------------


def test_untouched_kb_new_starter_fails_with_what_to_fill_in(
    make_kb: MakeKb, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb({"repairs/_section.yaml": "title: 报修\n"})
    assert main(["new", "repairs/door-lock", "--kb", str(root), "--owner", "li-na"]) == 0
    path = root / "repairs" / "door-lock.yaml"
    assert capsys.readouterr().out.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert "id: door-lock\n" in text and "owner: li-na\n" in text
    assert text.count("\n# ") >= 10  # every field is explained
    hint = "把【待填写…】连同括号换成真实内容；不需要的可选字段可以整段删掉"
    assert problems(root) == [
        f"repairs/door-lock.yaml:6:11: error: `question` 还是模板里的占位内容："
        f"【待填写：住户或客户会怎么问，写成一句完整的问题】 — {hint}",
        f"repairs/door-lock.yaml:16:7: error: `rule` 还是模板里的占位内容："
        f"【待填写：核心规则，写清时间、金额、谁负责】 — {hint}",
        f"repairs/door-lock.yaml:20:11: error: `scenarios[1].case` 还是模板里的占位内容："
        f"【待填写：一个具体情况】 — {hint}",
        f"repairs/door-lock.yaml:21:13: error: `scenarios[1].answer` 还是模板里的占位内容："
        f"【待填写：这种情况怎么答复】 — {hint}",
        f"repairs/door-lock.yaml:24:5: error: `phrasings[1]` 还是模板里的占位内容："
        f"【待填写：第一种问法】 — {hint}",
        f"repairs/door-lock.yaml:25:5: error: `phrasings[2]` 还是模板里的占位内容："
        f"【待填写：第二种问法】 — {hint}",
    ]
    # Nothing of the starter is in the model, so no site can show it.
    assert validate(root).kb.entry("door-lock") is None


def test_filled_in_starter_validates(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb({"repairs/_section.yaml": "title: 报修\n"})
    assert main(["new", "repairs/door-lock", "--kb", str(root)]) == 0
    path = root / "repairs" / "door-lock.yaml"
    text = path.read_text(encoding="utf-8")
    for marker, value in [
        ("【待填写：住户或客户会怎么问，写成一句完整的问题】", "门锁坏了怎么办？"),
        ("【待填写：核心规则，写清时间、金额、谁负责】", "拨打服务热线报修。"),
        ("【待填写：一个具体情况】", "半夜锁坏了"),
        ("【待填写：这种情况怎么答复】", "24 小时都可以报修。"),
        ("【待填写：第一种问法】", "门锁打不开"),
        ("【待填写：第二种问法】", "门锁坏了找谁"),
    ]:
        text = text.replace(marker, value)
    path.write_text(text, encoding="utf-8")
    result = validate(root)
    assert result.errors == []
    entry = result.kb.entry("door-lock")
    assert entry is not None and entry.owner == "zhang-wei"  # the roster's first handle


def test_build_refuses_an_untouched_starter(
    make_kb: MakeKb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb({"repairs/ok.yaml": entry_yaml("ok")})
    assert main(["new", "repairs/door-lock", "--kb", str(root)]) == 0
    out = tmp_path / "site"
    code = main(
        ["build", "--kb", str(root), "--out", str(out), "--config", str(REPO_ROOT / "mkdocs.yml")]
    )
    assert code == 1
    assert not out.exists()
    assert "repairs/door-lock.yaml:6:11: error: `question` 还是模板里的占位内容" in (
        capsys.readouterr().err
    )


def test_kb_new_refuses_overwrite_and_unknown_section(
    make_kb: MakeKb, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb({"repairs/_section.yaml": "title: 报修\n"})
    assert main(["new", "repairs/a", "--kb", str(root)]) == 0
    before = (root / "repairs" / "a.yaml").read_bytes()
    capsys.readouterr()
    assert main(["new", "repairs/a", "--kb", str(root)]) == 2
    assert (root / "repairs" / "a.yaml").read_bytes() == before
    assert capsys.readouterr().err == (
        f"kb: error: {root}/repairs/a.yaml already exists; choose another id\n"
    )
    assert main(["new", "nowhere/b", "--kb", str(root)]) == 2
    assert capsys.readouterr().err == (
        f"kb: error: section 'nowhere' not found: create {root}/nowhere/_section.yaml "
        "with `title:` first\n"
    )


# --- the last good version of each broken file ----------------------------------------------


def test_last_good_keeps_broken_entries_sections_and_identity(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/leak.yaml": entry_yaml("leak", question="漏水找谁?"),
            "fees/fee.yaml": entry_yaml("fee", question="物业费多少?"),
        }
    )
    last_good = LastGood()
    first = validate(root)
    kb, kept = last_good.merge(first.kb, first.errors)
    assert kept == [] and kb is first.kb

    leak = root / "repairs" / "leak.yaml"
    leak.write_text(leak.read_text(encoding="utf-8").replace("phrasings:", "phrasing:"))
    (root / "fees" / "_section.yaml").write_text("titel: 缴费\n", encoding="utf-8")
    (root / "_site.yaml").write_text("name: 测试服务中心\nhotline: 1\n", encoding="utf-8")
    broken = validate(root)
    assert broken.kb.entry("leak") is None and broken.kb.section("fees") is None
    assert broken.kb.site.name == "知库"
    kb, kept = last_good.merge(broken.kb, broken.errors)
    assert kept == ["_site.yaml", "fees/_section.yaml", "repairs/leak.yaml"]
    assert kb.entry("leak") == first.kb.entry("leak")
    assert kb.section("fees") == first.kb.section("fees")
    assert kb.site == first.kb.site and kb.site.name == "测试服务中心"

    # A deleted file is gone, not kept.
    leak.unlink()
    gone = validate(root)
    kb, kept = last_good.merge(gone.kb, gone.errors)
    assert "repairs/leak.yaml" not in kept and kb.entry("leak") is None


# --- kb serve in a browser: keep the last good page, recover by itself ------------------------


@pytest.fixture
def served(make_kb: MakeKb, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base url, kb folder)`` of a real ``kb serve`` on a free port."""
    kb = make_kb(
        {
            "repairs/no-water.yaml": entry_yaml("no-water", question="家里没水了怎么办?"),
            "repairs/leak.yaml": entry_yaml("leak", question="漏水找谁?"),
        }
    )
    log = tmp_path / "serve.log"
    with kb_serve(kb, log, ready=("repairs/no-water/", "家里没水了怎么办")) as base:
        yield base, kb


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.slow
@pytest.mark.browser
def test_typo_keeps_the_last_good_page_and_recovers_by_itself(
    served: tuple[str, Path], browser: Any, tmp_path: Path
) -> None:
    base, kb = served
    path = kb / "repairs" / "no-water.yaml"
    good = path.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "repairs/no-water/")
    assert page.inner_text("article h1") == "家里没水了怎么办?"

    # Save with a typo (and a changed rule): the page reloads itself, keeps the last good
    # content, and shows the one error with its path relative to the knowledge base.
    path.write_text(
        good.replace("phrasings:", "phrasing:").replace("核心规则第一行。", "改了一半"),
        encoding="utf-8",
    )
    page.wait_for_selector(".zhiku-problems", timeout=15_000)
    page.screenshot(path=str(tmp_path / "serve-typo-1280.png"), full_page=True)
    assert page.inner_text("article h1") == "家里没水了怎么办?"
    assert "核心规则第一行。" in page.inner_text("article")
    bar = page.inner_text(".zhiku-problems")
    assert "知识库有 1 个错误" in bar
    assert page.locator(".zhiku-problems li").all_inner_texts() == [
        "repairs/no-water.yaml:10:1 未知字段 `phrasing`\n是不是想写 `phrasings`?"
    ]
    assert str(kb) not in page.content()
    assert status_of(base + "repairs/no-water/") == 200

    # The next good save: the bar goes and the new text shows, without touching the page.
    path.write_text(good.replace("核心规则第一行。", "先关总阀再报修。"), encoding="utf-8")
    page.wait_for_selector(".zhiku-problems", state="detached", timeout=15_000)
    page.wait_for_function(
        "() => (document.querySelector('article')?.innerText ?? '').includes('先关总阀再报修。')",
        timeout=15_000,
    )
    page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_missing_page_is_a_chinese_404_that_comes_back_by_itself(
    served: tuple[str, Path], browser: Any, tmp_path: Path
) -> None:
    """A new starter is not on the site until filled in; its open 404 page reloads itself."""
    base, kb = served
    assert main(["new", "repairs/door-lock", "--kb", str(kb)]) == 0
    url = base + "repairs/door-lock/"
    wait_for(base, "知识库有 6 个错误")
    assert status_of(url) == 404
    html = fetch(url)
    assert "没有找到这个页面" in html and "404 - Not found" not in html
    assert "livereload" in html
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    assert page.inner_text("article h1") == "没有找到这个页面"
    assert "repairs/door-lock.yaml:6:11 `question` 还是模板里的占位内容" in page.inner_text(
        ".zhiku-problems"
    )
    page.screenshot(path=str(tmp_path / "serve-404-390.png"), full_page=True)

    path = kb / "repairs" / "door-lock.yaml"
    text = path.read_text(encoding="utf-8")
    for marker, value in [
        ("【待填写：住户或客户会怎么问，写成一句完整的问题】", "门锁坏了怎么办？"),
        ("【待填写：核心规则，写清时间、金额、谁负责】", "拨打服务热线报修。"),
        ("【待填写：一个具体情况】", "半夜锁坏了"),
        ("【待填写：这种情况怎么答复】", "24 小时都可以报修。"),
        ("【待填写：第一种问法】", "门锁打不开"),
        ("【待填写：第二种问法】", "门锁坏了找谁"),
    ]:
        text = text.replace(marker, value)
    path.write_text(text, encoding="utf-8")
    # While live reload swaps the page in, there is a moment with no article yet.
    page.wait_for_function(
        "() => document.querySelector('article h1')?.innerText === '门锁坏了怎么办？'",
        timeout=15_000,
    )
    assert page.locator(".zhiku-problems").count() == 0
    page.close()

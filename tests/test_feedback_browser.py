"""The feedback panel in a real browser, against the running app, on a phone-sized screen."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, build_site, git, serve_folder
from werkzeug.serving import make_server

from feedback_app import create_app
from feedback_app.auth import TokenStore

pytestmark = pytest.mark.browser

ASSETS = REPO_ROOT / "tooling" / "site" / "assets"
ENTRY = """\
id: return-window
question: 7天无理由退货从哪天开始算?
owner: li-na
rule: |
  7天无理由退货的期限从签收之日的次日起算。
scenarios:
  - case: 快递路上走了3天
    answer: 仍在期限内,可以申请。
phrasings:
  - 超过7天了还能退吗
  - 七天无理由从哪天算
reviewed: 2026-10-01
"""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def stack(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    make_repo: Callable[[Path], Path],
    tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    """A git repo, the app on a real port, and a static folder served from another origin."""
    repo = make_repo(make_kb({"returns/return-window.yaml": ENTRY}))
    token = TokenStore(tmp_path / "tokens.json").issue("zhang-wei")
    with serve_folder(tmp_path / "site") as base_url:
        site_url = base_url.rstrip("/")
        app = create_app(
            {
                "REPO": str(repo),
                "TOKENS_FILE": str(tmp_path / "tokens.json"),
                "CORS_ORIGINS": site_url,
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield {
            "repo": repo,
            "token": token,
            "site": tmp_path / "site",
            "site_url": site_url,
            "app_url": f"http://127.0.0.1:{server.server_port}",
        }
        server.shutdown()
        server.server_close()


def _minimal_page(folder: Path, app_url: str) -> str:
    """A stand-in for a staff entry page: the meta tag, the container and the script."""
    for name in ("zhiku-feedback.js", "zhiku-feedback.css"):
        (folder / name).write_bytes((ASSETS / name).read_bytes())
    (folder / "entry.html").write_text(
        f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="zhiku-app" content="{app_url}">
<title>7天无理由退货从哪天开始算?</title></head>
<body><h1>7天无理由退货从哪天开始算?</h1><p>正文。</p>
<div class="zhiku-feedback" data-entry="return-window"></div>
<script src="zhiku-feedback.js"></script></body></html>
""",
        encoding="utf-8",
    )
    return "entry.html"


def _new_page(browser: Any, viewport: dict[str, int] = PHONE) -> tuple[Any, list[str]]:
    phone = viewport == PHONE
    context = browser.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _flag_through_the_panel(page: Any, stack: dict[str, Any]) -> str:
    panel = page.locator(".zhiku-feedback")
    panel.locator(".zf-token").fill(stack["token"])
    panel.get_by_role("button", name="登录").click()
    page.wait_for_function("document.querySelector('.zf-count').textContent === '暂无待处理反馈'")
    panel.get_by_role("button", name="场景缺失").click()
    assert panel.get_by_role("button", name="场景缺失").get_attribute("aria-pressed") == "true"
    panel.locator(".zf-note").fill("没有写节假日签收的情况")
    panel.get_by_role("button", name="提交反馈").click()
    branch = panel.locator(".zf-branch")
    branch.wait_for()
    assert (
        panel.locator(".zf-status")
        .inner_text()
        .startswith("已提交，谢谢！知识库负责人会尽快处理。")
    )
    page.wait_for_function(
        "document.querySelector('.zf-count').textContent === '本条目有 1 条待处理反馈'"
    )
    return _branch(page)


def _branch(page: Any) -> str:
    text = str(page.locator(".zhiku-feedback .zf-branch").inner_text())
    assert text.startswith("审核分支：")
    return text.removeprefix("审核分支：")


def _fits_the_phone(page: Any) -> None:
    box = page.locator(".zhiku-feedback .zf").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_panel_flags_an_entry_from_a_phone(browser: Any, stack: dict[str, Any]) -> None:
    path = _minimal_page(stack["site"], stack["app_url"])
    page, errors = _new_page(browser)
    page.goto(f"{stack['site_url']}/{path}")
    page.locator(".zf-token").wait_for()
    _fits_the_phone(page)

    branch = _flag_through_the_panel(page, stack)

    repo = stack["repo"]
    assert branch.startswith("flag/return-window/")
    assert (
        git(repo, "log", "-1", "--format=%an|%ae|%s", branch).strip()
        == "张伟|zhang.wei@example.com|反馈(场景缺失): return-window"
    )
    _fits_the_phone(page)

    # A proposed fix, chosen in the panel.
    panel = page.locator(".zhiku-feedback")
    panel.get_by_role("button", name="表述模糊").click()
    panel.locator(".zf-note").fill("常见问法少了一种")
    panel.locator(".zf-fix summary").click()
    panel.locator(".zf-proposal").select_option("add_phrasing")
    panel.locator(".zf-fix-fields input").fill("节假日签收从哪天算")
    panel.get_by_role("button", name="提交反馈").click()
    page.wait_for_function(
        "document.querySelector('.zf-count').textContent === '本条目有 2 条待处理反馈'"
    )
    second = _branch(page)
    assert second != branch
    assert "+  - 节假日签收从哪天算\n" in git(repo, "diff", "main", second)

    # The token is remembered; 退出 forgets it.
    page.reload()
    page.locator(".zf-note").wait_for()
    assert page.locator(".zf-signin").is_hidden()
    panel.get_by_role("link", name="退出").click()
    assert page.locator(".zf-token").is_visible()
    assert page.evaluate("localStorage.getItem('zhiku-feedback-token')") is None
    assert errors == []
    page.context.close()


def test_wrong_token_and_server_errors_are_explained(browser: Any, stack: dict[str, Any]) -> None:
    path = _minimal_page(stack["site"], stack["app_url"])
    page, errors = _new_page(browser)
    page.goto(f"{stack['site_url']}/{path}")
    page.locator(".zf-token").fill("zk_not-a-token")
    page.get_by_role("button", name="登录").click()
    page.wait_for_function(
        "document.querySelector('.zf-status').textContent === '令牌无效，请检查后重试。'"
    )
    page.locator(".zf-token").fill(stack["token"])
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="答案错误").click()
    page.locator(".zf-note").fill("规则太长")
    page.locator(".zf-fix summary").click()
    page.locator(".zf-proposal").select_option("add_phrasing")
    page.locator(".zf-fix-fields input").fill("超过7天了还能退吗")  # already a phrasing
    page.get_by_role("button", name="提交反馈").click()
    detail = page.locator(".zf-detail")
    detail.wait_for()
    assert "问法“超过7天了还能退吗”与 本条目" in detail.inner_text()
    assert ".yaml" not in page.locator(".zf-status").inner_text()  # no file:line:col
    assert page.locator(".zf-note").input_value() == "规则太长"  # nothing typed is lost
    assert errors == []
    page.context.close()


def test_panel_degrades_calmly_when_the_app_is_unreachable(browser: Any, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with serve_folder(tmp_path / "offline") as site_url:
        path = _minimal_page(tmp_path / "offline", dead)
        page, errors = _new_page(browser)
        page.add_init_script("localStorage.setItem('zhiku-feedback-token', 'zk_saved')")
        page.goto(f"{site_url}{path}")
        status = page.locator(".zf-status")
        page.wait_for_function("document.querySelector('.zf-status').textContent !== ''")
        assert status.inner_text() == "反馈服务暂时无法连接，请稍后再试。页面其他内容不受影响。"
        assert page.locator("h1").inner_text() == "7天无理由退货从哪天开始算?"
        page.get_by_role("button", name="答案错误").click()
        page.locator(".zf-note").fill("写好的说明")
        page.get_by_role("button", name="提交反馈").click()
        page.wait_for_function(
            "document.querySelector('.zf-status').textContent.includes('你写的内容还在')"
        )
        assert page.locator(".zf-note").input_value() == "写好的说明"
        _fits_the_phone(page)
        assert errors == []
        page.context.close()


def test_panel_on_a_built_staff_site_page(
    browser: Any, stack: dict[str, Any], tmp_path: Path
) -> None:
    """The real integration: `kb build --audience staff` adds the container, meta tag,
    script and stylesheet to each entry page."""
    build_site(
        stack["repo"] / "kb", "staff", stack["site"], env={"ZHIKU_APP_URL": stack["app_url"]}
    )
    pages = list(stack["site"].rglob("return-window/index.html"))
    assert len(pages) == 1
    rel = pages[0].relative_to(stack["site"]).as_posix()
    page, errors = _new_page(browser)
    page.goto(f"{stack['site_url']}/{rel}")
    page.locator(".zhiku-feedback .zf-token").wait_for()

    branch = _flag_through_the_panel(page, stack)

    assert git(stack["repo"], "log", "-1", "--format=%an", branch).strip() == "张伟"
    _fits_the_phone(page)
    assert errors == []
    page.context.close()


def _signed_in(page: Any, stack: dict[str, Any]) -> Any:
    panel = page.locator(".zhiku-feedback")
    panel.get_by_label("个人令牌").fill(stack["token"])
    panel.get_by_role("button", name="登录").click()
    page.wait_for_function("document.querySelector('.zf-count').textContent === '暂无待处理反馈'")
    return panel


def test_fields_have_labels_and_retries_keep_their_idempotency_key(
    browser: Any, stack: dict[str, Any]
) -> None:
    path = _minimal_page(stack["site"], stack["app_url"])
    page, errors = _new_page(browser)
    keys: list[str] = []
    attempts = {"n": 0}

    def handle(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        attempts["n"] += 1
        if attempts["n"] == 1:
            route.abort()  # the answer is lost: the staff member retries
        else:
            route.continue_()

    page.route(re.compile(r"/api/flags$"), handle)
    page.goto(f"{stack['site_url']}/{path}")
    panel = _signed_in(page, stack)
    # Every field has a visible label; the examples are neutral (no shop example).
    panel.get_by_role("button", name="答案错误").click()
    note = panel.get_by_label("说明（必填）：哪里不对，正确的应该是什么")
    assert note.is_visible()
    assert note.get_attribute("placeholder") == "例如：第二步说的电话已经停用了，现在应该打 8800。"
    panel.locator(".zf-fix summary").click()
    panel.get_by_label("建议怎么改").select_option("add_scenario")
    assert panel.get_by_label("场景（什么情况）").get_attribute("placeholder") == (
        "例如：客户说上次已经反映过一次"
    )
    assert "快递" not in panel.inner_text() + " ".join(
        panel.locator("[placeholder]").evaluate_all("ns => ns.map(n => n.placeholder)")
    )
    panel.get_by_label("建议怎么改").select_option("")
    note.fill("第一步的说法不对")
    panel.get_by_role("button", name="提交反馈").click()
    page.wait_for_function(
        "document.querySelector('.zf-status').textContent.includes('你写的内容还在')"
    )
    panel.get_by_role("button", name="提交反馈").click()  # the same submission again
    panel.locator(".zf-branch").wait_for()
    # A new submission gets a new key.
    panel.get_by_role("button", name="表述模糊").click()
    note.fill("另一条说明")
    panel.get_by_role("button", name="提交反馈").click()
    page.wait_for_function(
        "document.querySelector('.zf-count').textContent === '本条目有 2 条待处理反馈'"
    )
    assert len(keys) == 3 and all(UUID.match(k) for k in keys), keys
    assert keys[0] == keys[1] and keys[2] != keys[0]
    assert errors == []
    page.context.close()


def test_app_errors_are_shown_in_chinese_without_file_locations(
    browser: Any, stack: dict[str, Any]
) -> None:
    path = _minimal_page(stack["site"], stack["app_url"])
    page, errors = _new_page(browser)
    replies = [
        {"error": "`note` is empty; write the text"},
        {
            "error": "the proposal would make the entry invalid; change it and send again",
            "details": [
                "kb/returns/return-window.yaml:30:5: error: `scenarios[0].answer` 是空的 — "
                "填写内容，或删掉这一行"
            ],
        },
        {"error": "something unexpected happened"},
    ]

    def handle(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=400,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": stack["site_url"]},
            body=json.dumps(replies.pop(0), ensure_ascii=False),
        )

    page.route(re.compile(r"/api/flags$"), handle)
    page.goto(f"{stack['site_url']}/{path}")
    panel = _signed_in(page, stack)
    panel.get_by_role("button", name="答案错误").click()
    panel.locator(".zf-note").fill("说明")
    status = panel.locator(".zf-status")
    expected = [
        "「说明」是空的，请填写内容。",
        "这个修改建议会让条目不合格式，请按下面的提示修改后再提交。"
        "「常见场景第 1 条的答复」是空的：填写内容，或删掉这一行",
        "提交没有成功（错误 400），请检查填写的内容后再试。",
    ]
    for text in expected:
        before = status.inner_text()
        panel.get_by_role("button", name="提交反馈").click()
        page.wait_for_function(
            "b => document.querySelector('.zf-status').textContent !== b "
            "&& !document.querySelector('.zf-submit').disabled",
            arg=before,
        )
        assert status.inner_text().replace("\n", "") == text
        assert not re.search(r"yaml|:\d+:\d+|[a-z]{4,}", status.inner_text())
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_a_scenario_is_picked_by_its_text_on_the_built_page(
    browser: Any, stack: dict[str, Any], viewport: dict[str, int]
) -> None:
    build_site(
        stack["repo"] / "kb", "staff", stack["site"], env={"ZHIKU_APP_URL": stack["app_url"]}
    )
    [built] = list(stack["site"].rglob("return-window/index.html"))
    page, errors = _new_page(browser, viewport)
    page.goto(f"{stack['site_url']}/{built.relative_to(stack['site']).as_posix()}")
    panel = _signed_in(page, stack)
    panel.get_by_role("button", name="答案错误").click()
    panel.get_by_label("说明（必填）：哪里不对，正确的应该是什么").fill("节假日也算在内")
    panel.locator(".zf-fix summary").click()
    panel.get_by_label("建议怎么改").select_option("scenario")
    choice = panel.get_by_label("要修改的场景")
    assert choice.locator("option").all_inner_texts() == ["请选择场景", "快递路上走了3天"]
    choice.select_option(label="快递路上走了3天")
    panel.get_by_label("这种情况的答复").fill("仍在期限内，节假日也计入。")
    panel.locator(".zf-submit").scroll_into_view_if_needed()
    folder = Path(os.environ.get("ZHIKU_SCREENSHOT_DIR") or stack["site"])
    folder.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(folder / f"panel-{viewport['width']}.png"))
    panel.get_by_role("button", name="提交反馈").click()
    panel.locator(".zf-branch").wait_for()
    diff = git(stack["repo"], "diff", "main", _branch(page))
    assert "+    answer: 仍在期限内，节假日也计入。\n" in diff
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []
    page.context.close()

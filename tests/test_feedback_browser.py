"""The feedback panel in a real browser, against the running app, on a phone-sized screen."""

from __future__ import annotations

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


def _new_page(browser: Any) -> tuple[Any, list[str]]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
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
    assert panel.locator(".zf-status").inner_text().startswith("已提交,谢谢!审核分支:")
    page.wait_for_function(
        "document.querySelector('.zf-count').textContent === '本条目有 1 条待处理反馈'"
    )
    return str(branch.inner_text())


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
    second = panel.locator(".zf-branch").inner_text()
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
        "document.querySelector('.zf-status').textContent === '令牌无效,请检查后重试。'"
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
        assert status.inner_text() == "反馈服务暂时无法连接,请稍后再试。页面其他内容不受影响。"
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

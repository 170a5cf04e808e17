from __future__ import annotations

from typing import Any


def test_browser_renders_chinese(browser: Any) -> None:
    page = browser.new_page()
    page.set_content("<html lang='zh'><body><h1 id='t'>知库</h1></body></html>")
    assert page.inner_text("#t") == "知库"
    page.close()

"""The one text normaliser (tooling/text.py), and the browser worker's copy of its ranges."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tooling.kb.check import normalize_phrase
from tooling.report.missing import normalize_query
from tooling.site.search_text import HAN_RUN
from tooling.text import CJK_RANGES, CJK_RUN, compact, fold, fold_chars, is_cjk_char, plain_text

WORKER = Path(__file__).parent.parent / "tooling/site/assets/zhiku-search-worker.js"


def js_ranges() -> tuple[tuple[int, int], ...]:
    """The code point ranges of HAN_RUN in the worker."""
    source = WORKER.read_text(encoding="utf-8")
    found = re.search(r"var HAN_RUN = /\[(.*?)\]\+/gu", source)
    assert found, "HAN_RUN not found in the worker"
    codes = [
        int(a or b, 16) for a, b in re.findall(r"\\u\{([0-9a-f]+)\}|\\u([0-9a-f]{4})", found[1])
    ]
    return tuple(zip(codes[0::2], codes[1::2], strict=True))


def test_worker_cjk_ranges_match_python() -> None:
    assert js_ranges() == CJK_RANGES


def test_supplementary_plane_characters_are_cjk_everywhere() -> None:
    text = "𠀀𡃁𪜀"  # Extension B characters
    assert all(is_cjk_char(ch) for ch in text)
    assert CJK_RUN.findall(f"a{text}b") == [text]
    assert HAN_RUN.findall(text) == [text]


def test_fold_and_compact() -> None:
    assert fold("電梯壞了") == "电梯坏了"
    assert fold("ＶＩＰ会員１２３") == "vip会员123"
    assert fold_chars("ＷｉＦｉ密碼") == "wifi密码"
    assert compact("退款，多久到賬？ ") == "退款多久到账"


@pytest.mark.parametrize("normalise", [normalize_phrase, normalize_query])
def test_validation_and_reports_use_the_same_form(normalise: object) -> None:
    assert callable(normalise)
    assert normalise("退款，多久到賬？") == compact("退款多久到账")


def test_plain_text_strips_tables_emphasis_links_and_lists() -> None:
    markdown = (
        "装修时间规定:\n\n| 时间 | 是否允许 |\n|---|---|\n| 工作日 8:00-12:00 | **允许** |\n"
        "- 详见[装修须知](https://x.example)\n1. 先报备\n"
    )
    assert (
        plain_text(markdown)
        == "装修时间规定: 时间 是否允许 工作日 8:00-12:00 允许 详见装修须知 先报备"
    )

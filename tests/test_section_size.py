"""Sections stay usable at any size: a real staff build of one 1,000-entry section.

Every section page stays under 100 KB of HTML (the entry list is split into pages
of :data:`~tooling.site.render.SECTION_PAGE_SIZE`, linked from each other) and no
entry page exceeds 60 KB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT, build_site

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from bench_build_floor import fix_related
from kbgen import generate

pytestmark = pytest.mark.slow

SECTION_LIMIT = 100 * 1024
ENTRY_LIMIT = 60 * 1024


def test_a_thousand_entry_section_is_paginated_and_pages_stay_small(tmp_path: Path) -> None:
    kb = generate(tmp_path / "kb", 1000, sections=1)
    fix_related(kb, 1000)
    site = build_site(kb, "staff", tmp_path / "site", today="2026-11-25")
    section = site / "area0" / "topic0"
    pages = [section / "index.html"] + [section / f"page.{n}" / "index.html" for n in range(2, 11)]
    assert all(p.is_file() for p in pages)
    assert not (section / "page.11").exists()
    sizes = {p: p.stat().st_size for p in pages}
    assert max(sizes.values()) < SECTION_LIMIT, sizes
    first = pages[0].read_text(encoding="utf-8")
    assert "第 1–100 条，共 1000 条。" in first
    assert '<a href="page.2/">2</a>' in first and '<a href="page.2/">下一页</a>' in first
    last = pages[-1].read_text(encoding="utf-8")
    assert "第 901–1000 条，共 1000 条。" in last and "下一页" not in last
    assert "主题0（第 10 页）" in last
    entries = list(section.glob("e*/index.html"))
    assert len(entries) == 1000
    assert max(p.stat().st_size for p in entries) < ENTRY_LIMIT

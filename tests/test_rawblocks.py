"""tooling.site.rawblocks: marked raw HTML regions come out as the HTML parser would pass them."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from conftest import BuiltSites

from tooling.site.rawblocks import CLOSE, OPEN, RawBlocks

GOLDEN = Path(__file__).parent / "golden"
# The site's extensions (mkdocs.yml) besides MkDocs' own.
EXTENSIONS = ["admonition", "tables", "toc"]


def _convert(text: str, *, raw_blocks: bool) -> str:
    extensions: list[str | markdown.Extension] = list(EXTENSIONS)
    if raw_blocks:
        extensions.append(RawBlocks())
    return markdown.Markdown(extensions=extensions).convert(text)


def _unmarked(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if line not in (OPEN, CLOSE))


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.md")), ids=lambda p: p.stem)
def test_entry_pages_convert_byte_for_byte_as_without_the_markers(golden: Path) -> None:
    text = golden.read_text(encoding="utf-8")
    assert OPEN in text
    assert _convert(text, raw_blocks=True) == _convert(_unmarked(text), raw_blocks=False)


def test_blank_lines_inside_a_region_stay_in_it() -> None:
    text = f"# T\n\n{OPEN}\n<div>\n<pre><code>a\n\n**b**\n</code></pre>\n</div>\n{CLOSE}\n\n后文"
    html = _convert(text, raw_blocks=True)
    assert "<pre><code>a\n\n**b**\n</code></pre>" in html
    assert html == _convert(_unmarked(text), raw_blocks=False)


def test_text_without_regions_and_an_unclosed_region_are_left_to_markdown() -> None:
    plain = "# T\n\n**粗体** <b>x</b>\n\n- 一\n- 二\n"
    assert _convert(plain, raw_blocks=True) == _convert(plain, raw_blocks=False)
    unclosed = f"# T\n\n{OPEN}\n<p>x</p>\n\n**粗体**\n"
    assert _convert(unclosed, raw_blocks=True) == _convert(unclosed, raw_blocks=False)


def test_real_builds_use_the_extension(fixture_sites: BuiltSites) -> None:
    """The plugin adds the extension: no marker reaches a page as a comment."""
    for _, site in fixture_sites.items():
        pages = list(site.rglob("*.html"))
        assert len(pages) > 10
        assert [p for p in pages if "zhiku:html" in p.read_text(encoding="utf-8")] == []

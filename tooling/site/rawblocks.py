"""Raw HTML regions the generated pages mark, handed to the page as they are.

Entry pages are mostly HTML that :mod:`tooling.site.markup` already made (the
sanitized rule and scenario answers, escaped text, reply cards, badges, meta
and tag lines). Python-Markdown would pass each such block through untouched
anyway, but only after finding where it ends with its HTML parser, tag by tag:
on a 5,000-entry site that parse was the largest cost of the Markdown step.

The templates put every such region between two marker lines::

    <!-- zhiku:html -->
    <div class="zhiku-replies">...</div>
    <!-- /zhiku:html -->

and :class:`RawBlocks`, a Python-Markdown extension, stores each region in the
document's raw-HTML stash before the HTML parser runs, exactly as that parser
would have stored the block. The page comes out the same, byte for byte.

Safety does not change: raw HTML in the generated Markdown is passed through
with or without this extension (no ``md_in_html``), and writers' text reaches
a region only as :mod:`tooling.site.markup` output, in which ``<`` is escaped or
the sanitizer has removed every comment, so a writer cannot open or close a
region. Without the extension (another engine, plain Python-Markdown) the
marker lines are HTML comments and the page looks the same.
"""

from __future__ import annotations

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

OPEN = "<!-- zhiku:html -->"
CLOSE = "<!-- /zhiku:html -->"
# After normalize_whitespace (30: removes stray stash characters from the source),
# before html_block (20: the HTML parser).
PRIORITY = 25


class _RawRegions(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if OPEN not in lines:
            return lines
        out: list[str] = []
        region: list[str] | None = None
        for line in lines:
            if region is None:
                if line == OPEN:
                    region = []
                else:
                    out.append(line)
            elif line == CLOSE:
                # Stored as the HTML parser stores a block: with its line end.
                out += ["", self.md.htmlStash.store("\n".join(region) + "\n"), ""]
                region = None
            else:
                region.append(line)
        if region is not None:  # no closing marker: leave the text to Markdown as it was
            out += [OPEN, *region]
        return out


class RawBlocks(Extension):
    """Regions between :data:`OPEN` and :data:`CLOSE` lines go to the page unparsed."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_RawRegions(md), "zhiku_raw_blocks", PRIORITY)

"""The one text normaliser: how every stage compares what people type.

Validation (duplicate phrasings), the answer engine, the browser search index
and the missing-knowledge report all fold text through these functions, so a
question is the same question everywhere:

* :func:`fold`: Unicode NFKC (full-width ``ＶＩＰ１２３`` -> ``vip123``), lower
  case, traditional -> simplified Chinese (``電梯壞了`` -> ``电梯坏了``, phrase
  aware through zhconv's ``zh-cn`` table);
* :func:`fold_chars`: the same with a one-character conversion table
  (:func:`char_table`), which is all a browser can ship; the site's search
  index and its worker use it on both sides;
* :func:`compact`: :func:`fold` without spaces, punctuation or symbols, the
  form in which two phrasings count as the same;
* :data:`CJK_CLASS` / :data:`CJK_RANGES`: the Chinese characters, including
  the supplementary planes (Extensions B to H), as one regex class. The
  browser worker (``tooling/site/assets/zhiku-search-worker.js``) carries the
  same ranges; ``tests/test_text.py`` reads them out of the JS and compares;
* :func:`plain_text`: Markdown (tables, emphasis, links, lists, headings) to
  plain text, for snippets and for the semantic model.

Lower case is :meth:`str.lower`, not :meth:`str.casefold`, because the browser
can only do ``toLowerCase`` and both sides must agree.
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from collections.abc import Mapping

import zhconv
import zhconv.zhconv as _zhconv

# zhconv loads its dictionary lazily through a file it never closes (a
# ResourceWarning); load it by path, which zhconv reads inside ``with``.
_ZHCDICT = os.path.join(os.path.dirname(_zhconv.__file__), "zhcdict.json")
_zhconv.loaddict(_ZHCDICT)

# CJK Unified Ideographs Extension A, the basic block, the compatibility
# ideographs, and the supplementary ideographic planes (Extensions B to H and
# the compatibility supplement).
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    def char(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return "".join(f"{char(lo)}-{char(hi)}" for lo, hi in ranges)


CJK_CLASS = _class(CJK_RANGES)
"""The inside of a regex character class (``[...]``) matching one Chinese character."""

CJK_RUN = re.compile(f"[{CJK_CLASS}]+")
ASCII_WORD = re.compile(r"[a-z0-9]+")


def is_cjk_char(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


def fold(text: str) -> str:
    """NFKC, lower case, traditional -> simplified (zhconv ``zh-cn``, phrase aware)."""
    return str(zhconv.convert(unicodedata.normalize("NFKC", text).lower(), "zh-cn"))


@functools.lru_cache(maxsize=1 << 16)
def compact(text: str) -> str:
    """:func:`fold` without whitespace, punctuation or symbols: the comparison form of a
    question (``"退款，多久到賬？"`` and ``"退款多久到账"`` are the same)."""
    return "".join(
        ch for ch in fold(text) if not ch.isspace() and unicodedata.category(ch)[0] not in "PS"
    )


@functools.cache
def char_table() -> Mapping[str, str]:
    """zhconv's one-character traditional -> simplified (zh-cn) conversions."""
    with open(_ZHCDICT, encoding="utf-8") as handle:
        tables = json.load(handle)
    merged = {**tables["zh2Hans"], **tables["zh2CN"]}  # what zhconv.convert(..., "zh-cn") uses
    return {k: v for k, v in merged.items() if len(k) == 1 and len(v) == 1 and k != v}


def fold_chars(text: str, table: Mapping[str, str] | None = None) -> str:
    """NFKC, lower case, traditional -> simplified one character at a time (the browser's
    :func:`fold`; ``table`` defaults to :func:`char_table`)."""
    table = char_table() if table is None else table
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFKC", text).lower())


_TABLE_ROW = re.compile(r"^\s*\|(.*)\|?\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MARKDOWN_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links -> link text
    (re.compile(r"<[^>]+>"), ""),  # inline HTML
    (re.compile(r"(\*\*|__|\*|`|~~)"), ""),  # emphasis, code
]
_BLOCK_MARKER = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)")


def plain_text(markdown: str) -> str:
    """Markdown as one line of plain text: table rows become their cells joined by
    spaces (the ``|---|`` rule disappears), links their text, list markers, headings,
    quotes and emphasis go."""
    lines = []
    for raw in markdown.splitlines():
        if _TABLE_RULE.match(raw) and "-" in raw:
            continue
        line = raw
        row = _TABLE_ROW.match(line)
        if row:
            line = " ".join(cell.strip() for cell in row.group(1).split("|") if cell.strip())
        line = _BLOCK_MARKER.sub("", line)
        for pattern, repl in _MARKDOWN_INLINE:
            line = pattern.sub(repl, line)
        if line.strip():
            lines.append(" ".join(line.split()))
    return " ".join(lines)


__all__ = [
    "ASCII_WORD",
    "CJK_CLASS",
    "CJK_RANGES",
    "CJK_RUN",
    "char_table",
    "compact",
    "fold",
    "fold_chars",
    "is_cjk_char",
    "plain_text",
]

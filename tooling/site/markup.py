"""Writers' Markdown -> safe HTML, in one place; and what the sanitizer would change.

Entry text (the rule, scenario answers) is Markdown typed by service staff. It
reaches a page only as the HTML :func:`markdown_to_html` makes:

1. :func:`block` adapts CommonMark habits (a list right under a line of text,
   two-space nesting) to Python-Markdown;
2. Python-Markdown with a fixed extension set: ``tables`` and ``sane_lists``.
   No ``attr_list`` (``{ onclick=… }`` stays text), no ``md_in_html``;
3. ``nh3.clean`` (the Rust ``ammonia`` sanitizer) with an explicit allowlist of
   tags, attributes and URL schemes, as the last step.

:func:`sanitizer_problems` tells a writer, in Chinese, what step 3 would remove
or change, and which ``{ … }`` attribute braces would show up as plain text, so
``kb validate`` can refuse the text instead of letting it silently vanish. It
compares HTML trees (start tags and their attributes), not patterns on the
input: the sanitizer decides what is safe, the report only describes the
difference.
"""

from __future__ import annotations

import html
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    import markdown

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "URL_SCHEMES",
    "SanitizerProblem",
    "block",
    "link_html",
    "markdown_to_html",
    "sanitize",
    "sanitizer_problems",
    "text_to_html",
]

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "blockquote", "pre", "code", "kbd",
        "strong", "b", "em", "i", "del", "s", "sub", "sup",
        "ul", "ol", "li",
        "table", "thead", "tbody", "tr", "th", "td",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "a",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    # Python-Markdown's tables write column alignment as style="text-align: …".
    "th": {"style"},
    "td": {"style"},
}
STYLE_PROPERTIES: frozenset[str] = frozenset({"text-align"})
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})
# Removed together with everything inside them (ammonia's default).
CONTENT_TAGS: frozenset[str] = frozenset({"script", "style"})
URL_ATTRIBUTES: frozenset[str] = frozenset({"href", "src", "action", "formaction", "cite"})
LINK_REL = "noopener noreferrer"

# Without any of these characters Python-Markdown can only produce allowlisted tags
# (paragraphs, emphasis, lists, tables, headings, code) and no attribute other than
# table alignment and a list's start: no raw HTML (<), entity (&), link or image ([)
# or attribute brace ({). Checking this first keeps `kb validate` fast.
_MAYBE_CHANGED = re.compile(r"[<&\[{]")
_LIST_ITEM = re.compile(r"^( *)([-*+]|\d+[.)])\s+\S")
_TABLE_DELIMITER = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_BRACES = re.compile(r"\{[^{}\n]*\}")
SHOWN_CHARS = 30


def block(markdown_text: str) -> str:
    """Writers' Markdown (CommonMark habits) made safe for Python-Markdown.

    Writers start a list or a table right under a line of text and nest lists
    by two spaces, as chat apps and GitHub accept; Python-Markdown wants a blank
    line before a list or table and four spaces per level, and otherwise runs
    the lines into one paragraph. Nothing else is changed.
    """
    lines = _tables_apart(markdown_text.splitlines())
    items = [m for m in map(_LIST_ITEM.match, lines) if m]
    two_space = any(0 < len(m.group(1)) < 4 for m in items)
    out: list[str] = []
    in_list = False
    for line in lines:
        match = _LIST_ITEM.match(line)
        if match:
            if out and out[-1].strip() and not in_list:
                out.append("")
            if two_space:
                line = " " * (len(match.group(1)) * 2) + line.lstrip(" ")
            in_list = True
        elif not line.strip():
            in_list = False
        elif in_list and two_space and line.startswith(" "):
            line = " " * ((len(line) - len(line.lstrip(" "))) * 2) + line.lstrip(" ")
        elif not line.startswith(" "):
            in_list = False
        out.append(line)
    return "\n".join(out) + ("\n" if markdown_text.endswith("\n") else "")


def _tables_apart(lines: list[str]) -> list[str]:
    """A blank line before a table (a ``|`` row over a ``|---|`` row) that follows text."""
    out: list[str] = []
    for i, line in enumerate(lines):
        starts_table = (
            "|" in line
            and i + 1 < len(lines)
            and "|" in lines[i + 1]
            and _TABLE_DELIMITER.match(lines[i + 1]) is not None
        )
        if starts_table and out and out[-1].strip() and not _LIST_ITEM.match(out[-1]):
            out.append("")
        out.append(line)
    return out


# --- rendering ---------------------------------------------------------------------------------

_local = threading.local()  # Markdown instances are not thread-safe; one set per thread


def _converter(with_attr_list: bool) -> markdown.Markdown:
    key = "naive" if with_attr_list else "safe"
    md: markdown.Markdown | None = getattr(_local, key, None)
    if md is None:
        # Imported here: `kb validate` needs Python-Markdown only for text that can change.
        import markdown
        from markdown.extensions import Extension
        from markdown.extensions.attr_list import AttrListExtension
        from markdown.extensions.sane_lists import SaneListExtension
        from markdown.extensions.tables import TableExtension

        # Extension objects, not names: resolving names scans every installed package's
        # entry points (0.7 s on this machine, per process).
        extensions: list[Extension] = [TableExtension(), SaneListExtension()]
        if with_attr_list:  # only to show writers what their braces would have done
            extensions.append(AttrListExtension())
        md = markdown.Markdown(extensions=extensions, output_format="html")
        setattr(_local, key, md)
    return md


def _convert(text: str, *, with_attr_list: bool = False) -> str:
    md = _converter(with_attr_list)
    md.reset()
    return md.convert(block(text))


def sanitize(fragment: str) -> str:
    """An HTML fragment through the allowlist: the last step before anything reaches a page."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CONTENT_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        filter_style_properties=set(STYLE_PROPERTIES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


@lru_cache(maxsize=8192)
def _html(text: str) -> str:
    return sanitize(_convert(text))


def markdown_to_html(text: str, *, inline: bool = False) -> str:
    """A writer's Markdown as sanitized HTML.

    ``inline=True`` is for text shown inside another element (a label, a list
    item): a single paragraph loses its ``<p>`` wrapper.
    """
    result = _html(text.strip("\n"))
    if inline and result.startswith("<p>") and result.endswith("</p>"):
        inner = result[3:-4]
        if "<p>" not in inner:
            return inner
    return result


def text_to_html(text: str) -> str:
    """Plain text (a question, a phrasing, a team name) as HTML: escaped, on one line."""
    return html.escape(" ".join(text.split()), quote=True)


def link_html(title: str, url: str) -> str:
    """An outside link (an entry's ``links``) as a sanitized ``<a>``; a URL the
    sanitizer refuses leaves the title as text."""
    return sanitize(f'<a href="{html.escape(url.strip(), quote=True)}">{text_to_html(title)}</a>')


# --- what the sanitizer would change -----------------------------------------------------------


@dataclass(frozen=True)
class SanitizerProblem:
    """One thing the sanitizer would remove or change, told to the writer."""

    message: str  # what happens, in Chinese, naming the tag / attribute / URL
    hint: str  # how to write it instead
    needles: tuple[str, ...] = ()  # pieces of the source text that locate it, best first


HINT_TAG = "条目里只能用 Markdown 写格式(**加粗**、列表、表格、[标题](https://…) 链接);删掉这个标签"
HINT_ATTRIBUTE = (
    "删掉这个属性:条目里的 HTML 只能是 <br>、<b> 这类简单标签,链接请写成 [标题](https://…)"
)
HINT_URL = "链接只能以 http://、https://、mailto: 或 tel: 开头,或是站内的相对地址"
HINT_COMMENT = "删掉这段注释;写给同事的说明请用 YAML 的 # 注释"
HINT_BRACES = "删掉这对花括号和里面的内容;链接写成 [标题](https://…) 即可,不能加属性"
HINT_REWRITE = "把这段 HTML 改成普通文字或 Markdown"


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "…"


def _norm_value(name: str, value: str) -> str:
    if name == "style":  # ammonia re-serializes kept properties as "prop:value"
        parts = [p.split(":", 1) for p in value.split(";") if p.strip()]
        return ";".join(f"{k.strip().lower()}:{v.strip()}" for k, *rest in parts for v in rest)
    return value


Attr = tuple[str, str, str]  # (tag, attribute, normalized value)


class _Tree(HTMLParser):
    """Start tags, attributes, comments and text of a fragment, for comparison."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attrs: Counter[Attr] = Counter()
        self.comments: list[str] = []
        self.tokens: list[tuple[str, ...]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        kept = []
        for name, value in attrs:
            if tag == "a" and name == "rel":
                continue  # added by the sanitizer to every link
            item = (tag, name, _norm_value(name, value or ""))
            self.attrs[item] += 1
            kept.append(f"{name}={item[2]}")
        self.tokens.append(("tag", tag, *sorted(kept)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        text = "".join(data.split())
        if text:
            if self.tokens and self.tokens[-1][0] == "text":
                text = self.tokens.pop()[1] + text
            self.tokens.append(("text", text))

    def handle_comment(self, data: str) -> None:
        self.comments.append(f"<!--{data}-->")

    def unknown_decl(self, data: str) -> None:
        self.comments.append(f"<![{data}]>" if data.upper().startswith("CDATA[") else f"<!{data}>")

    def handle_decl(self, decl: str) -> None:
        self.comments.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.comments.append(f"<?{data}>")


def _removed_tags(before: _Tree, after: _Tree) -> Iterable[SanitizerProblem]:
    for tag in before.tags:
        if tag in after.tags:
            continue
        if ":" in tag:  # <tel:…>, <javascript:…>: Python-Markdown autolinks only http(s)
            yield SanitizerProblem(
                f"`<{_shown(tag)}>` 不是链接写法,会被当作 HTML 标签去掉",
                "链接写成 [文字](地址),例如 [0571-6600](tel:0571-6600)",
                (f"<{tag}",),
            )
            continue
        if tag in ALLOWED_TAGS:  # allowed, but the sanitizer's HTML parser drops it here
            message = f"标签 `<{tag}>` 放在这里会被去掉(外层的 HTML 不完整或不允许)"
        elif tag in CONTENT_TAGS:
            message = f"标签 `<{tag}>` 不允许使用,会连同里面的内容一起被去掉"
        else:
            message = f"标签 `<{tag}>` 不允许使用,会被去掉"
        yield SanitizerProblem(message, HINT_TAG, (f"<{tag}",))


def _removed_attributes(before: _Tree, after: _Tree) -> Iterable[SanitizerProblem]:
    for (tag, name, value), count in before.attrs.items():
        if tag not in after.tags or after.attrs[(tag, name, value)] >= count:
            continue
        payload = value.rpartition(":")[2]
        if name in URL_ATTRIBUTES and name in ALLOWED_ATTRIBUTES.get(tag, ()):
            yield SanitizerProblem(
                f"链接地址 `{_shown(value)}` 不是 http/https/mailto/tel 链接,会被去掉",
                HINT_URL,
                (value, value[:3], payload),  # entities in the source may hide the scheme
            )
        elif name in ALLOWED_ATTRIBUTES.get(tag, ()):
            yield SanitizerProblem(
                f'属性 `{name}="{_shown(value)}"`(`<{tag}>` 标签上)会被改写',
                HINT_ATTRIBUTE,
                (name,),
            )
        else:
            yield SanitizerProblem(
                f"属性 `{name}`(`<{tag}>` 标签上)不允许使用,会被去掉", HINT_ATTRIBUTE, (name,)
            )


def _braces(text: str, before: _Tree, naive: _Tree) -> Iterable[SanitizerProblem]:
    """``{ … }`` that attr_list would have turned into attributes: shown as text here."""
    added = [key for key in naive.attrs if naive.attrs[key] > before.attrs[key]]
    if not added:
        return
    for match in _BRACES.finditer(text):
        brace = match.group(0)
        if any(name in brace or (value and value in brace) for _, name, value in added):
            yield SanitizerProblem(
                f"属性写法 `{_shown(brace)}` 不支持,会原样显示成文字", HINT_BRACES, (brace,)
            )


def sanitizer_problems(text: str) -> list[SanitizerProblem]:
    """What :func:`markdown_to_html` would remove or change in ``text``; [] when nothing.

    Benign writing (Chinese text, emphasis, lists, tables, links, ``<br>``) gives [].
    """
    if not _MAYBE_CHANGED.search(text):
        return []
    text = text.strip("\n")
    rendered = _convert(text)
    before, after = _Tree(rendered), _Tree(_html(text))
    problems: list[SanitizerProblem] = []
    if "{" in text:
        problems += _braces(text, before, _Tree(_convert(text, with_attr_list=True)))
    problems += _removed_tags(before, after)
    problems += _removed_attributes(before, after)
    for comment in before.comments:
        problems.append(
            SanitizerProblem(f"注释 `{_shown(comment)}` 会被去掉", HINT_COMMENT, (comment[:2],))
        )
    if not problems and before.tokens != after.tokens:
        changed = next(
            (b for b, a in zip(before.tokens, after.tokens, strict=False) if b != a),
            before.tokens[-1] if before.tokens else ("text", ""),
        )
        shown = changed[1] if changed[0] == "text" else f"<{changed[1]}>"
        problems.append(
            SanitizerProblem(f"这段 HTML 会被改写(从 `{_shown(shown)}` 起)", HINT_REWRITE, ())
        )
    return list(dict.fromkeys(problems))

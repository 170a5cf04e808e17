"""A small, conservative detector of active content in HTML, for security tests.

Zhiku renders the Markdown text fields of entries (rule, scenario answers,
replies, links, notes) to HTML and passes it through an allowlist sanitizer.
The security tests feed script-injection vectors (see ``vectors.py``) through
that pipeline and use this module to prove that nothing *active* survives:
no ``on*`` event handler, no script-capable element, no ``javascript:`` /
``data:`` / ``vbscript:`` URL, no ``srcdoc``, no CSS ``expression(``.

It parses with the standard library ``html.parser`` only, so it has no
dependency on the sanitizer it is checking. Where the standard parser and a
browser may disagree (comments, ``<![CDATA[`` sections, raw ``</`` inside a tag),
it errs on the side of reporting: this is a test oracle, so a false alarm is
cheap and a miss is not.

``entry_content`` cuts the part of a MkDocs page that came from entry text out
of the whole page, because the theme itself legitimately ships ``<script>``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["SAFE_SCHEMES", "active_content", "entry_content", "fragment_active_content"]

#: URL schemes that are never active. Anything else with a scheme is flagged.
SAFE_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})

#: Elements that are active (or can load / submit / redirect) wherever they appear.
ACTIVE_TAGS: frozenset[str] = frozenset(
    {
        "script",
        "iframe",
        "object",
        "embed",
        "base",
        "form",
        "frame",
        "frameset",
        "applet",
        "link",
        "style",
        "isindex",
        "portal",
    }
)

#: Attributes whose value is (or contains) a URL a browser may load or navigate to.
URL_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "data",
        "poster",
        "background",
        "lowsrc",
        "dynsrc",
        "ping",
        "srcset",
        "cite",
        "longdesc",
        "codebase",
        "classid",
        "manifest",
        "icon",
        "xml:base",
        # SVG/SMIL animation can write a URL into href: <set attributeName=href to=...>.
        "to",
        "from",
        "values",
    }
)

_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# ASCII whitespace and C0 controls plus DEL: browsers drop tab/newline inside URLs
# and trim the rest at the ends, so we remove all of them before looking for a scheme.
_CONTROLS = re.compile(r"[\x00-\x20\x7f]+")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_DANGER: tuple[str, ...] = (
    "expression(",
    "javascript:",
    "vbscript:",
    "-moz-binding",
    "behavior:",
    "@import",
)


def _normalise_url(value: str) -> str:
    """The URL as a browser would read its scheme: unescaped, controls removed."""
    return _CONTROLS.sub("", html.unescape(value))


def url_scheme(value: str) -> str | None:
    """The lower-cased scheme of ``value``, or None when the URL is relative."""
    match = _SCHEME.match(_normalise_url(value))
    return match.group(1).lower() if match else None


def _url_candidates(name: str, value: str) -> list[str]:
    """The individual URLs in an attribute value (srcset and ping hold several)."""
    if name == "srcset":
        return [part.split()[0] for part in value.split(",") if part.split()]
    if name == "ping":
        return value.split() or [value]
    if name == "values":
        return value.split(";")
    return [value]


class _Collector(HTMLParser):
    def __init__(self, allow_tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allow_tags = allow_tags
        self.found: list[str] = []

    def _nested(self, where: str, markup: str) -> None:
        # The standard parser and a browser may end a comment or CDATA section at
        # different places (``--!>``, ``]]>`` outside foreign content), so whatever
        # is inside is checked as if it were live markup.
        for finding in fragment_active_content(markup, allow_tags=self.allow_tags):
            self.found.append(f"{where} (parser differential): {finding}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in ACTIVE_TAGS and tag not in self.allow_tags:
            self.found.append(f"<{tag}> element")
        raw = self.get_starttag_text() or ""
        if "</" in raw[1:]:
            self.found.append(f"<{tag}> has a raw '</' inside its attributes (mutation XSS)")
        for name, raw_value in attrs:
            name = name.lower()
            value = html.unescape(raw_value or "")
            if name.startswith("on"):
                self.found.append(f"<{tag}> event handler {name}={value!r}")
            elif name == "srcdoc":
                self.found.append(f"<{tag}> srcdoc attribute {value!r}")
            elif name == "http-equiv" and tag == "meta":
                self.found.append(f"<meta> http-equiv={value!r}")
            elif name == "style":
                css = _CONTROLS.sub("", _CSS_COMMENT.sub("", value)).replace("\\", "").lower()
                for needle in _CSS_DANGER:
                    if needle in css:
                        self.found.append(f"<{tag}> style attribute with {needle} {value!r}")
            elif name in URL_ATTRIBUTES:
                for url in _url_candidates(name, value):
                    scheme = url_scheme(url)
                    if scheme is not None and scheme not in SAFE_SCHEMES:
                        self.found.append(f"<{tag}> {name} URL with scheme {scheme}: {value!r}")
                        break

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self._nested("comment", data)

    def unknown_decl(self, data: str) -> None:
        self._nested("markup declaration", data.removeprefix("CDATA[").removeprefix("cdata["))


def fragment_active_content(
    html_text: str, *, allow_tags: frozenset[str] = frozenset()
) -> list[str]:
    """Every active thing in ``html_text``, one readable line each; [] means inert.

    ``allow_tags`` names elements from ``ACTIVE_TAGS`` not to report as such
    (their attributes are still checked), for a sub-tree known to hold them.
    """
    collector = _Collector(frozenset(t.lower() for t in allow_tags))
    collector.feed(html_text)
    collector.close()
    return collector.found


def active_content(html_text: str) -> list[str]:
    """Every active thing in an HTML fragment, one readable line each; [] means inert."""
    return fragment_active_content(html_text)


class _Extractor(HTMLParser):
    """Finds the source offsets of the inner HTML of elements with a CSS class."""

    def __init__(self, source: str, marker_class: str) -> None:
        super().__init__(convert_charrefs=False)
        self.marker_class = marker_class
        self.line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self.line_starts.append(index + 1)
        self.spans: list[tuple[int, int]] = []
        self._tag: str | None = None  # the tag name of the element being captured
        self._depth = 0
        self._start = 0

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._tag is not None:
            if tag == self._tag:
                self._depth += 1
            return
        classes = next((value or "" for name, value in attrs if name == "class"), "").split()
        if self.marker_class in classes:
            self._tag = tag
            self._depth = 1
            self._start = self._offset() + len(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # a self-closing element has no inner HTML and does not nest

    def handle_endtag(self, tag: str) -> None:
        if self._tag is not None and tag == self._tag:
            self._depth -= 1
            if self._depth == 0:
                self.spans.append((self._start, self._offset()))
                self._tag = None

    def finish(self, length: int) -> list[tuple[int, int]]:
        self.close()
        if self._tag is not None:  # never closed: take the rest of the document
            self.spans.append((self._start, length))
            self._tag = None
        return self.spans


def entry_content(html_text: str, marker_class: str) -> str:
    """The inner HTML of every element whose class list contains ``marker_class``.

    Several matches are joined with newlines, in document order; a marked element
    inside another marked element is part of the outer one. "" when none match.
    """
    extractor = _Extractor(html_text, marker_class)
    extractor.feed(html_text)
    spans = extractor.finish(len(html_text))
    return "\n".join(html_text[start:end] for start, end in spans)

"""Rebuild only what a save changed: the state ``kb serve`` keeps between builds.

The first build of a served site is a full one. After that each build

- loads only the entry files whose bytes changed (:class:`tooling.kb.load.LoadCache`);
- renders only the entry pages whose inputs changed (the entry, the entries it
  links to, the rest of the knowledge base), through the memo of
  :func:`tooling.site.render.render_site`;
- compares every page's text with the previous build's: only pages whose text
  changed are converted and written again. That is exactly the entry's page, its
  section page(s), the pages that link to it (their link text is its question)
  and the home page when the entry is among the recently reviewed;
- rebuilds everything when something shown on every page changed (the
  navigation, the site's name, the error bar): the page *chrome*;
- analyses only the changed entries for the search index, and writes only the
  index files whose content changed.

Nothing here knows MkDocs: :mod:`tooling.site.mkdocs_plugin` maps "unchanged"
onto MkDocs' dirty builds.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

from tooling.kb.load import LoadCache


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled theme templates kept in memory: each rebuild makes a new Jinja
    environment, which would otherwise compile every template again (~0.5 s)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


@dataclass
class Changes:
    """What one build must redo, compared with the build before it."""

    #: Pages to convert and write; ``None`` means all of them.
    pages: set[str] | None
    #: Pages of the previous build that no longer exist (their output is removed).
    gone: set[str]

    def is_changed(self, page: str) -> bool:
        return self.pages is None or page in self.pages


@dataclass
class Incremental:
    """Caches and the previous build's pages, kept by the plugin across ``serve`` rebuilds."""

    load_cache: LoadCache = field(default_factory=LoadCache)
    render_memo: dict[Hashable, str] = field(default_factory=dict)
    index_cache: dict[Any, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    chrome: Hashable = None
    #: Text of each search-index file written, by path under the site folder.
    index_files: dict[str, str] = field(default_factory=dict)
    templates: MemoryBytecodeCache = field(default_factory=MemoryBytecodeCache)
    builds: int = 0

    def changes(self, pages: Mapping[str, str], chrome: Hashable) -> Changes:
        """Which of ``pages`` differ from the previous build, and record them for the next."""
        first = self.builds == 0 or chrome != self.chrome
        changed = None if first else {p for p, text in pages.items() if self.pages.get(p) != text}
        gone = set(self.pages) - set(pages)
        self.pages = dict(pages)
        self.chrome = chrome
        self.builds += 1
        return Changes(changed, gone)

    def index_files_to_write(self, files: Mapping[str, str]) -> dict[str, str]:
        """The search-index files whose text differs from what was written before."""
        out = {path: text for path, text in files.items() if self.index_files.get(path) != text}
        self.index_files = dict(files)
        return out

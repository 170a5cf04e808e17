"""While a writer edits with ``kb serve`` open: keep the last good version of a broken file.

A typo (``phrasing:``) makes an entry file invalid, and the loader leaves
invalid files out of the model. On a build that is right (nothing broken
ships); on ``serve`` it would turn the page the writer is looking at into a
404. :class:`LastGood` remembers every entry, section and the identity file
as last loaded without errors, and puts the remembered version back for a file
that is broken now, so the open page stays, with the error bar over it, until
the next good save replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tooling.errors import Problem
from tooling.kb.identity import SITE_FILE
from tooling.kb.model import Entry, KnowledgeBase, Section, SiteIdentity

SECTION_FILE = "_section.yaml"


@dataclass
class LastGood:
    entries: dict[str, Entry] = field(default_factory=dict)  # by file
    sections: dict[str, Section] = field(default_factory=dict)  # by path
    site: SiteIdentity | None = None

    def merge(self, kb: KnowledgeBase, errors: list[Problem]) -> tuple[KnowledgeBase, list[str]]:
        """``kb`` with the remembered version of each broken file that still exists;
        also the files kept that way. Remembers what loaded this time."""
        broken = {p.file for p in errors}
        root = kb.root
        loaded = {e.file for e in kb.entries}
        kept_entries = [
            old
            for file, old in self.entries.items()
            if file in broken and file not in loaded and (root / file).is_file()
        ]
        kept_sections = [
            old
            for path, old in self.sections.items()
            if f"{path}/{SECTION_FILE}" in broken
            and kb.section(path) is None
            and (root / path).is_dir()
        ]
        previous_site = self.site if SITE_FILE in broken else None
        keep_site = previous_site is not None
        site = previous_site or kb.site
        self.entries = {e.file: e for e in (*kb.entries, *kept_entries)}
        self.sections = {s.path: s for s in (*kb.sections, *kept_sections)}
        self.site = site
        kept = sorted(
            [e.file for e in kept_entries]
            + [f"{s.path}/{SECTION_FILE}" for s in kept_sections]
            + ([SITE_FILE] if keep_site else [])
        )
        if not kept:
            return kb, kept
        sections = sorted(self.sections.values(), key=lambda s: (s.parent, s.order, s.path))
        merged = replace(
            kb, entries=(*kb.entries, *kept_entries), sections=tuple(sections), site=site
        )
        return merged, kept

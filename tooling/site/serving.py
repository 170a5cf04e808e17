"""What ``kb serve`` changes in MkDocs' live-reload server, and the pages it reuses.

- **Saves are seen at once.** MkDocs watches with watchdog's *polling* observer:
  every 0.5 s it lists and stats every file under the watched folders (at 5,000
  entries, with the knowledge base's ``.git`` objects, over 10,000 files), so a
  save waits up to half a second to be noticed and the polling competes with the
  rebuild for the CPU. :func:`use_inotify` moves the server's watches to the
  kernel's inotify (Linux), which reports a save as it happens; where inotify is
  not there (another system, no instances left) the polling stays.
- **Reading is not a change.** inotify also reports files being opened and closed
  unwritten; the build reads every entry file, so those would start a rebuild
  after every rebuild. Only writes, creations, deletions, moves and attribute
  changes reach the server (a moved or deleted folder counts as a file change,
  as the polling observer saw it).
- **The 404 page reloads too** (:func:`with_livereload`).
- **Garbage collection skips the long-lived** (:func:`set_aside_long_lived`).
- **The theme is listed once** (:class:`ThemeListing`).
- **Unchanged pages are reused** (:class:`PageFile`): the plugin hands MkDocs the
  previous build's file objects, with their ``Page`` attached, for the pages a
  save did not change, so MkDocs neither creates their ``Page`` again (canonical
  URLs, edit links) nor converts nor writes them.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Hashable
from typing import Any

import jinja2
from mkdocs.livereload import LiveReloadServer
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc
from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_OPENED,
    FileModifiedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import ObservedWatch

log = logging.getLogger("mkdocs.plugins.zhiku")

#: Events that are no change: the build itself opens and reads every file.
READ_ONLY_EVENTS = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


class PageFile(File):
    """A generated page that knows whether its text is the same as in the previous build
    (MkDocs' dirty builds skip unmodified pages)."""

    unchanged = False

    def is_modified(self) -> bool:
        return not self.unchanged


def set_aside_long_lived() -> None:
    """Collect garbage once, then exempt everything alive from later collections.

    After a full build the server holds millions of long-lived objects (the
    knowledge base, the caches, every page's ``Page``); a full garbage collection
    walks them all (a quarter of a second at 5,000 entries) and came in every other
    rebuild. Called after each full build: what a later rebuild leaves behind in
    cycles among these objects waits for the next full build to be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def forget_render(page_file: File) -> None:
    """Drop what MkDocs made of a page in this build (its HTML, table of contents,
    anchors), as a new ``Page`` would have it, so the server does not keep every page's
    HTML between rebuilds; the next build converts the page again only if it changed."""
    page = page_file.page
    if page is None:
        return
    page.markdown = page.content = None
    page.toc = get_toc([])
    page.present_anchor_ids = page.links_to_anchors = None


class ChangesOnly(FileSystemEventHandler):
    """Passes only events that change something on to MkDocs' handler."""

    def __init__(self, inner: FileSystemEventHandler) -> None:
        self.inner = inner

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type in READ_ONLY_EVENTS:
            return
        if event.is_directory:
            if event.event_type == EVENT_TYPE_MODIFIED:
                return  # a file inside was created or deleted: that file's event follows
            # MkDocs ignores folder events; a folder moved away takes its entries with it.
            event = FileModifiedEvent(event.src_path)
        self.inner.dispatch(event)


def _inotify_observer() -> Any:
    """watchdog's inotify observer, scheduling every handler through :class:`ChangesOnly`;
    ``None`` where inotify cannot be used."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return None

    class Observer(InotifyObserver):
        def schedule(
            self, event_handler: FileSystemEventHandler, path: Any, **kwargs: Any
        ) -> ObservedWatch:
            return super().schedule(ChangesOnly(event_handler), path, **kwargs)

    try:
        return Observer()
    except OSError as exc:  # e.g. the user's inotify instances are used up
        log.info(f"inotify not available ({exc}); watching by polling")
        return None


def use_inotify(server: LiveReloadServer) -> bool:
    """Move every watch the server has to an inotify observer (before it starts).

    MkDocs watches the docs folder, ``mkdocs.yml`` and, with ``--watch-theme``, the
    theme folders before ``on_serve``; its own record of them (``_watched_paths``,
    path -> how many times watched) is read, so none is left on the polling observer,
    which is then never started. Paths watched later go to the new observer by
    themselves. Returns False, and changes nothing, where inotify is not there.
    """
    observer = _inotify_observer()
    if observer is None:
        return False
    watched: dict[str, int] = dict(server._watched_paths)
    for path, times in watched.items():
        for _ in range(times):
            server.unwatch(path)
    server.observer = observer
    for path, times in watched.items():
        for _ in range(times):
            server.watch(path)
    return True


class ThemeListing:
    """The theme's file list, read once per ``kb serve`` instead of on every rebuild.

    Every build lists all files of the theme folders (Material has thousands of
    icons) to copy its static files; a rebuild gets the same list, as long as the
    theme folders and the static templates stay the same (the theme is not watched,
    so a file added to it needs a restart of ``kb serve``, as a changed template
    does)."""

    def __init__(self) -> None:
        self.key: Hashable = None
        self.names: list[str] = []

    def install(self, theme: Any) -> None:
        """Make the environments of ``theme`` (a new one per build) list from this cache."""
        make_env = theme.get_env

        def get_env() -> jinja2.Environment:
            env = make_env()
            list_templates = env.list_templates

            def cached(extensions: Any = None, filter_func: Any = None) -> list[str]:
                key = (
                    tuple(theme.dirs),
                    tuple(sorted(theme.static_templates)),
                    repr(extensions),
                    getattr(filter_func, "__qualname__", repr(filter_func)),
                )
                if key != self.key:
                    self.names = list_templates(extensions, filter_func)
                    self.key = key
                return list(self.names)

            setattr(env, "list_templates", cached)  # noqa: B010 (an instance attribute)
            return env

        setattr(theme, "get_env", get_env)  # noqa: B010


def with_livereload(server: LiveReloadServer, handler: Any) -> Any:
    """MkDocs serves its 404 page without the live-reload script, so a page that is
    missing while its file has an error would not come back by itself after the fix."""
    inject = getattr(server, "_inject_js_into_html", None)

    def error_page(code: int) -> bytes | None:
        content = handler(code)
        if content is None or inject is None:
            return content
        return bytes(inject(content, getattr(server, "_visible_epoch", 0)))

    return error_page

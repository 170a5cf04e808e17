"""Built indexes on disk, so that ``kb search`` in a new process does not rebuild.

An index is stored as one pickle under ``<cache>/indexes/``, named by a hash of
everything it depends on: the engine (a hash of its source files), the semantic model (or none),
the audience and the content of the entries and synonyms that audience sees on
that day. A changed entry gives a new name; old files are removed when more
than :data:`KEEP` are stored. A file that cannot be read is ignored and
rebuilt. The folder is safe to delete.

Builds in one cache folder take turns (:func:`one_builder`, a lock file): two
processes that need the same index at once (two app workers warming up, two
test workers) build it once; the second loads what the first stored. An index
of another audience shares most of its vectors, so waiting costs little there
either.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO

from tooling.answer import analysis
from tooling.answer.embed import Model
from tooling.kb.check import gc_paused
from tooling.kb.load import walk
from tooling.kb.model import KnowledgeBase
from tooling.kb.view import SiteAudience, view

log = logging.getLogger(__name__)

KEEP = 20


@functools.cache
def engine_version() -> str:
    """A hash of the answer engine's own source: a changed engine never loads an old index."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def index_key(kb: KnowledgeBase, audience: SiteAudience, today: date, model: Model | None) -> str:
    visible = view(kb, audience, today)
    digest = hashlib.sha256()
    model_id = model.model_id if model else "lexical"
    digest.update(f"{engine_version()}\0{model_id}\0{audience}".encode())
    for group in visible.synonyms:
        digest.update(repr(tuple(group)).encode())
    for entry in visible.entries:
        content = (
            entry.id,
            entry.section,
            entry.question,
            entry.phrasings,
            entry.tags,
            entry.rule,
            tuple((s.case, s.answer) for s in entry.scenarios),
        )
        digest.update(repr(content).encode())
    return digest.hexdigest()[:40]


def _path(folder: Path, key: str) -> Path:
    return folder / "indexes" / f"{key}.pickle"


def folder_stamp(root: Path, audience: SiteAudience, today: date, model: Model | None) -> str:
    """A hash of every file the loader reads under ``root`` (:func:`tooling.kb.load.walk`)
    as the file system describes it (path, size, inode, modification and change time),
    with the engine, model, audience and day.

    ``kb search`` in a new process spends most of its time reading and validating the
    knowledge base only to compute :func:`index_key`. When no file changed since an
    index was stored for the same stamp (:func:`remember`), the folder is the one that
    was validated and indexed then, so the stored index is loaded at once. The change
    time (``st_ctime_ns``) moves on every write, rename or copy and cannot be set back
    by a program, so an edit that keeps the size and the modification time still
    gives a new stamp. The day is in the stamp because expiry and the audience view
    depend on it."""
    digest = hashlib.sha256()
    model_id = model.model_id if model else "lexical"
    head = f"{engine_version()}\0{model_id}\0{audience}\0{today}\0{root.resolve()}"
    digest.update(head.encode())
    for _, where, is_dir in walk(root):
        try:
            info = os.stat(where)
        except OSError:  # a dangling link: the loader reports it; its absence is the state
            digest.update(f"{where}\0missing\n".encode())
            continue
        row = (where, is_dir, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)
        digest.update(repr(row).encode())
    return digest.hexdigest()[:40]


def _stamp_path(folder: Path, stamp: str) -> Path:
    return folder / "indexes" / f"{stamp}.stamp"


def remembered(folder: Path, stamp: str) -> str | None:
    """The index key stored for ``stamp`` by :func:`remember`, or None."""
    try:
        key = _stamp_path(folder, stamp).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return key if len(key) == 40 and all(c in "0123456789abcdef" for c in key) else None


def remember(folder: Path, stamp: str, key: str) -> None:
    """Note that the folder with ``stamp`` has the index ``key`` (best effort)."""
    path = _stamp_path(folder, stamp)
    try:
        _replace(path, lambda handle: handle.write(key.encode("ascii")))
    except OSError as exc:
        log.warning("search index stamp not stored in %s (%s)", path.parent, exc)


def _replace(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` whole or not at all (a temporary file, then a rename), then keep
    only the :data:`KEEP` newest files of its kind (its suffix) in its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        write(handle)
    os.replace(temporary, path)
    kept = sorted(path.parent.glob(f"*{path.suffix}"), key=lambda p: p.stat().st_mtime)
    for old in kept[:-KEEP]:
        old.unlink(missing_ok=True)


@contextlib.contextmanager
def one_builder(folder: Path) -> Iterator[None]:
    """Hold the folder's build lock (blocking) for the ``with`` body. Where the lock
    cannot be taken (no ``fcntl``, a read-only folder) the body runs unlocked."""
    try:
        import fcntl
    except ImportError:  # not POSIX: builds may overlap, which only costs time
        yield
        return
    try:
        (folder / "indexes").mkdir(parents=True, exist_ok=True)
        handle = (folder / "indexes" / "build.lock").open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load(folder: Path, key: str) -> object | None:
    path = _path(folder, key)
    analysis.use_stored_dictionary(folder)
    # Unpickling creates hundreds of thousands of small objects at 5,000 entries; the
    # cyclic collector, run again and again over them as they are made, frees none.
    try:
        with gc_paused(), path.open("rb") as handle:
            found = pickle.load(handle)
            # The index lives as long as the process (or until a newer one replaces it,
            # when reference counting frees it): keep the collector from walking its
            # half a million containers at the next allocation (0.6 s at 5,000 entries).
            gc.freeze()
            return found
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file: rebuild
        log.warning("stored search index %s unreadable (%s); rebuilding it", path, exc)
        return None


def save(folder: Path, key: str, index: object) -> None:
    path = _path(folder, key)
    try:
        _replace(path, lambda handle: pickle.dump(index, handle, pickle.HIGHEST_PROTOCOL))
        analysis.store_dictionary(folder)
    except OSError as exc:
        log.warning("search index not stored in %s (%s)", path.parent, exc)

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
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from tooling.answer import analysis
from tooling.answer.embed import Model
from tooling.kb.check import gc_paused
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
            return pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file: rebuild
        log.warning("stored search index %s unreadable (%s); rebuilding it", path, exc)
        return None


def save(folder: Path, key: str, index: object) -> None:
    path = _path(folder, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        analysis.store_dictionary(folder)
        stored = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in stored[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("search index not stored in %s (%s)", path.parent, exc)

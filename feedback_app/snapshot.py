"""The knowledge base as it is at the tip of main: what search *and* flags read.

A :class:`Snapshot` is the knowledge base at one commit, read from a scratch
folder that holds the commit's KB files (never the working tree) with the
normal loader and validated with the same code as ``kb validate``, with each
file's blob id and, built on first use, one search index per audience (from
:func:`tooling.kb.view.view` only). Checking a proposed change re-reads only
the changed file and re-runs the cross-entry checks.

:class:`SnapshotCache` keeps that scratch folder (:class:`TreeMirror`) and a
:class:`~tooling.kb.load.LoadCache` between snapshots: when main moves, the
files whose blob id changed are written again (one ``git cat-file --batch``)
and only those entries are parsed and checked again, so a refresh after a
one-entry commit costs a ``git ls-tree`` and the cross-entry checks, not a
reload of every file.

:class:`MainSnapshot` is the one snapshot an app process serves: it checks
at most every ``REF_CHECK_SECONDS`` whether main moved (one ``rev-parse``)
and then builds the new tip's snapshot, so an uncommitted file is never
served and a commit on main is seen within that interval.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from feedback_app.errors import Unavailable
from feedback_app.gitstore import GitStore
from tooling.answer import SearchIndex
from tooling.errors import Problem, Severity
from tooling.git import GitError, export_tree
from tooling.kb.check import check, gc_paused, sorted_problems
from tooling.kb.load import LoadCache, LoadResult, load
from tooling.kb.model import Entry, KnowledgeBase, Staff
from tooling.kb.view import SiteAudience, view

log = logging.getLogger(__name__)


def _key(problem: Problem) -> tuple[str, str, str]:
    return (problem.file, problem.code, problem.message)


@dataclass
class Snapshot:
    commit: str
    kb_dir: str  # "kb": the KB folder inside the repository
    loaded: LoadResult
    problems: list[Problem]
    files: dict[str, tuple[str, str]]  # repository path -> (mode, blob id)
    # Contents of the roster and section files, by blob id, for checking a change.
    meta_blobs: dict[str, bytes]
    today: date = field(default_factory=date.today)
    _indexes: dict[str, tuple[KnowledgeBase, SearchIndex]] = field(default_factory=dict)
    _index_lock: threading.Lock = field(default_factory=threading.Lock)

    def search_view(self, audience: SiteAudience) -> tuple[KnowledgeBase, SearchIndex]:
        """What ``audience`` may see (the one audience view) and its search index,
        built once per snapshot and audience."""
        found = self._indexes.get(audience)
        if found is not None:
            return found
        with self._index_lock:
            if audience not in self._indexes:
                seen = view(self.loaded.kb, audience, self.today)
                self._indexes[audience] = (seen, SearchIndex.build(seen, audience, self.today))
            return self._indexes[audience]

    def indexed(self) -> set[str]:
        """The audiences whose search index is built already."""
        return set(self._indexes)

    def entry(self, entry_id: str) -> Entry | None:
        return self.loaded.kb.entry(entry_id)

    def staff(self, handle: str) -> Staff | None:
        return self.loaded.kb.staff_member(handle)

    def repo_path(self, entry: Entry) -> str:
        return f"{self.kb_dir}/{entry.file}"

    def check_change(self, rel: str, new_text: str, today: date) -> list[Problem]:
        """Errors that writing ``new_text`` to ``rel`` (KB-relative) would add."""
        with tempfile.TemporaryDirectory(prefix="zhiku-check-") as tmp:
            mini = Path(tmp)
            parts = rel.split("/")
            wanted = ["_staff.yaml"] + [
                "/".join([*parts[:depth], "_section.yaml"]) for depth in range(1, len(parts))
            ]
            for name in wanted:
                source = self.files.get(f"{self.kb_dir}/{name}")
                if source is not None:
                    (mini / name).parent.mkdir(parents=True, exist_ok=True)
                    (mini / name).write_bytes(self.meta_blobs[source[1]])
            (mini / rel).parent.mkdir(parents=True, exist_ok=True)
            (mini / rel).write_text(new_text, encoding="utf-8")
            one = load(mini)
        base = self.loaded
        new_entry = next((e for e in one.kb.entries if e.file == rel), None)
        entries = tuple(
            e for e in (new_entry if e.file == rel else e for e in base.kb.entries) if e is not None
        )
        documents = dict(base.documents)
        if rel in one.documents:
            documents[rel] = one.documents[rel]
        merged = LoadResult(
            kb=dataclasses.replace(base.kb, entries=entries),
            problems=[p for p in base.problems if p.file != rel]
            + [p for p in one.problems if p.file == rel],
            documents=documents,
            known_ids=base.known_ids,
        )
        after = merged.problems + check(merged, today)
        before = {_key(p) for p in self.problems if p.severity is Severity.ERROR}
        return sorted_problems(
            p for p in after if p.severity is Severity.ERROR and _key(p) not in before
        )


#: File modes the mirror writes itself; anything else (a symlink) is exported again.
_PLAIN_MODES = ("100644", "100755")


class TreeMirror:
    """The files under one folder of a commit, kept in a scratch folder and brought
    to another commit by blob id: only changed files are written, removed ones deleted.

    The folder is exactly what ``git archive`` of that commit would give for the
    knowledge-base loader: regular files with their blob's bytes, no empty folders.
    """

    def __init__(self, store: GitStore, path: str) -> None:
        self.store = store
        self.path = path
        self.top = Path(tempfile.mkdtemp(prefix="zhiku-snapshot-"))
        # Removed with the mirror (or at exit), quietly: it is a cache, not a resource.
        weakref.finalize(self, shutil.rmtree, self.top, ignore_errors=True)
        self.root = self.top / path if path else self.top
        self.files: dict[str, tuple[str, str]] = {}  # repository path -> (mode, blob id)
        self.commit: str | None = None
        self.plain = True  # the folder holds regular files only
        self.written = 0  # files written by the last move_to

    def move_to(self, commit: str, files: dict[str, tuple[str, str]]) -> dict[str, bytes]:
        """Make the folder hold ``files`` (``GitStore.ls_tree`` of ``commit``); the bytes
        of the blobs it read, by blob id.

        Files are written with their blobs' bytes (``git cat-file --batch``). A tree
        with anything but regular files (a symbolic link) is exported with ``git
        archive`` instead, as a whole, and so is the next tree after it.
        """
        plain = all(mode in _PLAIN_MODES for mode, _ in files.values())
        moved_from, self.commit = self.commit, None  # a move that fails midway: start over
        if moved_from is None or not plain or not self.plain:
            shutil.rmtree(self.top)
            self.top.mkdir()
            self.files = {}
            if not plain:
                export_tree(self.store.git, commit, self.path or ".", self.top)
                self.files = dict(files)
        changed = [p for p, spec in files.items() if self.files.get(p) != spec]
        for rel in [p for p in self.files if p not in files]:
            target = self._target(rel)
            target.unlink(missing_ok=True)
            self._prune(target.parent)
        contents = self.store.blobs(sorted({files[p][1] for p in changed}))
        for rel in changed:
            target = self._target(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)  # never write through what was there
            target.write_bytes(contents[files[rel][1]])
        self.written = len(files) if not plain else len(changed)
        self.root.mkdir(parents=True, exist_ok=True)
        self.files, self.commit, self.plain = dict(files), commit, plain
        return contents

    def _target(self, rel: str) -> Path:
        parts = rel.split("/")
        if any(part in ("", ".", "..") for part in parts):  # git never stores these
            raise GitError(["ls-tree"], 128, f"unexpected path in tree: {rel!r}")
        return self.top.joinpath(*parts)

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, as a fresh export would not have them."""
        while folder != self.top and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


class SnapshotCache:
    """The snapshot of the newest commit asked for; rebuilt when main moves.

    A rebuild reuses the previous one's work: the scratch folder is moved to the new
    commit by blob id and entries whose bytes did not change are taken from the
    load cache (``load_cache.misses`` counts the entries parsed again).
    """

    def __init__(
        self,
        store: GitStore,
        kb_dir: str,
        on_new: Callable[[Snapshot], object] | None = None,
    ) -> None:
        """``on_new`` is called with each snapshot built (the app warms its indexes)."""
        self.store = store
        self.kb_dir = kb_dir.strip("/")
        self.on_new = on_new
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self.mirror = TreeMirror(store, self.kb_dir)
        self.load_cache = LoadCache()

    def get(self, commit: str) -> Snapshot:
        today = date.today()
        current = self._current
        if current is not None and current.commit == commit and current.today == today:
            return current
        with self._lock:
            current = self._current
            if current is None or current.commit != commit or current.today != today:
                current = self._current = self._build(commit, today)
                if self.on_new is not None:
                    self.on_new(current)
            return current

    def peek(self) -> Snapshot | None:
        """The snapshot held now, without checking main or building anything."""
        return self._current

    def _build(self, commit: str, today: date) -> Snapshot:
        started = time.perf_counter()
        files = self.store.ls_tree(commit, self.kb_dir)
        cache = self.load_cache
        misses = cache.misses
        prefix = f"{self.kb_dir}/" if self.kb_dir else ""
        cache.fingerprints = {path.removeprefix(prefix): oid for path, (mode, oid) in files.items()}
        with gc_paused():
            fetched = self.mirror.move_to(commit, files)
            loaded = load(self.mirror.root, cache)
            problems = loaded.problems + check(loaded, today, cache)
        wanted = {
            oid
            for path, (_, oid) in files.items()
            if path.rsplit("/", 1)[-1] in ("_staff.yaml", "_section.yaml")
        }
        # Roster and section files: read by this move, or kept from the last snapshot;
        # only an exported tree (a symbolic link in it) leaves some to read here.
        before = self._current.meta_blobs if self._current is not None else {}
        known = {
            o: fetched[o] if o in fetched else before[o]
            for o in wanted
            if o in fetched or o in before
        }
        known.update(self.store.blobs(sorted(wanted - set(known))))
        log.info(
            "loaded %s at %s: %d entries (%d parsed again, %d files written) in %.2f s",
            self.kb_dir,
            commit[:12],
            len(loaded.kb.entries),
            cache.misses - misses,
            self.mirror.written,
            time.perf_counter() - started,
        )
        return Snapshot(commit, self.kb_dir, loaded, sorted_problems(problems), files, known, today)


class MainSnapshot:
    """The snapshot of the tip of ``base_ref``, checked at most every ``interval`` s."""

    def __init__(
        self,
        store: GitStore,
        kb_dir: str,
        base_ref: str,
        interval: float,
        on_new: Callable[[Snapshot], object] | None = None,
    ) -> None:
        self.store = store
        self.base_ref = base_ref
        self.interval = interval
        self.cache = SnapshotCache(store, kb_dir, on_new)
        self._checked = 0.0
        self._tip: str | None = None

    def tip(self) -> str:
        """Main's commit now (or as of at most ``interval`` seconds ago)."""
        now = time.monotonic()
        if self._tip is None or now - self._checked >= self.interval:
            try:
                tip = self.store.resolve(self.base_ref)
            except GitError as exc:
                log.error("cannot read %s: %s", self.base_ref, exc)
                raise Unavailable("暂时无法读取知识库仓库,请稍后再试") from None
            if tip is None:
                log.error("%s does not exist in %s", self.base_ref, self.store.repo)
                raise Unavailable(f"仓库里没有 {self.base_ref.removeprefix('refs/heads/')} 分支")
            self._tip, self._checked = tip, now
        return self._tip

    def current(self) -> Snapshot:
        tip = self.tip()
        try:
            return self.cache.get(tip)
        except GitError as exc:
            log.error("cannot load the knowledge base at %s: %s", tip[:12], exc)
            raise Unavailable("暂时无法读取知识库仓库,请稍后再试") from None

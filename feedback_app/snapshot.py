"""The knowledge base as it is at one commit of main, loaded once per commit.

A snapshot exports ``kb/`` at a commit to a scratch folder (``git archive``,
never the working tree), loads and validates it with the same code as
``kb validate``, and keeps the model, the parsed documents and each file's
blob id. Checking a proposed change then re-reads only the changed file and
re-runs the cross-entry checks on the cached model.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from feedback_app.gitstore import GitStore
from tooling.errors import Problem, Severity
from tooling.kb.check import check
from tooling.kb.load import LoadResult, load
from tooling.kb.model import Entry, Staff


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
        return sorted({p for p in after if p.severity is Severity.ERROR and _key(p) not in before})


class SnapshotCache:
    """The snapshot of the newest commit asked for; rebuilt when main moves."""

    def __init__(self, store: GitStore, kb_dir: str) -> None:
        self.store = store
        self.kb_dir = kb_dir.strip("/")
        self._lock = threading.Lock()
        self._current: Snapshot | None = None

    def get(self, commit: str) -> Snapshot:
        with self._lock:
            if self._current is None or self._current.commit != commit:
                self._current = self._build(commit)
            return self._current

    def peek(self) -> Snapshot | None:
        """The snapshot held now, without checking main or building anything."""
        return self._current

    def _build(self, commit: str) -> Snapshot:
        files = self.store.ls_tree(commit, self.kb_dir)
        scratch = Path(tempfile.mkdtemp(prefix="zhiku-snapshot-"))
        try:
            if files:
                self.store.archive(commit, self.kb_dir, scratch)
            root = scratch / self.kb_dir
            loaded = load(root)
            problems = loaded.problems + check(loaded, date.today())
            blobs = {
                oid: (scratch / path).read_bytes()
                for path, (_, oid) in files.items()
                if path.rsplit("/", 1)[-1] in ("_staff.yaml", "_section.yaml")
            }
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return Snapshot(commit, self.kb_dir, loaded, sorted(set(problems)), files, blobs)

"""Git plumbing for the feedback app: objects and refs only, never a working tree.

Everything here writes git objects (``hash-object -w``, ``write-tree`` from a
*temporary* index file, ``commit-tree``) and refs (``update-ref`` with the
expected old value). The repository's own index, HEAD and working tree are
never read or written, so people and CI can keep using the checkout.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tooling.git import DEFAULT_TIMEOUT, ZERO_OID, Git, GitError

__all__ = ["ZERO_OID", "FlagRef", "GitError", "GitStore", "Identity", "RepoLock"]

TEMP_INDEX_PREFIX = "zhiku-index-"


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def clean(self) -> Identity:
        """Git refuses ``<``, ``>`` and newlines in identities: drop them."""

        def strip(text: str) -> str:
            return " ".join(text.replace("<", "").replace(">", "").split())

        return Identity(strip(self.name) or "unknown", strip(self.email) or "unknown@localhost")


@dataclass(frozen=True)
class FlagRef:
    """One ``flag/*`` branch as read back from the repository."""

    branch: str
    commit: str
    author_name: str
    created: str  # ISO 8601 author date
    message: str


class RepoLock:
    """A process-wide lock plus ``flock`` on a file in the git dir.

    gunicorn runs several worker processes, each with several threads: the
    thread lock orders threads of one process, the file lock orders processes.
    """

    _thread_locks: ClassVar[dict[str, threading.Lock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._guard:
            self._lock = self._thread_locks.setdefault(str(path), threading.Lock())

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


class GitStore:
    """A git repository reached only through plumbing commands (via :mod:`tooling.git`)."""

    def __init__(self, repo: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.repo = Path(repo)
        self.git = Git(self.repo, timeout=timeout)
        self.timeout = timeout
        self.git_dir = self.git.git_dir()

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> str:
        return self.git.run(*args, input=input, env=env, check=check)

    def run_bytes(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        return self.git.run_bytes(*args, input=input, env=env, check=check)

    def remove_stale_temp_files(self, older_than: float | None = None) -> list[str]:
        """Remove temporary index files a crashed process left in the git dir; return
        their names. Only files older than a few git timeouts are taken, so another
        worker's index in use right now is left alone."""
        age = 4 * self.timeout if older_than is None else older_than
        removed = []
        now = time.time()
        for path in self.git_dir.glob(f"{TEMP_INDEX_PREFIX}*"):
            try:
                if now - path.stat().st_mtime >= age:
                    path.unlink()
                    removed.append(path.name)
            except FileNotFoundError:
                continue
        return sorted(removed)

    def resolve(self, ref: str) -> str | None:
        """The commit a ref points at, or None when it does not exist."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return out.strip() or None

    def ls_tree(self, commit: str, path: str) -> dict[str, tuple[str, str]]:
        """``{path: (mode, blob)}`` for every file under ``path`` at ``commit``."""
        out = self.run_bytes("ls-tree", "-r", "-z", "--full-tree", commit, "--", path)
        files: dict[str, tuple[str, str]] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            if kind == "blob":
                files[name.decode("utf-8")] = (mode, oid)
        return files

    def blob(self, oid: str) -> bytes:
        return self.run_bytes("cat-file", "blob", oid)

    def blobs(self, oids: list[str]) -> dict[str, bytes]:
        """The contents of ``oids``, read with one ``git cat-file --batch``."""
        if not oids:
            return {}
        out = self.run_bytes("cat-file", "--batch", input="".join(f"{o}\n" for o in oids).encode())
        found: dict[str, bytes] = {}
        at = 0
        for oid in oids:
            end = out.index(b"\n", at)
            header = out[at:end].split(b" ")
            if len(header) != 3:
                raise GitError(["cat-file", "--batch"], 128, f"cannot read blob {oid}")
            size = int(header[2])
            found[oid] = out[end + 1 : end + 1 + size]
            at = end + 1 + size + 1  # the content, then a newline
        return found

    def flag_refs(self, prefix: str, not_merged_into: str) -> list[FlagRef]:
        """Branches under ``prefix`` whose tip is not reachable from ``not_merged_into``,
        newest first."""
        fmt = (
            "%(refname)%00%(objectname)%00%(authorname)%00%(authordate:iso-strict)%00%(contents)%1e"
        )
        out = self.run(
            "for-each-ref",
            f"--no-merged={not_merged_into}",
            "--sort=-authordate",
            f"--format={fmt}",
            prefix,
        )
        refs = []
        for record in out.split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            name, oid, author, created, message = record.split("\0", 4)
            refs.append(FlagRef(name.removeprefix("refs/heads/"), oid, author, created, message))
        return refs

    # -- writing ---------------------------------------------------------------------------

    def write_blob(self, data: bytes) -> str:
        return self.run("hash-object", "-w", "--stdin", input=data).strip()

    def tree_with(self, commit: str, files: Mapping[str, tuple[str, str]]) -> str:
        """The tree of ``commit`` with ``{path: (mode, blob)}`` added or replaced.

        Uses a throw-away index file, so the repository's own index is untouched.
        """
        fd, index = tempfile.mkstemp(prefix=TEMP_INDEX_PREFIX, dir=self.git_dir)
        os.close(fd)
        os.unlink(index)  # git wants to create it itself
        env = {"GIT_INDEX_FILE": index}
        try:
            self.run("read-tree", commit, env=env)
            info = "".join(f"{mode} {oid}\t{path}\n" for path, (mode, oid) in files.items())
            self.run("update-index", "--add", "--index-info", input=info.encode(), env=env)
            return self.run("write-tree", env=env).strip()
        finally:
            for leftover in (index, index + ".lock"):
                if os.path.exists(leftover):
                    os.unlink(leftover)

    def commit_tree(
        self,
        tree: str,
        parent: str,
        message: str,
        author: Identity,
        committer: Identity,
        author_date: str | None = None,
    ) -> str:
        """A commit object; ``author_date`` is git's raw form, e.g. ``1767225600 +0000``."""
        author, committer = author.clean(), committer.clean()
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
        }
        if author_date:
            env["GIT_AUTHOR_DATE"] = author_date
        return self.run(
            "commit-tree",
            "--no-gpg-sign",
            tree,
            "-p",
            parent,
            input=message.encode("utf-8"),
            env=env,
        ).strip()

    def create_ref(self, ref: str, oid: str) -> None:
        """Create ``ref``; fails (GitError) if it already exists."""
        self.run("update-ref", "-m", "zhiku feedback", ref, oid, ZERO_OID)

    def push(self, remote: str, ref: str) -> None:
        self.git.run(
            "push", "--quiet", "--porcelain", remote, f"{ref}:{ref}", timeout=2 * self.timeout
        )

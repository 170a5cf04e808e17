"""Git plumbing for the feedback app: objects and refs only, never a working tree.

Everything here writes git objects (``hash-object -w``, ``write-tree`` from a
*temporary* index file, ``commit-tree``) and refs (``update-ref`` with the
expected old value). The repository's own index, HEAD and working tree are
never read or written, so people and CI can keep using the checkout.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

ZERO_OID = "0" * 40

# Environment variables that would redirect git away from the repository we
# mean (or into the shared index); they are removed from every git call.
_GIT_ENV_DROP = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
)


class GitError(RuntimeError):
    """A git command failed; ``stderr`` says why (never contains secrets)."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args[:2])} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


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
    """A git repository reached only through plumbing commands."""

    def __init__(self, repo: Path) -> None:
        self.repo = Path(repo)
        self._env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV_DROP}
        self._env["GIT_TERMINAL_PROMPT"] = "0"
        self._env["LC_ALL"] = "C"
        self.git_dir = Path(self.run("rev-parse", "--absolute-git-dir").strip())

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> str:
        return self.run_bytes(*args, input=input, env=env, check=check).decode("utf-8", "replace")

    def run_bytes(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        full_env = {**self._env, **(env or {})}
        done = subprocess.run(
            ["git", *args],
            cwd=self.repo,
            env=full_env,
            input=input,
            capture_output=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise GitError(list(args), done.returncode, done.stderr.decode("utf-8", "replace"))
        return done.stdout

    # -- reading ---------------------------------------------------------------------------

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

    def archive(self, commit: str, path: str, dest: Path) -> None:
        """Write the files under ``path`` at ``commit`` into ``dest`` (a scratch folder)."""
        import io
        import tarfile

        data = self.run_bytes("archive", "--format=tar", commit, "--", path)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")

    def blob(self, oid: str) -> bytes:
        return self.run_bytes("cat-file", "blob", oid)

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
        fd, index = tempfile.mkstemp(prefix="zhiku-index-", dir=self.git_dir)
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
        self.run("push", "--quiet", "--porcelain", remote, f"{ref}:{ref}")

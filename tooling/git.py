"""The one git runner: every git command Zhiku runs goes through :class:`Git`.

One place decides how git is called: a clean environment (variables that
would point git at another repository, index or identity are dropped; no
terminal prompts; the C locale so messages can be matched), a timeout on
every command (``push`` included), and one error class, :class:`GitError`,
carrying git's own stderr. Callers never spawn git themselves.

It also holds the one way to read the knowledge base as it is at a revision,
:func:`load_at_revision` / :func:`kb_at_revision`, used by ``kb diff``: the
tree is exported with ``git archive`` into a scratch folder (never the working
tree) and loaded with the normal loader, so it sees exactly what ``kb validate``
would. (The feedback app's snapshot of main keeps such a folder between commits
and updates it by blob id: ``feedback_app/snapshot.py``.)
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tooling.errors import ZhikuError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tooling.kb.load import LoadResult
    from tooling.kb.model import KnowledgeBase

#: Seconds a git command may run before it is killed (a push gets PUSH_TIMEOUT).
DEFAULT_TIMEOUT = 30.0
PUSH_TIMEOUT = 60.0
ZERO_OID = "0" * 40

# Environment variables that would redirect git away from the repository we
# mean (or into the shared index, or change who commits); dropped from every call.
_ENV_DROP = (
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


class GitError(ZhikuError):
    """A git command failed or timed out; ``stderr`` is git's own message.

    ``returncode`` is git's exit status, ``-1`` when it timed out and ``-2``
    when git is not installed. The message never holds secrets: only the
    subcommand and git's stderr.
    """

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = list(args)
        self.returncode = returncode
        self.stderr = stderr
        command = " ".join(self.args_[:2])
        super().__init__(f"git {command} failed ({returncode}): {stderr.strip()}")

    @property
    def timed_out(self) -> bool:
        return self.returncode == -1


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git call gets: the process's, cleaned, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return {**env, **(extra or {})}


class Git:
    """Run git in one repository (``cwd``), with a timeout and a clean environment."""

    def __init__(self, repo: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.repo = Path(repo)
        self.timeout = timeout

    def run_bytes(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> bytes:
        """Run ``git ARGS``; return stdout. Raises :class:`GitError` on failure
        (when ``check``), on timeout and when git is missing."""
        limit = self.timeout if timeout is None else timeout
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.repo,
                env=git_env(env),
                input=input,
                capture_output=True,
                check=False,
                timeout=limit,
            )
        except subprocess.TimeoutExpired:
            raise GitError(args, -1, f"timed out after {limit:g} s") from None
        except FileNotFoundError as exc:
            missing = "git is not installed" if exc.filename == "git" else str(exc)
            raise GitError(args, -2, missing) from None
        except NotADirectoryError as exc:
            raise GitError(args, -2, str(exc)) from None
        if check and done.returncode != 0:
            raise GitError(args, done.returncode, done.stderr.decode("utf-8", "replace"))
        return done.stdout

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float | None = None,
    ) -> str:
        """:meth:`run_bytes`, decoded as UTF-8 (undecodable bytes replaced)."""
        out = self.run_bytes(*args, input=input, env=env, check=check, timeout=timeout)
        return out.decode("utf-8", "replace")

    @contextmanager
    def stream(self, *args: str, stdin: str = "") -> Iterator[Iterator[str]]:
        """Run ``git ARGS`` feeding ``stdin``; yield an iterator over stdout chunks.

        For ``git log`` over long histories: the output is parsed while git
        writes it. The process is killed if it outlives the timeout (measured
        from the start) and a :class:`GitError` is raised when it fails.
        """
        # stderr goes to a file, so a chatty git cannot block on a full pipe.
        with tempfile.TemporaryFile() as err_sink:
            try:
                proc = subprocess.Popen(
                    ["git", *args],
                    cwd=self.repo,
                    env=git_env(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err_sink,
                    encoding="utf-8",
                    errors="replace",
                )
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise GitError(args, -2, str(exc)) from None
            with proc:
                assert proc.stdin and proc.stdout
                proc.stdin.write(stdin)
                proc.stdin.close()

                def chunks() -> Iterator[str]:
                    assert proc.stdout is not None
                    while chunk := proc.stdout.read(1 << 16):
                        yield chunk

                try:
                    yield chunks()
                finally:
                    proc.stdout.close()
                    try:
                        proc.wait(timeout=self.timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                        raise GitError(args, -1, f"timed out after {self.timeout:g} s") from None
            if proc.returncode != 0:
                err_sink.seek(0)
                raise GitError(args, proc.returncode, err_sink.read().decode("utf-8", "replace"))

    # -- small questions ------------------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        """The commit ``rev`` names, or None when there is none."""
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return out.strip() or None

    def git_dir(self) -> Path:
        return Path(self.run("rev-parse", "--absolute-git-dir").strip())


def find_toplevel(path: Path) -> Path | None:
    """The top folder of the git work tree holding ``path``, or None (no repo, no git)."""
    probe = Path(path)
    if not probe.is_dir():
        probe = probe.parent
    try:
        top = Git(probe).run("rev-parse", "--show-toplevel", check=False).strip()
    except GitError:
        return None
    return Path(top) if top else None


def export_tree(git: Git, rev: str, path: str, dest: Path) -> bool:
    """Write the files under ``path`` at ``rev`` into ``dest``; False when there are none.

    Members tarfile's ``data`` filter refuses (a symbolic link pointing outside the
    folder, an absolute path) are left out with a warning, not raised: a commit on
    main is the writers' content, and one bad link must not take the app down. The
    loader then simply does not see that file."""
    listing = git.run("ls-tree", "--name-only", rev, "--", path).strip()
    if not listing:
        return False
    data = git.run_bytes("archive", "--format=tar", rev, "--", path)

    def safe(member: tarfile.TarInfo, where: str) -> tarfile.TarInfo | None:
        try:
            return tarfile.data_filter(member, where)
        except tarfile.FilterError as exc:
            log.warning("%s at %s left out: %s", member.name, rev[:12], exc)
            return None

    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter=safe)
    return True


def load_at_revision(repo: Path, rev: str, kb_dir: str = "kb") -> LoadResult:
    """Load (not check) the knowledge-base folder ``kb_dir`` as it is at ``rev``.

    Raises :class:`GitError` when ``rev`` is not a commit of ``repo``. A
    revision without the folder gives an empty knowledge base.
    """
    from tooling.kb.load import load

    git = Git(repo)
    if git.resolve(rev) is None:
        raise GitError(["rev-parse", rev], 128, f"unknown revision {rev!r} in {repo}")
    kb_dir = kb_dir.strip("/") or "."
    with tempfile.TemporaryDirectory(prefix="zhiku-rev-") as tmp:
        scratch = Path(tmp)
        export_tree(git, rev, kb_dir, scratch)
        root = scratch / kb_dir
        root.mkdir(parents=True, exist_ok=True)
        return load(root)


def kb_at_revision(repo: Path, rev: str, kb_dir: str = "kb") -> KnowledgeBase:
    """The knowledge base in ``kb_dir`` as it is at ``rev`` (see :func:`load_at_revision`)."""
    return load_at_revision(repo, rev, kb_dir).kb

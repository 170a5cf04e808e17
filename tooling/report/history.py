"""Read git history fast: one ``git for-each-ref`` and one ``git log`` per report.

Flags are git commits written by the feedback app (the protocol is
:mod:`tooling.flags`): one commit per flag on a ``flag/<entry-id>/<short-id>``
branch, authored by the staff member, with ``Flag-Kind``, ``Flag-Entry``,
``Flag-By`` and ``Flag-Id`` trailers. Unmerged means open; reachable from main means
accepted. Nothing here spawns git per commit: the log is streamed (through the
one git runner, :mod:`tooling.git`) and parsed from a custom ``--format`` with
control-character separators.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tooling.errors import UsageError
from tooling.flags import BRANCH_PREFIX, parse_trailer_lines
from tooling.git import Git, GitError
from tooling.git import find_toplevel as find_repo

log = logging.getLogger("zhiku.githistory")

FLAG_PREFIX = BRANCH_PREFIX
FLAG_REF_PATTERNS = ("refs/heads/flag/", "refs/remotes/*/flag/**")
# Record start, field separator: neither can appear in names, dates, hashes or trailers.
_RS, _FS = "\x1e", "\x00"
_LOG_FORMAT = "%x1e" + "%x00".join(
    ["%H", "%P", "%an", "%ae", "%aI", "%cI", "%s", "%(trailers:only,unfold)", "%b"]
)
PROGRESS_EVERY_SECONDS = 2.0


class GitHistoryError(UsageError):
    """The repository or branch cannot be read (exit code 2: fix the arguments)."""


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored: datetime
    committed: datetime
    subject: str
    trailers: tuple[tuple[str, str], ...] = ()
    body: str = ""  # the message after the subject, without the trailer paragraph

    def trailer(self, key: str) -> str:
        """The last value of trailer ``key`` (case-insensitive), or ``""``."""
        wanted = key.lower()
        for name, value in reversed(self.trailers):
            if name.lower() == wanted:
                return value
        return ""


@dataclass(frozen=True)
class Ref:
    name: str  # short branch name without remote, e.g. flag/return-window/a1b2c3
    refname: str  # full ref, e.g. refs/remotes/origin/flag/return-window/a1b2c3
    sha: str


@dataclass(frozen=True)
class History:
    """Every commit reachable from main or from a flag branch, read in one pass."""

    repo: Path
    main: str
    main_sha: str
    commits: dict[str, Commit]
    flag_refs: tuple[Ref, ...]
    # sha -> the commit date at which it became reachable from main's first-parent chain.
    accepted: dict[str, datetime]

    def on_main(self, sha: str) -> bool:
        return sha in self.accepted


def _git(repo: Path, *args: str) -> str:
    try:
        return Git(repo).run(*args)
    except GitError as exc:
        if exc.returncode == -2:
            raise GitHistoryError(
                f"git cannot run in {repo} ({exc.stderr}; git is needed to read flags and credit)"
            ) from None
        raise GitHistoryError(f"git {args[0]} failed in {repo}: {exc.stderr.strip()}") from None


__all__ = ["GitHistoryError", "History", "find_repo", "read_history"]


def resolve(repo: Path, rev: str) -> str:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except GitHistoryError:
        raise GitHistoryError(
            f"branch {rev!r} not found in {repo} (use --main BRANCH, e.g. --main master "
            "or --main origin/main)"
        ) from None


def flag_refs(repo: Path) -> tuple[Ref, ...]:
    """Local ``flag/*`` branches and remote-tracking ones, one ``git for-each-ref`` call."""
    out = _git(repo, "for-each-ref", "--format=%(objectname) %(refname)", *FLAG_REF_PATTERNS)
    refs = []
    for line in out.splitlines():
        sha, _, refname = line.partition(" ")
        if refname.startswith("refs/heads/"):
            name = refname.removeprefix("refs/heads/")
        else:  # refs/remotes/<remote>/flag/...
            name = refname.split("/", 3)[3]
        if name.startswith(FLAG_PREFIX):
            refs.append(Ref(name, refname, sha))
    return tuple(refs)


_parse_trailers = parse_trailer_lines


def _parse_record(record: str) -> Commit | None:
    fields = record.split(_FS)
    if len(fields) < 8:
        return None
    sha, parents, an, ae, ad, cd, subject, trailers = fields[:8]
    body = fields[8].strip() if len(fields) > 8 else ""
    if trailers.strip() and body.endswith(trailers.strip()):
        body = body[: -len(trailers.strip())].strip()
    return Commit(
        sha=sha,
        parents=tuple(parents.split()),
        author_name=an,
        author_email=ae,
        authored=datetime.fromisoformat(ad),
        committed=datetime.fromisoformat(cd),
        subject=subject,
        trailers=_parse_trailers(trailers),
        body=body,
    )


def iter_commits(repo: Path, revs: Iterable[str]) -> Iterator[Commit]:
    """Stream every commit reachable from ``revs`` from one ``git log`` process."""
    revs = list(revs)
    if not revs:
        return
    start = last = time.monotonic()
    count = 0
    try:
        with Git(repo).stream(
            "log", f"--format={_LOG_FORMAT}", "--stdin", stdin="\n".join(revs) + "\n"
        ) as chunks:
            pending = ""
            for chunk in chunks:
                records = (pending + chunk).split(_RS)
                pending = records.pop()
                for record in records:
                    commit = _parse_record(record)
                    if commit is None:
                        continue
                    count += 1
                    yield commit
                    if count % 1000 == 0:
                        now = time.monotonic()
                        log.debug("reading history: %d commits …", count)
                        if now - last >= PROGRESS_EVERY_SECONDS:
                            log.info("reading history: %d commits …", count)
                            last = now
            if pending:
                commit = _parse_record(pending)
                if commit is not None:
                    count += 1
                    yield commit
    except GitError as exc:
        raise GitHistoryError(f"git log failed in {repo}: {exc.stderr.strip()}") from None
    log.info("read %d commits in %.2f s", count, time.monotonic() - start)


def _acceptance(commits: dict[str, Commit], main_sha: str) -> dict[str, datetime]:
    """When each commit reached main: the commit date of the first-parent commit that
    brought it in (itself, for a fast-forward; the merge commit otherwise)."""
    chain = []
    sha: str | None = main_sha
    while sha is not None and sha in commits:
        chain.append(sha)
        parents = commits[sha].parents
        sha = parents[0] if parents else None
    accepted: dict[str, datetime] = {}
    for sha in reversed(chain):
        commit = commits[sha]
        when = commit.committed
        accepted.setdefault(sha, when)
        stack = [p for p in commit.parents[1:] if p not in accepted]
        while stack:
            current = stack.pop()
            if current in accepted or current not in commits:
                continue
            accepted[current] = when
            stack.extend(p for p in commits[current].parents if p not in accepted)
    return accepted


def read_history(repo: Path, main: str = "main") -> History:
    """Main, every flag branch and every commit reachable from them, in two git calls
    (plus one ``rev-parse`` to check the branch exists)."""
    main_sha = resolve(repo, main)
    refs = flag_refs(repo)
    revs = [main_sha, *sorted({r.sha for r in refs})]
    commits = {c.sha: c for c in iter_commits(repo, revs)}
    log.debug("%d flag branches, %d commits", len(refs), len(commits))
    return History(repo, main, main_sha, commits, refs, _acceptance(commits, main_sha))

"""The one definition of the flag protocol between the feedback app and the reports.

A flag is one git commit on a branch ``flag/<entry-id>/<flag-id>``, authored
by the staff member, whose message ends in trailers::

    反馈(场景缺失): no-water

    没写半夜停水怎么办

    Flag-Kind: missing
    Flag-Entry: no-water
    Flag-By: zhang-wei
    Flag-Id: 3f9c2a1b
    Flag-Proposal: add_scenario

Branch names are built by :func:`branch_name` and read by :func:`parse_branch`;
messages are written by :func:`flag_message` and read by :func:`parse_trailers`;
the kinds and their one set of Chinese labels are :data:`KIND_LABELS`.

The unanswered-question log the search API writes and ``kb report`` reads is
defined here too: JSON lines, one per distinct normalized question, audience
and day, with a count (the bounded, rotated writer is
:mod:`feedback_app.querylog`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# -- kinds ------------------------------------------------------------------------------------

#: Flag kinds and the one set of labels every page, message and panel uses.
KIND_LABELS: dict[str, str] = {"wrong": "答案错误", "missing": "场景缺失", "unclear": "表述模糊"}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)


def kind_label(kind: str) -> str:
    """The Chinese label of ``kind``; an unknown kind is shown as it is."""
    return KIND_LABELS.get(kind, kind)


def kinds_help() -> str:
    """``wrong (答案错误)、missing (场景缺失)、unclear (表述模糊)`` for messages."""
    return "、".join(f"{kind} ({label})" for kind, label in KIND_LABELS.items())


# -- ids and branch names ----------------------------------------------------------------------

BRANCH_PREFIX = "flag/"
ENTRY_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
FLAG_ID = re.compile(r"[0-9a-f]{8}")
MAX_ENTRY_ID = 100


def is_entry_id(text: object) -> bool:
    """Whether ``text`` is an entry id: the *whole* string (a trailing newline fails)."""
    return (
        isinstance(text, str) and len(text) <= MAX_ENTRY_ID and ENTRY_ID.fullmatch(text) is not None
    )


def branch_name(entry_id: str, flag_id: str) -> str:
    """``flag/<entry>/<id>``; refuses ids that are not ids (no path tricks in refs)."""
    if not is_entry_id(entry_id) or FLAG_ID.fullmatch(flag_id) is None:
        raise ValueError(f"not a flag branch: entry {entry_id!r}, id {flag_id!r}")
    return f"{BRANCH_PREFIX}{entry_id}/{flag_id}"


def branch_ref(entry_id: str, flag_id: str) -> str:
    return f"refs/heads/{branch_name(entry_id, flag_id)}"


def entry_refs_prefix(entry_id: str) -> str:
    """The ref prefix under which the flags of one entry live."""
    if not is_entry_id(entry_id):
        raise ValueError(f"not an entry id: {entry_id!r}")
    return f"refs/heads/{BRANCH_PREFIX}{entry_id}/"


def parse_branch(name: str) -> tuple[str, str] | None:
    """``(entry, id)`` of a flag branch name (``flag/…``, no ``refs/`` prefix), or None.

    The id part is taken as it is (branches made by hand may use other ids).
    """
    if not name.startswith(BRANCH_PREFIX):
        return None
    entry_id, sep, flag_id = name[len(BRANCH_PREFIX) :].rpartition("/")
    if not sep or not flag_id or not is_entry_id(entry_id):
        return None
    return entry_id, flag_id


# -- commit messages -----------------------------------------------------------------------------

TRAILER_KIND = "Flag-Kind"
TRAILER_ENTRY = "Flag-Entry"
TRAILER_BY = "Flag-By"
TRAILER_ID = "Flag-Id"
TRAILER_PROPOSAL = "Flag-Proposal"
NOT_APPLIED = " (not applied)"


@dataclass(frozen=True)
class FlagTrailers:
    kind: str
    entry: str
    by: str
    id: str
    proposal: str | None = None  # the proposal's key, e.g. "add_scenario"
    applied: bool = True


def flag_message(trailers: FlagTrailers, note: str) -> str:
    """The whole commit message of a flag: subject, note, trailers."""
    lines = [
        f"反馈({kind_label(trailers.kind)}): {trailers.entry}",
        "",
        note,
        "",
        f"{TRAILER_KIND}: {trailers.kind}",
        f"{TRAILER_ENTRY}: {trailers.entry}",
        f"{TRAILER_BY}: {trailers.by}",
        f"{TRAILER_ID}: {trailers.id}",
    ]
    if trailers.proposal is not None:
        suffix = "" if trailers.applied else NOT_APPLIED
        lines.append(f"{TRAILER_PROPOSAL}: {trailers.proposal}{suffix}")
    return "\n".join(lines) + "\n"


def parse_trailer_lines(text: str) -> tuple[tuple[str, str], ...]:
    """``Key: value`` pairs of a trailer block (as ``git log %(trailers)`` prints it)."""
    pairs = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def parse_trailers(message: str) -> dict[str, str]:
    """The ``Flag-*`` trailers of a whole commit message (its last paragraph)."""
    last = message.strip("\n").split("\n\n")[-1]
    return {k: v for k, v in parse_trailer_lines(last) if k.startswith("Flag-")}


def message_note(message: str) -> str:
    """The note of a flag commit message: the paragraphs between subject and trailers."""
    paragraphs = message.strip("\n").split("\n\n")
    return "\n\n".join(paragraphs[1:-1])


# -- the unanswered-question log ------------------------------------------------------------------


@dataclass(frozen=True)
class UnansweredLine:
    """One line of the log: ``query`` (as first asked that day) was asked ``count``
    times by ``audience`` readers on ``day``, the last time at ``last``."""

    query: str
    audience: str
    count: int
    last: datetime

    @property
    def day(self) -> str:
        return self.last.date().isoformat()


#: The setting both the feedback app (``QUERY_LOG``) and the site build read.
QUERY_LOG_ENV = "ZHIKU_QUERY_LOG"
QUERY_LOG_NAME = "zhiku-unanswered.jsonl"


def default_unanswered_log(git_dir: Path) -> Path:
    """Where the log lives unless configured: in the git directory of the repository
    the app serves (``/srv/kb/.git/zhiku-unanswered.jsonl``): beside the knowledge
    base's data, never in a work tree or the code checkout."""
    return git_dir / QUERY_LOG_NAME


#: Width the count is padded to, so a writer can update it in place.
COUNT_WIDTH = 9
MAX_COUNT = 10**COUNT_WIDTH - 1


def format_unanswered(query: str, audience: str, count: int, last: datetime) -> str:
    """One log line (with its newline). The count comes first, padded to a fixed width."""
    when = last.astimezone(UTC).isoformat(timespec="seconds")
    return (
        f'{{"count": {min(count, MAX_COUNT):>{COUNT_WIDTH}}, "time": "{when}", '
        f'"audience": {json.dumps(audience)}, "query": {json.dumps(query, ensure_ascii=False)}}}\n'
    )


def parse_unanswered_line(line: str) -> UnansweredLine | None:
    """A log line, or None when it is not one. Lines of the older one-per-question
    format (no ``count``) read as a count of 1."""
    try:
        item = json.loads(line)
        when = datetime.fromisoformat(item["time"])
        query = item["query"]
        count = int(item.get("count", 1))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(query, str) or count < 1:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return UnansweredLine(query, str(item.get("audience", "")), count, when)


def rotated_paths(path: Path, keep: int) -> list[Path]:
    """``path.keep`` … ``path.1``, ``path``: the log and its rotations, oldest first."""
    return [path.with_name(f"{path.name}.{n}") for n in range(keep, 0, -1)] + [path]


def read_unanswered(lines: Iterable[str]) -> Iterator[UnansweredLine | None]:
    """Parse lines of the log; None for each line that is not a log line."""
    for line in lines:
        if line.strip():
            yield parse_unanswered_line(line)

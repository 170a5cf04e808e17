"""The bounded unanswered-question log: one line per question, audience and day.

The line format is :func:`tooling.flags.format_unanswered` (read back by
``kb report``). Asking the same question again the same day does not add a
line: the count at the start of that day's line is rewritten in place (it is
padded to a fixed width for this). The file is rotated when it reaches
``max_bytes`` (``unanswered.jsonl.1`` … ``.keep``), so the disk it can take
is bounded whatever the traffic.

Several gunicorn workers share the file: every write holds an ``flock`` on
``<log>.lock``; each process keeps an index of the lines it has read (offset
and count per question) and reads only what was appended since, re-reading
from the start when the file was rotated.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tooling.flags import (
    COUNT_WIDTH,
    MAX_COUNT,
    format_unanswered,
    parse_unanswered_line,
    rotated_paths,
)

log = logging.getLogger(__name__)
COUNT_OFFSET = len('{"count": ')  # where the padded count starts in every line

Key = tuple[str, str, str]  # (day, audience, normalized question)


class QueryLog:
    def __init__(
        self, path: Path, normalize: Callable[[str], str], max_bytes: int, keep: int
    ) -> None:
        self.path = Path(path)
        self.normalize = normalize
        self.max_bytes = max(max_bytes, 4096)
        self.keep = max(keep, 0)
        self._thread_lock = threading.Lock()
        self._inode: int | None = None
        self._read_to = 0
        self._lines: dict[Key, tuple[int, int]] = {}  # key -> (offset, count)

    def record(self, query: str, audience: str, now: datetime | None = None) -> None:
        """Count one more unanswered ``query`` today; never raises (logs instead)."""
        when = (now or datetime.now(UTC)).astimezone(UTC)
        normalized = self.normalize(query) or query.strip()
        key = (when.date().isoformat(), audience, normalized)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._thread_lock, self._locked():
                self._record(key, query.strip(), audience, when)
        except OSError:
            log.exception("could not write the unanswered-question log %s", self.path)

    def _locked(self) -> _FileLock:
        return _FileLock(self.path.with_name(self.path.name + ".lock"))

    def _record(self, key: Key, query: str, audience: str, when: datetime) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._catch_up(fd)
            found = self._lines.get(key)
            if found is not None and found[1] < MAX_COUNT:
                offset, count = found
                os.pwrite(fd, f"{count + 1:>{COUNT_WIDTH}}".encode(), offset + COUNT_OFFSET)
                self._lines[key] = (offset, count + 1)
                return
            line = format_unanswered(query, audience, 1, when).encode("utf-8")
            if self._read_to + len(line) > self.max_bytes:
                os.close(fd)
                fd = -1
                self._rotate()
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._catch_up(fd)
            offset = self._read_to
            os.pwrite(fd, line, offset)  # not O_APPEND: Linux pwrite ignores offsets then
            self._read_to += len(line)
            self._lines[key] = (offset, 1)
        finally:
            if fd >= 0:
                os.close(fd)

    def _catch_up(self, fd: int) -> None:
        """Index the lines appended (by any process) since this one last looked."""
        st = os.fstat(fd)
        if st.st_ino != self._inode or st.st_size < self._read_to:
            self._inode, self._read_to, self._lines = st.st_ino, 0, {}
        if st.st_size == self._read_to:
            return
        data = os.pread(fd, st.st_size - self._read_to, self._read_to)
        offset = self._read_to
        for raw in data.splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                break  # a line being written without the lock (never by us): skip it
            parsed = parse_unanswered_line(raw.decode("utf-8", "replace"))
            if parsed is not None:
                key = (parsed.day, parsed.audience, self.normalize(parsed.query))
                self._lines[key] = (offset, parsed.count)
            offset += len(raw)
        self._read_to = offset

    def _rotate(self) -> None:
        paths = rotated_paths(self.path, self.keep)  # oldest first, the live log last
        if self.keep == 0:
            self.path.unlink(missing_ok=True)
        else:
            paths[0].unlink(missing_ok=True)
            for older, newer in itertools.pairwise(paths):
                if newer.exists():
                    os.replace(newer, older)
        self._inode, self._read_to, self._lines = None, 0, {}
        log.info("rotated the unanswered-question log %s", self.path)


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

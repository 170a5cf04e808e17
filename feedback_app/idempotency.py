"""``Idempotency-Key`` for ``POST /api/flags``: a retried submission makes no second branch.

The panel sends a fresh key with each submission and the same key when it
retries. The first request with a (staff member, key) pair holds a file lock
on that pair while it runs and stores its final answer (a 201 or a 4xx; never
a 5xx, so a retry after a git failure really retries); a later or concurrent
request with the same pair waits for the lock and gets the stored answer.
Records are files named by a hash of the pair, in a folder beside the spool,
forgotten after :data:`KEEP_SECONDS`. A flag finished from the spool after a
crash stores its answer too, so the client's retry finds its branch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KEEP_SECONDS = 24 * 3600


def slot_name(handle: str, key: str) -> str:
    return hashlib.sha256(f"{handle}\0{key}".encode()).hexdigest()[:32]


class Slot:
    def __init__(self, store: IdempotencyStore, name: str) -> None:
        self.store = store
        self.name = name

    @property
    def stored(self) -> tuple[int, dict[str, Any]] | None:
        return self.store.load(self.name)

    def save(self, status: int, body: dict[str, Any]) -> None:
        self.store.save(self.name, status, body)


class IdempotencyStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, name: str, suffix: str) -> Path:
        return self.folder / f"{name}{suffix}"

    @contextmanager
    def claim(self, handle: str, key: str) -> Iterator[Slot]:
        """Hold the (handle, key) pair for the duration of one request."""
        name = slot_name(handle, key)
        fd = os.open(self._path(name, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield Slot(self, name)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def load(self, name: str) -> tuple[int, dict[str, Any]] | None:
        try:
            data = json.loads(self._path(name, ".json").read_text(encoding="utf-8"))
            return int(data["status"]), dict(data["body"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def save(self, name: str, status: int, body: dict[str, Any]) -> None:
        path = self._path(name, ".json")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"status": status, "body": body, "time": time.time()}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, path)

    def forget_old(self, older_than: float = KEEP_SECONDS) -> int:
        """Remove records (and their lock files) older than ``older_than`` seconds."""
        removed, now = 0, time.time()
        for path in self.folder.iterdir():
            try:
                if now - path.stat().st_mtime > older_than:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

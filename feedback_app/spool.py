"""A durable spool: every flag is on disk (fsynced) before its branch is written.

One JSON file per flag in a folder (by default ``.git/zhiku-spool/``), written
to a temporary name, fsynced, then renamed into place; removed once the
branch exists (and is pushed, when a remote is configured). Items still there
when the app starts are finished then.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, flag_id: str) -> Path:
        return self.folder / f"{flag_id}.json"

    def put(self, record: dict[str, Any]) -> None:
        """Write (or replace) ``record`` durably; its ``id`` names the file."""
        path = self._path(record["id"])
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        self._sync_dir()

    def done(self, flag_id: str) -> None:
        self._path(flag_id).unlink(missing_ok=True)
        self._sync_dir()

    def pending(self) -> list[dict[str, Any]]:
        """Unfinished records, oldest first. Unreadable files are reported and kept."""
        records = []
        for path in self.folder.glob("*.json"):
            try:
                records.append(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:  # finished meanwhile by another worker
                continue
            except (OSError, ValueError) as exc:
                log.error("spool: cannot read %s (%s); left in place", path.name, exc)
        return sorted(records, key=lambda r: str(r.get("received", "")))

    def _sync_dir(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

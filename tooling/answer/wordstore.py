"""jieba's dictionary on disk, read word by word, for processes that only answer questions.

Loading jieba's dictionary (about 500,000 words and prefixes, through jieba's
own marshal cache file) takes 0.7 s on a quiet machine and several seconds
on a busy one: most of the time ``kb search`` spent in a new process with a
stored index. Segmenting one question only looks up the few hundred
substrings of that question, so a process that loads a stored index reads the
dictionary from one SQLite file instead (:class:`StoredFreq`), remembering
each answer. The words are the same, so the segmentation is the same.

The file is written next to the stored indexes (:func:`ensure`) by the process
that built one, which has the dictionary in memory anyway. It is named by
jieba's version and the size of its dictionary file, is safe to delete, and
when it is missing or unreadable the whole dictionary is loaded as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

REMEMBERED = 200_000  # looked-up words kept in memory at most


def _name() -> str:
    source = Path(jieba.__file__).parent / "dict.txt"
    size = source.stat().st_size if source.exists() else 0
    digest = hashlib.sha256(f"{jieba.__version__}\0{size}".encode()).hexdigest()[:16]
    return f"jieba-{digest}.sqlite3"


def path_in(folder: Path) -> Path:
    return folder / "indexes" / _name()


def ensure(folder: Path, freq: Mapping[str, int], total: int) -> None:
    """Write the dictionary file under ``folder`` unless it is there already."""
    path = path_in(folder)
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        with sqlite3.connect(temporary) as db:
            db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER) WITHOUT ROWID")
            db.execute("CREATE TABLE meta (total INTEGER)")
            db.executemany("INSERT INTO words VALUES (?, ?)", freq.items())
            db.execute("INSERT INTO meta VALUES (?)", (total,))
        db.close()
        os.replace(temporary, path)
    except (OSError, sqlite3.Error) as exc:
        log.warning("jieba dictionary not stored in %s (%s)", path.parent, exc)


class StoredFreq(Mapping[str, int]):
    """jieba's ``FREQ`` read from the SQLite file, with the words a knowledge base adds
    (its synonyms) held in memory on top. Answers are remembered; thread-safe."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.total = int(self._db.execute("SELECT total FROM meta").fetchone()[0])
        self._known: dict[str, int | None] = {}
        self._added: dict[str, int] = {}
        self._lock = threading.Lock()

    def _lookup(self, word: str) -> int | None:
        if word in self._added:
            return self._added[word]
        try:
            return self._known[word]
        except KeyError:
            pass
        with self._lock:
            row = self._db.execute("SELECT freq FROM words WHERE word = ?", (word,)).fetchone()
        found = None if row is None else int(row[0])
        if len(self._known) >= REMEMBERED:  # a long-running app asks endless new words
            self._known.clear()
        self._known[word] = found
        return found

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._lookup(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self._lookup(word)
        if found is None:
            raise KeyError(word)
        return found

    def get(self, word: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._lookup(word)
        return default if found is None else found

    def __setitem__(self, word: str, freq: int) -> None:
        """What :meth:`jieba.Tokenizer.add_word` does to the dictionary."""
        self._added[word] = freq

    def __iter__(self) -> Iterator[str]:  # jieba never iterates FREQ; a full scan is slow
        with self._lock:
            words = [w for (w,) in self._db.execute("SELECT word FROM words")]
        return iter(dict.fromkeys([*words, *self._added]))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def open_stored(folder: Path | None) -> StoredFreq | None:
    """The dictionary file under ``folder``, or None (then load the whole dictionary)."""
    if folder is None:
        return None
    path = path_in(folder)
    if not path.exists():
        return None
    try:
        return StoredFreq(path)
    except sqlite3.Error as exc:
        log.warning("jieba dictionary %s unreadable (%s); loading the whole one", path, exc)
        return None

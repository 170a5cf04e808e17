"""The browser search index as files: one file for a small site, shards for a big one.

:func:`tooling.site.search_index.build_index` makes one logical index. Up to
:data:`SINGLE_FILE_DOCS` entries it is written as it is, to
``search/zhiku-index.json``. Above that a phone would download megabytes on its
first search, so the index is split (version 2) into term shards of about
:data:`SHARD_BYTES` of postings each (real entries have far more distinct terms
than generated ones, so the split follows the postings' size, not the entry count):

* ``search/zhiku-index.json``, the head: ``{"version": 2, "count": N, "shards": K,
  "chunk": C, "t2s": ..., "synonyms": ...}``;
* ``search/zhiku-terms-<i>.json`` for ``i < K``: ``{"cjk": ..., "words": ..., "sounds": ...}`` (the
  packed postings format of :func:`~tooling.site.search_index.pack_terms`) of the
  terms whose hash (:func:`shard_of`) is ``i``: many small shards, so a query
  downloads little besides its own terms' postings;
* ``search/zhiku-docs-<j>.json``: ``[[location, question, snippet], ...]`` of
  documents ``j*C`` to ``j*C + C - 1``.

The worker fetches the head, then only the term shards of the query's terms, then
only the document chunks of the results it shows. Scores are the same as with
one file: document frequencies come from the postings, the document count from
the head. :func:`read_index` puts the files back together (tests, tools).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tooling.site.search_index import INDEX_PATH, INDEX_VERSION, pack_terms, unpack_terms

SHARDED_VERSION = 2
#: Up to this many entries, and this many bytes of postings, the index stays one file.
SINGLE_FILE_DOCS = 2000
SINGLE_FILE_BYTES = 600_000
#: Bytes of packed postings per term shard (the shard count is the next power of two).
SHARD_BYTES = 20_000
#: Documents per document chunk.
DOCS_PER_CHUNK = 100
TERMS_PATH = "search/zhiku-terms-{}.json"
DOCS_PATH = "search/zhiku-docs-{}.json"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def shard_of(term: str, shards: int) -> int:
    """The shard of a term: ``h = h * 31 + code point`` over its characters, in 32 bits,
    modulo ``shards`` (the worker computes the same with ``Math.imul``)."""
    h = 0
    for ch in term:
        h = (h * 31 + ord(ch)) & 0xFFFFFFFF
    return h % shards


def shard_count(postings_bytes: int) -> int:
    count = 1
    while count * SHARD_BYTES < postings_bytes:
        count *= 2
    return count


def _postings_bytes(index: Mapping[str, Any]) -> int:
    return sum(
        sum(map(len, index[kind].values())) for kind in ("cjk", "words", "sounds") if kind in index
    )


def index_files(
    index: Mapping[str, Any], shards: int | None = None, chunk: int | None = None
) -> dict[str, str]:
    """``{path under the site folder: JSON text}`` of one logical index.

    ``shards``/``chunk`` force the sharded layout with those sizes (tests use small
    ones); by default an index of more than :data:`SINGLE_FILE_DOCS` entries or
    :data:`SINGLE_FILE_BYTES` of postings is sharded.
    """
    docs = index["docs"]
    size = _postings_bytes(index)
    small = len(docs) <= SINGLE_FILE_DOCS and size <= SINGLE_FILE_BYTES
    if shards is None and chunk is None and small:
        return {INDEX_PATH: _json(index)}
    shards = shards or shard_count(size)
    chunk = chunk or DOCS_PER_CHUNK
    head = {
        "version": SHARDED_VERSION,
        "count": len(docs),
        "shards": shards,
        "chunk": chunk,
        "t2s": index["t2s"],
        "synonyms": index["synonyms"],
        "syllables": index.get("syllables", ""),
    }
    if "sure" in index:
        head["sure"] = index["sure"]
    files = {INDEX_PATH: _json(head)}
    split: list[dict[str, str]] = [{} for _ in range(shards)]
    for term, postings in unpack_terms(index).items():
        split[shard_of(term, shards)][term] = postings
    for i, terms in enumerate(split):
        files[TERMS_PATH.format(i)] = _json(pack_terms(terms))
    for j in range(0, max(len(docs), 1), chunk):
        files[DOCS_PATH.format(j // chunk)] = _json(docs[j : j + chunk])
    return files


def write_index_files(files: Mapping[str, str], site_dir: Path) -> None:
    for rel, text in files.items():
        path = site_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read_index(site_dir: Path) -> dict[str, Any]:
    """The logical index (version 1 layout) of a built site, whichever way it was written."""
    head = json.loads((site_dir / INDEX_PATH).read_text(encoding="utf-8"))
    if head.get("version") != SHARDED_VERSION:
        return dict(head)
    terms: dict[str, str] = {}
    for i in range(head["shards"]):
        shard = json.loads((site_dir / TERMS_PATH.format(i)).read_text(encoding="utf-8"))
        terms.update(unpack_terms(shard))
    docs: list[Any] = []
    for j in range(-(-head["count"] // head["chunk"])):
        docs += json.loads((site_dir / DOCS_PATH.format(j)).read_text(encoding="utf-8"))
    index = {
        "version": INDEX_VERSION,
        "docs": docs,
        **pack_terms(terms),
        "t2s": head["t2s"],
        "synonyms": head["synonyms"],
        "syllables": head.get("syllables", ""),
    }
    if "sure" in head:
        index["sure"] = head["sure"]
    return index

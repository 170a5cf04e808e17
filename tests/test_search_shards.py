"""The sharded browser search index: files, reassembly, and the real worker in Chromium.

A real ``kb build`` of a small knowledge base is re-written with tiny shards
(3 term shards, 4 documents a chunk) so the worker's sharded path runs in a
real browser, against a server that records what the worker downloads.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from helpers import QuietHandler, build_site, entry_yaml

from tooling.kb.check import validate
from tooling.site.search_index import INDEX_PATH, build_index, search
from tooling.site.search_shards import (
    SINGLE_FILE_DOCS,
    index_files,
    read_index,
    shard_count,
    shard_of,
    write_index_files,
)

QUESTIONS = [
    "家里停水了怎么办?",
    "楼上漏水滴到我家天花板",
    "物业费可以按季度交吗?",
    "快递放在门口丢了谁负责?",
    "电梯坏了多久能修好?",
    "装修可以周末施工吗?",
    "宠物狗在小区里要拴绳吗?",
    "停车位月租多少钱?",
    "门禁卡丢了怎么补办?",
    "垃圾分类投放时间是几点?",
]
# Two are typed in pinyin (their syllable pairs are looked up); the last matches nothing.
QUERIES = [
    "漏水",
    "停车多少钱",
    "门禁卡补办",
    "装修周末",
    "快递丢了",
    "tingche",
    "menjinka bu ban",
    "没有这个词",
]


def knowledge_base(make_kb: Any) -> Path:
    return make_kb(
        {
            f"{'home' if i % 2 else 'fees'}/q{i:02d}.yaml": entry_yaml(f"q{i:02d}", question=q)
            for i, q in enumerate(QUESTIONS)
        }
    )


def test_small_index_stays_one_file_and_big_sizes(make_kb: Any, tmp_path: Path) -> None:
    kb = validate(knowledge_base(make_kb)).kb
    index = build_index(kb)
    assert index_files(index) == {
        INDEX_PATH: json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    }
    assert SINGLE_FILE_DOCS == 2000
    assert [shard_count(n) for n in (10_000, 20_000, 20_001, 300_000)] == [1, 1, 2, 16]
    assert shard_of("漏水", 1 << 30) == (28431 * 31 + 27700)  # 漏 U+6F0F, 水 U+6C34


def test_sharded_files_put_back_together_are_the_index(make_kb: Any, tmp_path: Path) -> None:
    kb = validate(knowledge_base(make_kb)).kb
    index = build_index(kb)
    files = index_files(index, shards=3, chunk=4)
    assert sorted(files) == [
        "search/zhiku-docs-0.json",
        "search/zhiku-docs-1.json",
        "search/zhiku-docs-2.json",
        INDEX_PATH,
        "search/zhiku-terms-0.json",
        "search/zhiku-terms-1.json",
        "search/zhiku-terms-2.json",
    ]
    head = json.loads(files[INDEX_PATH])
    assert head == {
        "version": 2,
        "count": 10,
        "shards": 3,
        "chunk": 4,
        "t2s": index["t2s"],
        "synonyms": index["synonyms"],
        "syllables": index["syllables"],
        "sure": index["sure"],  # the worker's not-sure score goes with the head
    }
    assert "xiu" in head["syllables"].split()  # 修 (能修好), for queries typed in pinyin
    write_index_files(files, tmp_path / "site")
    assert read_index(tmp_path / "site") == index
    for query in QUERIES:
        assert search(read_index(tmp_path / "site"), query) == search(index, query)


class RecordingHandler(QuietHandler):
    requested: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requested.append(self.path.split("?")[0])
        super().do_GET()


@pytest.fixture
def sharded_site(make_kb: Any, tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    site = build_site(knowledge_base(make_kb), "staff", tmp_path / "site")
    index = read_index(site)
    (site / INDEX_PATH).unlink()
    write_index_files(index_files(index, shards=3, chunk=4), site)
    requested: ClassVar[list[str]] = []
    handler = functools.partial(
        type("Recorder", (RecordingHandler,), {"requested": requested}), directory=str(site)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", site, requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        shutil.rmtree(site, ignore_errors=True)


@pytest.mark.browser
@pytest.mark.slow
def test_worker_downloads_only_the_shards_a_query_needs(
    browser: Any, sharded_site: tuple[str, Path, list[str]]
) -> None:
    url, site, requested = sharded_site
    index = read_index(site)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    requested.clear()
    replies = page.evaluate(
        """async queries => {
          const worker = new Worker("assets/javascripts/workers/zhiku-search-worker.js")
          const next = () => new Promise(resolve =>
            worker.addEventListener("message", ev => resolve(ev.data), { once: true }))
          worker.postMessage({ type: 0, data: { config: {}, docs: [], options: {} } })
          await next()
          const results = []
          for (const query of queries) {
            worker.postMessage({ type: 2, data: query })
            results.push(await next())
          }
          worker.terminate()
          return results
        }""",
        QUERIES[:1],
    )
    page.close()
    assert errors == []
    # The first query (漏水: 漏, 水, 漏水) needs the head, the shards of its three terms,
    # and the document chunks of its results, not the whole index.
    want_shards = {f"/search/zhiku-terms-{shard_of(t, 3)}.json" for t in ("漏", "水", "漏水")}
    got = [(g[0]["location"], round(g[0]["score"], 9)) for g in replies[0]["data"]["items"]]
    want = [(loc, round(score, 9)) for loc, score in search(index, "漏水", limit=20)]
    assert got == want and got
    number = {doc[0]: n for n, doc in enumerate(index["docs"])}
    chunks = {f"/search/zhiku-docs-{number[loc] // 4}.json" for loc, _ in got}
    fetched = {p for p in requested if p.startswith("/search/zhiku-")}
    assert fetched == {"/search/zhiku-index.json"} | want_shards | chunks


@pytest.mark.browser
@pytest.mark.slow
def test_sharded_worker_ranks_like_the_reference(
    browser: Any, sharded_site: tuple[str, Path, list[str]]
) -> None:
    url, site, _ = sharded_site
    index = read_index(site)
    page = browser.new_page()
    page.goto(url)
    replies = page.evaluate(
        """async queries => {
          const worker = new Worker("assets/javascripts/workers/zhiku-search-worker.js")
          const next = () => new Promise(resolve =>
            worker.addEventListener("message", ev => resolve(ev.data), { once: true }))
          worker.postMessage({ type: 0, data: { config: {}, docs: [], options: {} } })
          await next()
          const results = []
          for (const query of queries) {
            worker.postMessage({ type: 2, data: query })
            results.push(await next())
          }
          worker.terminate()
          return results
        }""",
        QUERIES,
    )
    page.close()
    for query, message in zip(QUERIES, replies, strict=True):
        items = message["data"]["items"]
        assert all(g[0]["title"] for g in items), query  # documents were loaded
        got = [(g[0]["location"], round(g[0]["score"], 9)) for g in items]
        want = [(loc, round(score, 9)) for loc, score in search(index, query, limit=20)]
        assert got == want, query
    assert replies[-1]["data"]["items"] == []

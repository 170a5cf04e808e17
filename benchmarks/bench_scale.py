"""How validation and the browser search index grow with the knowledge base: 1k/5k/20k.

For each size (kbgen entries in 20 sections), this measures

* ``kb validate`` in a fresh process: wall time, CPU time, peak RSS;
* the staff site's browser search index as the site writes it
  (:mod:`tooling.site.search_shards`): files, total gzipped size, and what the first
  search downloads (gzipped): the head, the term shards of the query's terms and the
  document chunks of its 20 results, for each of a few typical questions; the
  largest is reported.

With ``--remix`` (needs ``../shared/eval/kb``) the index is measured on entries
shaped like the eval knowledge base's, a third of their characters swapped so
there are new words (``tests/_search_harness.synthetic_kb``): real text has far
more distinct terms than kbgen's, so this is the realistic size.

Targets (issue 15): validate <= 10 s at 20,000; first search <= 1 MB gzipped.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--entries 1000 5000 20000]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build_floor import fix_related, measured
from kbgen import generate

from tooling.kb.check import validate
from tooling.site.assemble import search_files
from tooling.site.search_index import INDEX_PATH, search, strip_syntax
from tooling.site.search_shards import DOCS_PATH, TERMS_PATH, read_index, shard_of
from tooling.site.search_text import query_terms

REPO = Path(__file__).resolve().parent.parent
KB_BIN = Path(sys.executable).with_name("kb")
SIZES = (1000, 5000, 20000)
TODAY = date(2026, 11, 25)
QUERIES = ["一号楼漏水怎么办", "地下车库停车多少钱", "快递在哪里办理要带什么", "物业费能不能延期"]


def gz(text: str) -> int:
    return len(gzip.compress(text.encode("utf-8"), 6))


def first_search_bytes(files: dict[str, str], site: Path, query: str) -> int:
    """Gzipped bytes the worker downloads for its first search of ``query``."""
    head = json.loads(files[INDEX_PATH])
    if head.get("version") != 2:
        return gz(files[INDEX_PATH])
    index = read_index(site)
    from tooling.site.search_index import Normalizer

    t2s = dict(zip(head["t2s"][0::2], head["t2s"][1::2], strict=True))
    wanted = {
        shard_of(t, head["shards"])
        for t in query_terms(
            Normalizer(t2s, head["synonyms"])(strip_syntax(query)),
            frozenset(head.get("syllables", "").split()),
        )
    }
    number = {doc[0]: n for n, doc in enumerate(index["docs"])}
    chunks = {number[loc] // head["chunk"] for loc, _ in search(index, query, limit=20)}
    return (
        gz(files[INDEX_PATH])
        + sum(gz(files[TERMS_PATH.format(i)]) for i in wanted)
        + sum(gz(files[DOCS_PATH.format(j)]) for j in chunks)
    )


def remix_index(entries: int, tmp: Path) -> dict[str, float]:
    """Index files and first-search bytes for ``entries`` remixed eval-KB entries."""
    sys.path.insert(0, str(REPO / "tests"))
    from _search_harness import synthetic_kb

    kb = synthetic_kb(validate(REPO.parent / "shared" / "eval" / "kb").kb, entries, mode="remix")
    files = search_files(kb, "staff", TODAY)
    site = tmp / "remix"
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    queries = [e.question for e in kb.entries[:: max(1, entries // 8)]]
    first = max(first_search_bytes(files, site, q) for q in queries)
    return {
        "remix_index_files": float(len(files)),
        "remix_index_gz_kb": sum(gz(t) for t in files.values()) / 1024,
        "remix_first_search_gz_kb": first / 1024,
    }


def measure(entries: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-scale-") as tmp:
        kb = generate(Path(tmp) / "kb", entries)
        fix_related(kb, entries)
        run = measured(
            [str(KB_BIN), "validate", "--kb", str(kb), "--today", TODAY.isoformat()], REPO
        )
        files = search_files(validate(kb, TODAY).kb, "staff", TODAY)
        site = Path(tmp) / "site"
        for rel, text in files.items():
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / rel).write_text(text, encoding="utf-8")
        first = max(first_search_bytes(files, site, q) for q in QUERIES)
        return {
            "validate_s": run["wall_s"],
            "validate_cpu_s": run["cpu_s"],
            "validate_rss_mb": run["peak_rss_mb"],
            "index_files": float(len(files)),
            "index_gz_kb": sum(gz(t) for t in files.values()) / 1024,
            "first_search_gz_kb": first / 1024,
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--remix", action="store_true", help="only the realistic index sizes")
    args = parser.parse_args()
    sizes = args.entries
    if args.remix:
        print(f"{'entries':>8}{'index files':>12}{'index gz KB':>12}{'1st search gz KB':>17}")
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="zhiku-bench-remix-") as tmp:
                f = remix_index(n, Path(tmp))
            print(
                f"{n:>8,}{f['remix_index_files']:>12.0f}{f['remix_index_gz_kb']:>12.0f}"
                f"{f['remix_first_search_gz_kb']:>17.0f}",
                flush=True,
            )
        sys.exit(0)
    print(
        f"{'entries':>8}{'validate s':>11}{'CPU s':>7}{'RSS MB':>8}{'index files':>12}"
        f"{'index gz KB':>12}{'1st search gz KB':>17}"
    )
    for n in sizes:
        f = measure(n)
        print(
            f"{n:>8,}{f['validate_s']:>11.1f}{f['validate_cpu_s']:>7.1f}{f['validate_rss_mb']:>8.0f}"
            f"{f['index_files']:>12.0f}{f['index_gz_kb']:>12.0f}{f['first_search_gz_kb']:>17.0f}",
            flush=True,
        )

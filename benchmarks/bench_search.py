"""Search benchmark: 5,000 generated entries, index build time, query latency, peak RSS.

Run ``python benchmarks/bench_search.py [--entries N] [--cache-dir DIR | --cold]``;
``benchmarks/run_all.py`` calls :func:`main`, which returns the figures. Vectors are
kept between runs in ``benchmarks/out/search-cache``, so only the first run embeds.
Entries are synthetic but varied: each recombines an object, a problem, a situation
and a way of asking, so the vocabulary and the term statistics look like a real customer-service KB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tooling.answer import SearchIndex

ENTRIES = 5_000
QUERIES = 500
SEED = 20261125

OBJECTS = [
    "电梯",
    "水管",
    "门禁卡",
    "快递",
    "订单",
    "优惠券",
    "积分",
    "会员卡",
    "发票",
    "车位",
    "物业费",
    "水费",
    "电费",
    "燃气",
    "空调",
    "热水器",
    "马桶",
    "窗户",
    "楼道灯",
    "垃圾桶",
    "包裹",
    "退款",
    "退货",
    "换货",
    "尺码",
    "运费",
    "预售",
    "定金",
    "团购",
    "自提点",
    "取货码",
    "生鲜",
    "鸡蛋",
    "牛奶",
    "水果",
    "蔬菜",
    "大米",
    "衣服",
    "鞋子",
    "耳机",
    "手机",
    "充电器",
    "宽带",
    "监控",
    "停车场",
    "快递柜",
    "装修",
    "噪音",
    "宠物",
    "访客",
]
PROBLEMS = [
    "坏了",
    "丢了",
    "不能用",
    "没到",
    "漏水",
    "不亮",
    "刷不开",
    "收费太贵",
    "开错了",
    "少了",
    "发错了",
    "过期了",
    "烂了",
    "退不了",
    "一直没处理",
    "找不到",
    "被别人拿走了",
    "声音很大",
    "有异味",
    "坏了一半",
    "超时了",
    "显示异常",
    "扣款两次",
    "重复下单",
    "无法登录",
]
SITUATIONS = [
    "周末",
    "半夜",
    "节假日",
    "出差回来",
    "刚搬家",
    "老人在家",
    "租客",
    "新业主",
    "第一次",
    "已经签收",
    "还没发货",
    "过了七天",
    "快递员说",
    "团长说",
    "物业前台说",
    "下雨天",
    "孩子放学后",
    "早上上班前",
    "月底",
    "春节期间",
]
ASKS = [
    "怎么办",
    "找谁处理",
    "要多少钱",
    "多久能好",
    "能退吗",
    "能换吗",
    "怎么申请",
    "有补偿吗",
    "谁负责",
    "在哪里办",
    "要带什么材料",
    "能不能加急",
    "可以投诉吗",
    "需要预约吗",
]
RULE_BITS = [
    "请先在小程序提交工单并上传照片",
    "客服会在两小时内联系您",
    "工作日九点到十八点受理",
    "超过保修期的按标准收费",
    "质量问题由我们承担运费",
    "需要提供订单号和签收日期",
    "紧急情况请拨打值班电话",
    "处理结果会短信通知",
    "费用从押金中扣除",
    "三个工作日内原路退回",
    "团长会在当天核实",
    "物业师傅上门前会电话确认",
    "节假日顺延处理",
    "超时未领取的自动退回",
]
SECTIONS = ["repairs", "fees", "orders", "returns", "pickup", "community", "members", "notices"]
STAFF = """\
- handle: bench-owner
  name: 测试
  email: bench@example.com
  team: 客服一组
"""


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


Queries = list[tuple[str, str]]  # (query, expected entry id)


def generate(root: Path, count: int = ENTRIES, seed: int = SEED) -> tuple[Queries, Queries]:
    """Write ``count`` entries under ``root``; return the queries to time: up to
    :data:`QUERIES` of one clause, and as many of two."""
    rng = random.Random(seed)
    (root / "_staff.yaml").write_text(STAFF, encoding="utf-8")
    (root / "_synonyms.yaml").write_text(
        "- [退款, 退钱]\n- [快递, 包裹]\n- [报修, 维修]\n", encoding="utf-8"
    )
    for order, section in enumerate(SECTIONS, 1):
        (root / section).mkdir()
        (root / section / "_section.yaml").write_text(
            f"title: {section}\norder: {order}\n", encoding="utf-8"
        )
    used: set[str] = set()

    def fresh(obj: str) -> str:
        while True:
            text = (
                f"{rng.choice(SITUATIONS)}{obj}{rng.choice(PROBLEMS)}"
                f"{rng.choice(ASKS)}{rng.randint(1, 99)}"
            )
            if text not in used:
                used.add(text)
                return text

    queries: Queries = []
    # Questions of two clauses (a situation, then the ask: people's questions are often
    # so), drawn from their own generator so that the entries, and so the cached
    # vectors, are the same as without them.
    telling = random.Random(seed + 1)
    long_queries: Queries = []
    for n in range(count):
        obj = rng.choice(OBJECTS)
        entry_id = f"entry-{n:05d}"
        question = fresh(obj)
        phrasings = [fresh(obj) for _ in range(rng.randint(3, 5))]
        rule = "。".join(rng.sample(RULE_BITS, 4)) + f"。{obj}相关问题按第{n}号规定处理。"
        cases = [(fresh(obj), "。".join(rng.sample(RULE_BITS, 2))) for _ in range(2)]
        lines = [
            f"id: {entry_id}",
            f"question: {_q(question)}",
            "owner: bench-owner",
            f"rule: {_q(rule)}",
            "phrasings:",
            *(f"  - {_q(p)}" for p in phrasings),
            "scenarios:",
            *(f"  - case: {_q(c)}\n    answer: {_q(a)}" for c, a in cases),
            f"tags: [{obj}]",
            "reviewed: 2026-10-01",
        ]
        section = SECTIONS[n % len(SECTIONS)]
        (root / section / f"{entry_id}.yaml").write_text("\n".join(lines) + "\n", "utf-8")
        if len(queries) < QUERIES:
            # A reworded phrasing: same object and problem, different situation and ask.
            queries.append((f"{rng.choice(SITUATIONS)}{phrasings[0][2:]}", entry_id))
            long_queries.append(
                (f"{telling.choice(SITUATIONS)}在家的时候，{phrasings[1][2:]}", entry_id)
            )
    return queries, long_queries


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cli_search(root: Path, cache: Path, query: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``kb search`` in a new process."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tooling",
            "search",
            "--kb",
            str(root),
            "--audience",
            "staff",
            "--cache",
            str(cache),
            query,
        ],
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, cpu


DEFAULT_CACHE = Path(__file__).resolve().parent / "out" / "search-cache"


def main(entries: int = ENTRIES, cache_dir: Path | None = DEFAULT_CACHE) -> dict[str, float]:
    """Generate, load, index twice and query; return the figures (seconds, ms, MB).

    Vectors are kept in ``cache_dir`` (default ``benchmarks/out/search-cache``), which
    survives runs: the generated texts are the same every run, so only the first run
    into an empty folder embeds them all. The first build's figure is the cold one
    when ``first_build_embedded`` equals ``texts``; the second build is always warm.
    ``cache_dir=None`` uses a throw-away folder (always cold: 7 min at 5,000 on a quiet
    2-core machine, 27 on a busy one)."""
    from tooling.answer import SearchIndex, store
    from tooling.answer.embed import embedder
    from tooling.kb.check import validate

    with tempfile.TemporaryDirectory(prefix="zhiku-bench-search-") as tmp:
        root = Path(tmp) / "kb"
        root.mkdir()
        cache = cache_dir if cache_dir is not None else Path(tmp) / "cache"
        queries, long_queries = generate(root, entries)
        started = time.perf_counter()
        result = validate(root)
        load_seconds = time.perf_counter() - started
        if result.errors:
            raise RuntimeError(f"generated KB has errors: {result.errors[:3]}")
        model = embedder()
        before = _cached_vectors(cache)
        started = time.perf_counter()
        SearchIndex.build(result.kb, "staff", cache=cache, model=model, reuse=False)
        first_seconds = time.perf_counter() - started
        embedded = _cached_vectors(cache) - before
        # Each entry is embedded as its units (question, phrasings, cases) and its rule.
        texts = sum(2 + len(e.phrasings) + len(e.scenarios) for e in result.kb.entries)
        started = time.perf_counter()
        index = SearchIndex.build(result.kb, "staff", cache=cache, model=model, reuse=False)
        build_seconds = time.perf_counter() - started
        timings, hits = _time_queries(index, queries)
        long_timings, long_hits = _time_queries(index, long_queries)
        peak = _peak_rss_mb()
        _cli_search(root, cache, queries[0][0])  # stores the index
        cli = sorted(_cli_search(root, cache, q) for q, _ in queries[1:4])
        key = store.index_key(result.kb, "staff", date.today(), model)
        stored_mb = sum(p.stat().st_size for p in (cache / "indexes").glob(f"{key}*")) / 2**20
    quantiles = statistics.quantiles(timings, n=100)
    long_quantiles = statistics.quantiles(long_timings, n=100)
    estimate = index.estimate
    return {
        "entries": float(len(index)),
        "semantic": float(index.semantic),
        "texts": float(texts),
        "first_build_embedded": float(embedded),
        "load_seconds": round(load_seconds, 2),
        "build_first_seconds": round(first_seconds, 2),
        "build_warm_seconds": round(build_seconds, 2),
        "query_p50_ms": round(quantiles[49], 2),
        "query_p95_ms": round(quantiles[94], 2),
        "query_two_clauses_p50_ms": round(long_quantiles[49], 2),
        "query_two_clauses_p95_ms": round(long_quantiles[94], 2),
        "hit5_synthetic": round((hits + long_hits) / (len(queries) + len(long_queries)), 3),
        "self_wrongly_refused": round(estimate.wrongly_refused, 3) if estimate else -1.0,
        "peak_rss_mb": round(peak, 1),
        "stored_index_mb": round(stored_mb, 1),
        "cli_search_warm_index_seconds": round(cli[1][0], 2),
        "cli_search_warm_index_cpu_seconds": round(cli[1][1], 2),
    }


def _time_queries(index: SearchIndex, queries: Queries) -> tuple[list[float], int]:
    """Milliseconds of each search, and how many found the expected entry in the top 5."""
    timings, hits = [], 0
    for query, expected in queries:
        started = time.perf_counter()
        found = index.search(query, limit=5)
        timings.append((time.perf_counter() - started) * 1000)
        hits += any(h.entry_id == expected for h in found.hits)
    return timings, hits


def _cached_vectors(cache: Path) -> int:
    """How many vectors the cache folder holds (0 when it has none yet)."""
    path = cache / "vectors.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=ENTRIES)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help="vector cache kept between runs (default: benchmarks/out/search-cache)",
    )
    parser.add_argument(
        "--cold", action="store_true", help="use a throw-away cache: every text is embedded"
    )
    args = parser.parse_args()
    figures = main(args.entries, None if args.cold else args.cache_dir)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:g}")

"""Site build at scale: ``kb build`` against plain MkDocs on the same Markdown.

Generates a knowledge base of 5,000 varied entries in a temporary folder, then
builds the staff site (the larger one) twice, each in its own subprocess:

1. ``kb build`` (load + validate + render + MkDocs with the zhiku plugin);
2. plain ``mkdocs build`` of the same rendered Markdown written to a docs
   folder, with the same theme, overrides, extensions, search and nav, but
   without the plugin.

Reports wall time, peak RSS of each build, the largest entry page and the
site size. Targets: entry page < 60 KB, ``kb build`` <= 1.3x plain MkDocs,
peak memory < 1 GB.

Run: ``.venv/bin/python benchmarks/bench_site.py [--entries N]``.
``main()`` returns the figures for a benchmark runner.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENTRIES = 5000
TODAY = "2026-11-25"
SEED = 20261125

WORDS = [
    "退货",
    "退款",
    "物业费",
    "停车",
    "报修",
    "快递",
    "包裹",
    "发票",
    "优惠券",
    "会员",
    "积分",
    "团长",
    "自提点",
    "取货码",
    "电梯",
    "漏水",
    "停水",
    "停电",
    "装修",
    "噪音",
    "宠物",
    "垃圾分类",
    "门禁卡",
    "访客",
    "保修",
    "换货",
    "补发",
    "运费",
    "签收",
    "审核",
    "到账",
    "时效",
    "赔付",
    "投诉",
    "升级",
    "工单",
    "截图",
    "订单号",
    "手机号",
    "身份证",
    "业主",
    "租户",
    "物业",
    "客服",
    "主管",
]
VERBS = [
    "申请",
    "办理",
    "查询",
    "处理",
    "确认",
    "补办",
    "取消",
    "修改",
    "核对",
    "联系",
    "提交",
    "上传",
]
TEAMS = ["售后组", "物业客服中心", "工程维修部", "秩序维护部", "团购运营组", "财务组"]


def sentence(rng: random.Random, n: int = 0) -> str:
    n = n or rng.randint(8, 22)
    parts = [rng.choice(WORDS) if i % 3 else rng.choice(VERBS) for i in range(n)]
    text = "".join(parts)
    return text[: rng.randint(20, 60)] + "。"


def yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid YAML


def make_entry(i: int, rng: random.Random, public_ids: list[str]) -> tuple[str, str, bool]:
    entry_id = f"e{i:05d}"
    internal = rng.random() < 0.1
    lines = [
        f"id: {entry_id}",
        f"question: {yaml_str(f'第{i}号问题：' + sentence(rng, 6)[:40] + '怎么办？')}",
        f"owner: staff-{rng.randrange(20):02d}",
    ]
    if internal:
        lines.append("audience: internal")
    lines.append(f"tags: [{', '.join(rng.sample(WORDS, rng.randint(0, 4)))}]")
    rule = [f"**{sentence(rng)}**", ""]
    for _ in range(rng.randint(1, 8)):
        rule += [sentence(rng) + sentence(rng), ""]
    if rng.random() < 0.3:
        rule += ["| 情况 | 处理 |", "|---|---|"]
        rule += [f"| {rng.choice(WORDS)}{k} | {sentence(rng)} |" for k in range(rng.randint(2, 6))]
        rule.append("")
    if rng.random() < 0.4:
        rule += [f"- {sentence(rng)}" for _ in range(rng.randint(2, 5))]
    lines.append("rule: |")
    lines += [f"  {line}" if line else "" for line in rule]
    scenarios = rng.randint(0, 4)
    if scenarios:
        lines.append("scenarios:")
        for k in range(scenarios):
            lines.append(f"  - case: {yaml_str(f'情况{k}：' + sentence(rng))}")
            lines.append(f"    answer: {yaml_str(sentence(rng) + sentence(rng))}")
    lines.append("phrasings:")
    for k in range(rng.randint(2, 6)):
        lines.append(f"  - {yaml_str(f'问法{i}-{k} ' + sentence(rng, 5)[:20])}")
    if rng.random() < 0.6:
        lines.append("replies:")
        for tone in ("friendly", "formal", "brief"):
            lines.append(f"  {tone}: {yaml_str(sentence(rng) + sentence(rng))}")
    if rng.random() < 0.3:
        lines += [
            "handoff:",
            f"  team: {rng.choice(TEAMS)}",
            f"  collect: [{', '.join(rng.sample(WORDS, 3))}]",
            f"  respond_within: {rng.choice(['30m', '2h', '1d'])}",
        ]
    if public_ids and rng.random() < 0.5:
        related = rng.sample(public_ids[-200:], min(len(public_ids[-200:]), rng.randint(1, 3)))
        lines.append(f"related: [{', '.join(related)}]")
    if rng.random() < 0.2:
        lines += ["links:", f"  - title: 规则说明{i}", f"    url: https://example.com/rules/{i}"]
    reviewed = date(2026, 11, 20) - timedelta(days=rng.randint(0, 300))
    lines.append(f"reviewed: {reviewed.isoformat()}")
    return entry_id, "\n".join(lines) + "\n", internal


def generate_kb(root: Path, entries: int = ENTRIES) -> Path:
    """A valid knowledge base of ``entries`` entries in 10 sections x 5 sub-sections."""
    rng = random.Random(SEED)
    root.mkdir(parents=True)
    (root / "_staff.yaml").write_text(
        "".join(
            f"- handle: staff-{k:02d}\n  name: 同事{k:02d}\n  email: staff{k:02d}@example.com\n"
            f"  team: {TEAMS[k % len(TEAMS)]}\n"
            for k in range(20)
        ),
        encoding="utf-8",
    )
    folders = []
    for s in range(10):
        top = root / f"section-{s}"
        top.mkdir()
        (top / "_section.yaml").write_text(
            f"title: 栏目{s}\norder: {s}\ndescription: 第{s}个栏目的说明\n", encoding="utf-8"
        )
        folders.append(top)
        for t in range(5):
            sub = top / f"sub-{t}"
            sub.mkdir()
            (sub / "_section.yaml").write_text(
                f"title: 子栏目{s}-{t}\norder: {t}\n", encoding="utf-8"
            )
            folders.append(sub)
    public_ids: list[str] = []
    for i in range(entries):
        entry_id, text, internal = make_entry(i, rng, public_ids)
        (folders[i % len(folders)] / f"{entry_id}.yaml").write_text(text, encoding="utf-8")
        if not internal:
            public_ids.append(entry_id)
    return root


def measured(cmd: list[str], cwd: Path) -> dict[str, float]:
    """Run ``cmd`` in a fresh child of a fresh Python; wall time and the child's peak RSS."""
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "start = time.monotonic()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.monotonic() - start\n"
        "if done.returncode: sys.exit(done.stderr[-4000:])\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall_s': wall, 'peak_rss_mb': rss}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *cmd], cwd=cwd, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def plain_mkdocs_project(kb: Path, work: Path) -> Path:
    """The rendered Markdown in a docs folder and a config like mkdocs.yml without the plugin."""
    from mkdocs.utils.yaml import yaml_load

    from tooling.kb.check import validate
    from tooling.site.mkdocs_plugin import ASSETS, OVERRIDES
    from tooling.site.render import nav, render_site

    today = date.fromisoformat(TODAY)
    kb_model = validate(kb, today).kb
    docs = work / "docs"
    for rel, text in render_site(kb_model, "staff", today).items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (docs / "assets/zhiku").mkdir(parents=True)
    for name in ("zhiku.css", "zhiku.js"):
        shutil.copyfile(ASSETS / name, docs / "assets/zhiku" / name)
    with open(REPO / "mkdocs.yml", "rb") as fd:
        config: dict[str, Any] = yaml_load(fd)
    config["docs_dir"] = str(docs)
    config["site_dir"] = str(work / "site")
    config["theme"]["custom_dir"] = str(OVERRIDES)
    config["plugins"] = [
        p for p in config["plugins"] if (p if isinstance(p, str) else next(iter(p))) != "zhiku"
    ]
    config["nav"] = nav(kb_model, "staff", today)
    config["extra_css"] = ["assets/zhiku/zhiku.css"]
    config["extra_javascript"] = ["assets/zhiku/zhiku.js"]
    config["validation"] = {"nav": {"omitted_files": "ignore"}}
    path = work / "mkdocs.yml"
    path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def site_figures(site: Path) -> dict[str, float]:
    files = [p for p in site.rglob("*") if p.is_file()]
    entry_pages = [p for p in site.rglob("e*/index.html")]
    largest = max(entry_pages, key=lambda p: p.stat().st_size)
    figures = {
        "pages": float(len(list(site.rglob("*.html")))),
        "largest_entry_page_kb": largest.stat().st_size / 1024,
        "site_size_mb": sum(p.stat().st_size for p in files) / 1024 / 1024,
    }
    for name in ("search_index.json", "zhiku-index.json"):
        index = site / "search" / name
        if index.exists():
            figures[f"{name.split('.')[0].replace('-', '_')}_mb"] = index.stat().st_size / 1024**2
    return figures


def main(entries: int = ENTRIES) -> dict[str, float]:
    kb_cmd = str(Path(sys.executable).with_name("kb"))
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-site-") as tmp:
        work = Path(tmp)
        start = time.monotonic()
        kb = generate_kb(work / "kb", entries)
        generate_s = time.monotonic() - start
        print(f"generated {entries} entries in {generate_s:.1f} s", file=sys.stderr)

        config = plain_mkdocs_project(kb, work / "plain")
        plain = measured([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)], work)
        print(f"plain mkdocs build: {plain}", file=sys.stderr)

        out = work / "site-staff"
        zhiku = measured(
            [
                kb_cmd,
                "build",
                "--kb",
                str(kb),
                "--audience",
                "staff",
                "--out",
                str(out),
                "--config",
                str(REPO / "mkdocs.yml"),
                "--today",
                TODAY,
            ],
            REPO,
        )
        print(f"kb build: {zhiku}", file=sys.stderr)

        figures = {
            "entries": float(entries),
            "kb_build_s": zhiku["wall_s"],
            "kb_build_peak_rss_mb": zhiku["peak_rss_mb"],
            "mkdocs_build_s": plain["wall_s"],
            "mkdocs_build_peak_rss_mb": plain["peak_rss_mb"],
            "build_time_ratio": zhiku["wall_s"] / plain["wall_s"],
            **site_figures(out),
        }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=ENTRIES)
    results = main(parser.parse_args().entries)
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:,.2f}")
    targets = [
        results["largest_entry_page_kb"] < 60,
        results["build_time_ratio"] <= 1.3,
        results["kb_build_peak_rss_mb"] < 1024,
    ]
    print("targets met" if all(targets) else "TARGETS MISSED")

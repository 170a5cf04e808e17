"""Site build against its floor: ``kb build`` versus a minimal MkDocs + Material site.

The floor is the cheapest site that still shows every entry with Material and
Chinese search: the same entries (from :mod:`kbgen`, in a git repository with
one commit) written by this script, straight from the YAML with PyYAML and
without :mod:`tooling`, as one Markdown page per entry (question as H1, the
rule, scenarios as a list, phrasings, replies in collapsed ``??? note``
admonitions), one index page per section folder listing its entries, a home
page, a nav of sections only, and a minimal ``mkdocs.yml`` (theme material,
``language: zh``, ``font: false``, admonition + pymdownx.details, ``search``
with ``lang: zh``).

Times, each in a fresh subprocess, one after the other:

1. ``kb build --kb KB --audience staff --out X --config mkdocs.yml`` (the
   ``kb`` beside the running Python, with this checkout's ``mkdocs.yml``);
2. ``mkdocs build`` of the minimal rendering.

Reports wall time, CPU time (user + system: steadier than wall time on a shared
machine) and peak RSS of each (``/usr/bin/time -v`` when present,
else ``getrusage(RUSAGE_CHILDREN)`` of a fresh probe process), pages and site
size, the ratio (1)/(2), and the load average before and after (wall times on a
shared machine are only comparable at a similar load). Target: ratio <= 1.3
(aim 1.1).

Run: ``.venv/bin/python benchmarks/bench_build_floor.py [--entries N]``.
``main()`` returns the figures for a benchmark runner.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from kbgen import GIT_ENV, generate

REPO = Path(__file__).resolve().parent.parent
ENTRIES = 5000
TODAY = "2026-11-25"
TARGET_RATIO = 1.3
AIM_RATIO = 1.1
GNU_TIME = Path("/usr/bin/time")
KB_BIN = Path(sys.executable).with_name("kb")
TONES = {"friendly": "亲切", "formal": "专业", "brief": "简洁"}

FLOOR_CONFIG = """\
site_name: 知库
docs_dir: docs
site_dir: site
use_directory_urls: true
theme:
  name: material
  language: zh
  font: false
markdown_extensions:
  - admonition
  - pymdownx.details
plugins:
  - search:
      lang: zh
validation:
  nav:
    omitted_files: ignore
"""


# --- the minimal rendering -------------------------------------------------------------------


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as fd:
        return yaml.safe_load(fd)


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _natural(path: Path) -> list[Any]:
    """Sort key: ``topic2`` before ``topic10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def floor_entry(data: dict[str, Any]) -> str:
    """One entry page: question, rule, scenarios, phrasings, replies (collapsed)."""
    lines = [f"# {_one_line(data['question'])}", "", str(data["rule"]).strip(), ""]
    if data.get("scenarios"):
        lines += ["## 常见场景", ""]
        lines += [
            f"- **{_one_line(s['case'])}**:{_one_line(s['answer'])}" for s in data["scenarios"]
        ]
        lines.append("")
    lines += ["## 其他问法", ""]
    lines += [f"- {_one_line(p)}" for p in data.get("phrasings") or []]
    lines.append("")
    for tone, text in (data.get("replies") or {}).items():
        lines += [f'??? note "{TONES.get(tone, tone)}"', "", f"    {_one_line(text)}", ""]
    return "\n".join(lines)


def floor_project(kb: Path, work: Path) -> tuple[Path, int]:
    """Write the minimal rendering of ``kb`` and its ``mkdocs.yml``; return (config, pages)."""
    docs = work / "docs"
    sections: list[tuple[str, str, list[tuple[str, str]]]] = []
    for section_file in sorted(kb.rglob("_section.yaml"), key=_natural):
        folder = section_file.parent
        rel = folder.relative_to(kb).as_posix()
        entries = []
        for path in sorted(folder.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            data = _load(path)
            target = docs / rel / f"{data['id']}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(floor_entry(data), encoding="utf-8")
            entries.append((data["id"], _one_line(data["question"])))
        sections.append((rel, _one_line(_load(section_file)["title"]), entries))
    nav: list[dict[str, str]] = [{"首页": "index.md"}]
    for rel, title, entries in sections:
        index = docs / rel / "index.md"
        index.parent.mkdir(parents=True, exist_ok=True)
        links = [f"- [{q}]({entry_id}.md)" for entry_id, q in entries]
        index.write_text("\n".join([f"# {title}", "", *links, ""]), encoding="utf-8")
        nav.append({title: f"{rel}/index.md"})
    (docs / "index.md").write_text("# 知库\n\n按栏目浏览。\n", encoding="utf-8")
    config = work / "mkdocs.yml"
    config.write_text(
        FLOOR_CONFIG + yaml.safe_dump({"nav": nav}, allow_unicode=True), encoding="utf-8"
    )
    pages = 1 + len(sections) + sum(len(entries) for _, _, entries in sections)
    return config, pages


# --- measuring -------------------------------------------------------------------------------

_GNU_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_GNU_CPU = re.compile(r"(?:User|System) time \(seconds\): ([0-9.]+)")

_PROBE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.monotonic()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.monotonic() - start\n"
    "if done.returncode: sys.exit(done.stderr[-4000:])\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'wall_s': wall, 'cpu_s': usage.ru_utime + usage.ru_stime,\n"
    "                  'peak_rss_mb': usage.ru_maxrss / 1024}))\n"
)


def measured(cmd: list[str], cwd: Path) -> dict[str, float]:
    """Run ``cmd`` in a fresh process; its wall time, CPU time (user + system) and peak RSS.

    CPU time is reported too because the wall time of a build on a shared machine
    grows with everyone else's load."""
    if GNU_TIME.is_file():
        with tempfile.NamedTemporaryFile("r", suffix=".time", encoding="utf-8") as report:
            start = time.monotonic()
            done = subprocess.run(
                [str(GNU_TIME), "-v", "-o", report.name, *cmd],
                cwd=cwd,
                capture_output=True,
                text=True,
            )
            wall = time.monotonic() - start
            if done.returncode:
                sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-4000:]}")
            text = report.read()
        match, cpu = _GNU_RSS.search(text), _GNU_CPU.findall(text)
        if match is None or len(cpu) != 2:
            sys.exit(f"{GNU_TIME} -v printed no CPU times or maximum resident set size")
        return {
            "wall_s": wall,
            "cpu_s": sum(map(float, cpu)),
            "peak_rss_mb": int(match.group(1)) / 1024,
        }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *cmd], cwd=cwd, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def site_size_mb(site: Path) -> float:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) / 1024**2


def fix_related(root: Path, count: int) -> None:
    """kbgen links the last entries to ids past ``count`` unless it is a multiple of 5,000;
    point those at the first public entry so any ``--entries`` gives a valid knowledge base."""
    for i in range(max(0, count - 10), count):
        for path in root.glob(f"*/*/e{i:05d}.yaml"):
            text = path.read_text(encoding="utf-8")
            match = re.search(r"^related: \[e(\d+)\]$", text, re.MULTILINE)
            if match and int(match.group(1)) >= count:
                text = text.replace(match.group(0), "related: [e00001]")
                path.write_text(text, encoding="utf-8")


def git_commit(root: Path) -> None:
    """Put the knowledge base in git with one commit, as a real one is (report pages)."""
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "kb"]):
        subprocess.run(["git", *args], cwd=root, env=GIT_ENV, check=True, capture_output=True)


def main(entries: int = ENTRIES) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-floor-") as tmp:
        work = Path(tmp)
        start = time.monotonic()
        kb = generate(work / "kb", entries)
        fix_related(kb, entries)
        git_commit(kb)
        config, floor_pages = floor_project(kb, work / "floor")
        print(f"generated {entries} entries in {time.monotonic() - start:.1f} s", file=sys.stderr)

        out = work / "site-staff"
        load_before = os.getloadavg()[0]
        zhiku = measured(
            [
                str(KB_BIN),
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
        floor = measured([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)], work)
        print(f"floor mkdocs build: {floor}", file=sys.stderr)

        figures = {
            "entries": float(entries),
            "kb_build_s": zhiku["wall_s"],
            "kb_build_cpu_s": zhiku["cpu_s"],
            "kb_build_peak_rss_mb": zhiku["peak_rss_mb"],
            "kb_build_pages": float(len(list(out.rglob("*.html")))),
            "kb_build_site_mb": site_size_mb(out),
            "floor_build_s": floor["wall_s"],
            "floor_build_cpu_s": floor["cpu_s"],
            "floor_build_peak_rss_mb": floor["peak_rss_mb"],
            "floor_pages": float(floor_pages),
            "floor_site_mb": site_size_mb(config.parent / "site"),
            "build_time_ratio": zhiku["wall_s"] / floor["wall_s"],
            "cpu_time_ratio": zhiku["cpu_s"] / floor["cpu_s"],
            "peak_rss_ratio": zhiku["peak_rss_mb"] / floor["peak_rss_mb"],
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
        }
        shutil.rmtree(out, ignore_errors=True)
    return figures


def print_table(figures: dict[str, float]) -> None:
    print(f"{int(figures['entries']):,} entries")
    print(f"{'build':<28}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}{'pages':>8}{'site MB':>9}")
    for label, key, pages, site in (
        ("kb build --audience staff", "kb_build", "kb_build_pages", "kb_build_site_mb"),
        ("floor mkdocs build", "floor_build", "floor_pages", "floor_site_mb"),
    ):
        print(
            f"{label:<28}{figures[f'{key}_s']:>9.1f}{figures[f'{key}_cpu_s']:>8.1f}"
            f"{figures[f'{key}_peak_rss_mb']:>13.0f}{figures[pages]:>8.0f}{figures[site]:>9.1f}"
        )
    ratio = figures["build_time_ratio"]
    verdict = (
        "aim met"
        if ratio <= AIM_RATIO
        else "target met"
        if ratio <= TARGET_RATIO
        else "TARGET MISSED"
    )
    print(
        f"ratio kb/floor: time {ratio:.2f}x (target <= {TARGET_RATIO}x, aim {AIM_RATIO}x: "
        f"{verdict}); CPU time {figures['cpu_time_ratio']:.2f}x; "
        f"peak RSS {figures['peak_rss_ratio']:.2f}x"
    )
    print(
        f"load average (1 min): {figures['load_before']:.1f} before, "
        f"{figures['load_after']:.1f} after ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=ENTRIES)
    print_table(main(parser.parse_args().entries))

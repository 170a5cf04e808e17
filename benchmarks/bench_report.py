"""Benchmark ``kb report`` on a big repository: 5,000 entries and 2,000 more commits.

Builds the repository in a temporary folder (entries written as files and
committed once, then 2,000 commits streamed through ``git fast-import``: 1,550
ordinary edits on main and 300 flag commits on ``flag/<entry>/<id>`` branches
with trailers, 150 of them merged with ``--no-ff``-style merge commits), writes
an unanswered-questions log of 2,000 lines, then times ``kb report`` as a
subprocess and reads its peak RSS.

Run: ``.venv/bin/python benchmarks/bench_report.py``; ``main()`` returns the
figures for a runner.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from kbgen import git

ENTRIES = 5_000
SECTIONS = 10
STAFF = 20
PLAIN_COMMITS = 1_550
FLAGS = 300
MERGED_FLAGS = 150
QUERIES = 2_000
TODAY = date(2026, 11, 25)
LIMIT_SECONDS = 10.0
KB_BIN = Path(sys.executable).with_name("kb")
TOPICS = ["停车", "物业费", "快递", "电梯", "门禁", "报修", "装修", "垃圾分类", "宠物", "噪音"]


def staff() -> list[tuple[str, str, str]]:
    return [(f"staff-{i:02d}", f"员工{i:02d}", f"staff{i:02d}@example.com") for i in range(STAFF)]


def write_kb(root: Path, rng: random.Random) -> list[str]:
    people = staff()
    (root / "_staff.yaml").write_text(
        "".join(
            f"- handle: {h}\n  name: {n}\n  email: {e}\n  team: 客服组\n" for h, n, e in people
        ),
        encoding="utf-8",
    )
    ids = []
    for s in range(SECTIONS):
        folder = root / f"section-{s}"
        folder.mkdir()
        (folder / "_section.yaml").write_text(f"title: 分区{s}\norder: {s}\n", encoding="utf-8")
    for i in range(ENTRIES):
        entry_id = f"entry-{i:05d}"
        ids.append(entry_id)
        topic = TOPICS[i % len(TOPICS)]
        reviewed = TODAY - timedelta(days=rng.randint(0, 400))
        extra = ""
        if i % 97 == 0:
            extra += f"expires: {TODAY + timedelta(days=rng.randint(-5, 30))}\n"
        if i % 7 == 0:
            extra += "audience: internal\n"
        phrasings = 2 if i % 11 == 0 else 3
        text = (
            f"id: {entry_id}\n"
            f"question: 第{i}号:{topic}的问题怎么办?\n"
            f"owner: {people[i % STAFF][0]}\n"
            "rule: |\n  核心规则第一行。\n  第二行。\n"
            + ("" if i % 13 == 0 else "scenarios:\n  - case: 一种情况\n    answer: 对应答复\n")
            + "phrasings:\n"
            + "".join(f"  - {topic}问法{i}之{k}\n" for k in range(phrasings))
            + f"reviewed: {reviewed}\n"
            + extra
        )
        (root / f"section-{i % SECTIONS}" / f"{entry_id}.yaml").write_text(text, encoding="utf-8")
    return ids


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def fast_import_stream(base: str, ids: list[str], rng: random.Random) -> tuple[bytes, int]:
    """2,000 commits: plain edits on main, flag commits on branches, some merged."""
    people = staff()
    start = datetime(2025, 11, 25, tzinfo=UTC).timestamp()
    span = (datetime(2026, 11, 24, tzinfo=UTC).timestamp() - start) / (PLAIN_COMMITS + FLAGS)
    out: list[bytes] = []
    mark = 0
    main_mark = ""
    flag_at = set(rng.sample(range(PLAIN_COMMITS + FLAGS), FLAGS))
    merges, commits, flags_made = 0, 0, 0
    for step in range(PLAIN_COMMITS + FLAGS):
        when = int(start + step * span)
        handle, name, email = people[rng.randrange(STAFF)]
        parent = f"from {main_mark}\n" if main_mark else f"from {base}\n"
        mark += 1
        if step in flag_at:
            flags_made += 1
            flag_id = f"{flags_made:06x}"
            entry = ids[rng.randrange(len(ids))]
            kind = ("wrong", "missing", "unclear")[flags_made % 3]
            message = (
                f"反馈:{entry} {kind}\n\n第 {flags_made} 条反馈。\n\n"
                f"Flag-Kind: {kind}\nFlag-Entry: {entry}\nFlag-By: {handle}\nFlag-Id: {flag_id}\n"
            )
            out.append(
                f"commit refs/heads/flag/{entry}/{flag_id}\nmark :{mark}\n"
                f"author {name} <{email}> {when} +0800\n"
                f"committer {name} <{email}> {when} +0800\n".encode()
                + _data(message)
                + parent.encode()
                + f"M 100644 inline flags/{flag_id}.txt\n".encode()
                + _data(f"{kind} {entry}")
            )
            commits += 1
            if merges < MERGED_FLAGS and flags_made % 2 == 0:
                flag_mark = mark
                mark += 1
                merged = when + 3600 * rng.randint(1, 72)
                out.append(
                    f"commit refs/heads/main\nmark :{mark}\n"
                    f"author Reviewer <review@example.com> {merged} +0800\n"
                    f"committer Reviewer <review@example.com> {merged} +0800\n".encode()
                    + _data(f"Merge flag {flag_id}")
                    + parent.encode()
                    + f"merge :{flag_mark}\n".encode()
                )
                main_mark = f":{mark}"
                merges += 1
                commits += 1
            continue
        out.append(
            f"commit refs/heads/main\nmark :{mark}\n"
            f"author {name} <{email}> {when} +0800\n"
            f"committer {name} <{email}> {when} +0800\n".encode()
            + _data(f"Edit notes {step}")
            + parent.encode()
            + f"M 100644 inline notes/{step % 50}.txt\n".encode()
            + _data(f"edit {step}")
        )
        main_mark = f":{mark}"
        commits += 1
    return b"".join(out), commits


def write_queries(path: Path, rng: random.Random) -> None:
    lines = []
    for n in range(QUERIES):
        topic = TOPICS[rng.randrange(len(TOPICS))]
        variant = rng.randrange(60)
        when = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(80_000))
        query = f"{topic}第{variant}种情况怎么处理" + ("?" if n % 3 else "")
        lines.append(json.dumps({"query": query, "time": when.isoformat(), "audience": "public"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(tmp: Path) -> tuple[Path, int]:
    rng = random.Random(7)
    repo = tmp / "repo"
    (repo / "kb").mkdir(parents=True)
    started = time.perf_counter()
    ids = write_kb(repo / "kb", rng)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial knowledge base")
    base = git(repo, "rev-parse", "HEAD").strip()
    stream, commits = fast_import_stream(base, ids, rng)
    git(repo, "fast-import", "--quiet", stdin=stream)
    write_queries(tmp / "unanswered.jsonl", rng)
    print(
        f"built {ENTRIES} entries + {commits} commits in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return repo, commits


def time_report(repo: Path, *extra: str) -> tuple[float, float, str, str]:
    """Seconds, peak RSS in MB (of ``kb report`` and the git it runs), stdout, stderr."""
    cmd = [str(KB_BIN), "report", "--kb", str(repo / "kb"), "--today", str(TODAY), *extra]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"kb report failed ({proc.returncode}):\n{stderr}")
    return seconds, usage.ru_maxrss / 1024, stdout, stderr


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-report-") as name:
        tmp = Path(name)
        repo, commits = build(tmp)
        log = str(tmp / "unanswered.jsonl")
        text_s, text_mb, _, _ = time_report(repo, "--format", "text")
        json_s, json_mb, out, stderr = time_report(repo, "--format", "json", "--queries-log", log)
        data = json.loads(out)
    figures = {
        "entries": float(ENTRIES),
        "commits": float(commits + 1),
        "report_seconds": round(text_s, 2),
        "report_with_queries_seconds": round(json_s, 2),
        "peak_rss_mb": round(text_mb, 1),
        "peak_rss_with_queries_mb": round(json_mb, 1),
        # sanity: what the report found
        "open_flags": float(sum(len(g["flags"]) for g in data["open_flags"])),
        "merged_in_period": float(sum(r["merged"] for r in data["credit"])),
        "stale_entries": float(data["health"]["stale"]),
        "missing_clusters": float(len(data["missing"])),
    }
    print(stderr.strip(), file=sys.stderr)
    for key, value in figures.items():
        print(f"{key}: {value:g}")
    worst = max(text_s, json_s)
    verdict = "OK" if worst <= LIMIT_SECONDS else "TOO SLOW"
    print(f"{verdict}: {worst:.2f} s (limit {LIMIT_SECONDS:g} s)")
    return figures


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    main()

"""The feedback app's snapshot of main at 1k/5k/20k entries: first build and refresh.

For each size, kbgen entries (20 sections) are committed on ``main`` of a fresh git
repository, then, in this process, exactly what the app does when main moves
(:class:`feedback_app.snapshot.SnapshotCache`):

* **first build**: the snapshot of the first commit (every file exported and loaded);
* **refresh**: ``REFRESHES`` times, one entry's rule is edited and committed, and the
  snapshot of the new tip is built from the previous one (wall time; the median and
  the largest are printed, with how many entries were parsed again);
* **cold**: a new cache building that last commit from nothing, which is what every
  refresh cost before snapshots reused each other (wall time).

Wall times include the git commands. The search index is not part of a snapshot
refresh: it is built when the first search after the refresh asks for it.

Target (issue 15): a refresh <= 2 s at 20,000 entries.

Run: ``.venv/bin/python benchmarks/bench_snapshot.py [--entries 1000 5000 20000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build_floor import fix_related, git_commit
from kbgen import generate, git

from feedback_app.gitstore import GitStore
from feedback_app.snapshot import SnapshotCache
from tooling.errors import Severity

SIZES = (1000, 5000, 20000)
REFRESHES = 5
TARGET_REFRESH_S = 2.0


def edit_and_commit(repo: Path, number: int, round_: int) -> str:
    """Change the rule of entry ``number`` and commit it on main; the new tip."""
    path = next((repo / "kb").glob(f"*/*/e{number:05d}.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("rule: |\n", f"rule: |\n  第 {round_} 次修改。\n", 1), "utf-8")
    git(repo, "commit", "-q", "-am", f"Edit e{number:05d}")
    return git(repo, "rev-parse", "HEAD").strip()


def timed(cache: SnapshotCache, commit: str) -> tuple[float, float, int]:
    """Wall and in-process CPU seconds of building ``commit``'s snapshot, entries parsed."""
    misses = cache.load_cache.misses
    wall, cpu = time.perf_counter(), time.process_time()
    snapshot = cache.get(commit)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert snapshot.commit == commit
    assert not [p for p in snapshot.problems if p.severity is Severity.ERROR], "kbgen KB invalid"
    return wall, cpu, cache.load_cache.misses - misses


def measure(entries: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-snapshot-") as tmp:
        repo = Path(tmp) / "repo"
        generate(repo / "kb", entries)
        fix_related(repo / "kb", entries)
        git_commit(repo)
        store = GitStore(repo)
        cache = SnapshotCache(store, "kb")
        first_wall, first_cpu, _ = timed(cache, git(repo, "rev-parse", "HEAD").strip())
        walls, cpus, parsed = [], [], []
        for round_ in range(REFRESHES):
            tip = edit_and_commit(repo, (round_ * 997 + 3) % entries, round_)
            wall, cpu, again = timed(cache, tip)
            walls.append(wall)
            cpus.append(cpu)
            parsed.append(again)
        cold_wall, _, _ = timed(SnapshotCache(store, "kb"), tip)
        return {
            "first_s": first_wall,
            "first_cpu_s": first_cpu,
            "refresh_median_s": statistics.median(walls),
            "refresh_max_s": max(walls),
            "refresh_cpu_median_s": statistics.median(cpus),
            "refresh_parsed_max": float(max(parsed)),
            "cold_s": cold_wall,
        }


def main(sizes: list[int] | None = None) -> dict[str, float]:
    """Figures for a runner, each size's under its own keys."""
    figures: dict[str, float] = {}
    print(
        f"{'entries':>8}{'first s':>9}{'CPU s':>7}{'refresh s (median/max)':>24}"
        f"{'CPU s':>7}{'parsed':>8}{'cold s':>8}"
    )
    for n in sizes or list(SIZES):
        f = measure(n)
        print(
            f"{n:>8,}{f['first_s']:>9.2f}{f['first_cpu_s']:>7.2f}"
            f"{f['refresh_median_s']:>15.2f} / {f['refresh_max_s']:<6.2f}"
            f"{f['refresh_cpu_median_s']:>7.2f}{f['refresh_parsed_max']:>8.0f}{f['cold_s']:>8.2f}",
            flush=True,
        )
        figures.update({f"{k}_{n}": v for k, v in f.items()})
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    main(args.entries)
    sys.exit(0)

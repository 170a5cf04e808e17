"""Run every benchmark and print its figures (``make bench``).

Each ``bench_*.py`` module exposes ``main() -> dict[str, float]``. Each runs in
a fresh Python process, so one benchmark's memory does not inflate the next
one's peak RSS (Linux keeps a parent's high-water mark across fork and exec).
Figures are printed as JSON and written to ``benchmarks/out/results.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
# The last line a benchmark process prints is its figures as JSON.
RUN_ONE = (
    "import importlib, json, sys; "
    "print(json.dumps(importlib.import_module('bench_' + sys.argv[1]).main()))"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names", nargs="*", help="benchmarks to run, e.g. validate search (default: all)"
    )
    args = parser.parse_args(argv)
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = args.names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        parser.error(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}"
        )
    results: dict[str, dict[str, float]] = {}
    for name in chosen:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", RUN_ONE, name],
            cwd=HERE,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"   done in {time.perf_counter() - started:.0f} s: {results[name]}",
            file=sys.stderr,
            flush=True,
        )
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run every benchmark and print its figures (``make bench``).

Each ``bench_*.py`` module exposes ``main() -> dict[str, float]``. Figures are
printed as JSON and written to ``benchmarks/out/results.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


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
        results[name] = importlib.import_module(f"bench_{name}").main()
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

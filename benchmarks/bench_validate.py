"""Benchmark: `kb validate` on 5,000 generated entries.

Target (issue 2): at most 5 s on the 2-core machine, peak memory under 500 MB.
Runs the real command in a subprocess, three times, and reports the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from kbgen import generate

ENTRIES = 5000
RUNS = 3


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "kb", ENTRIES)
        times, peaks = [], []
        for _ in range(RUNS):
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import resource, sys; from tooling.cli import main; rc = main(sys.argv[1:]); "
                    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
                    "sys.exit(rc)",
                    "validate",
                    "--kb",
                    str(root),
                    "--today",
                    "2026-11-25",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"kb validate failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    figures = {
        "entries": ENTRIES,
        "validate_seconds_median": round(statistics.median(times), 2),
        "validate_seconds_max": round(max(times), 2),
        "validate_peak_rss_mb": round(max(peaks), 1),
    }
    return figures


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    result = main()
    print(json.dumps(result, indent=2))

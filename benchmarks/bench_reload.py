"""Save-to-reload time of ``kb serve``: save one entry, poll the served page until it changes.

For each size (default 1,000 and 5,000 generated entries, committed once to git
like a real knowledge base so the staff report pages have history), this

1. starts ``kb serve --audience staff`` (the ``kb`` beside the running Python, with
   this checkout's ``mkdocs.yml``) on a free port and waits for the first build;
2. ``--saves`` times: rewrites one entry's question and rule with a new marker,
   then polls that entry's served page every 50 ms until the marker is on it
   (the live-reload server holds requests while a rebuild runs, so this is the
   time until the writer's browser can show the change);
3. checks that the entry's section page lists the new question too, and at the
   end that the server rebuilt once per save (no rebuild set off by the build);
4. stops the server (its own process group only).

Targets (issue 15): within 2 s at 1,000 entries, within 3 s at 5,000.

Run: ``.venv/bin/python benchmarks/bench_reload.py [--entries 1000 5000] [--saves 5]``.
``main()`` returns the figures for a benchmark runner.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_build_floor import fix_related, git_commit
from kbgen import generate

REPO = Path(__file__).resolve().parent.parent
KB_BIN = Path(sys.executable).with_name("kb")
TODAY = "2026-11-25"
SIZES = (1000, 5000)
TARGETS = {1000: 2.0, 5000: 3.0}
FIRST_BUILD_TIMEOUT = 900.0
RELOAD_TIMEOUT = 300.0
POLL_EVERY = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str | None:
    """The page's text, or None while the server is not up or the page is missing."""
    try:
        with urllib.request.urlopen(url, timeout=RELOAD_TIMEOUT) as response:
            return str(response.read().decode("utf-8"))
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, marker: str, timeout: float, server: subprocess.Popen[bytes]) -> float:
    """Seconds until the page at ``url`` contains ``marker``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if server.poll() is not None:
            sys.exit(f"kb serve exited with {server.returncode}")
        text = fetch(url)
        if text is not None and marker in text:
            return time.monotonic() - start
        time.sleep(POLL_EVERY)
    sys.exit(f"{url} did not show {marker!r} within {timeout:.0f} s")


def save(path: Path, marker: str) -> str:
    """Rewrite the entry's question and the first line of its rule; return the question."""
    text = path.read_text(encoding="utf-8")
    question = f"{marker}怎么办?"
    text = re.sub(r"^question: .*$", f"question: {question}", text, count=1, flags=re.M)
    text = re.sub(r"^rule: \|\n  .*$", f"rule: |\n  {marker}的规则。", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return question


def measure(entries: int, saves: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-reload-") as tmp:
        kb = generate(Path(tmp) / "kb", entries)
        fix_related(kb, entries)
        git_commit(kb)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "serve.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    str(KB_BIN),
                    "serve",
                    "--kb",
                    str(kb),
                    "--port",
                    str(port),
                    "--config",
                    str(REPO / "mkdocs.yml"),
                    "--today",
                    TODAY,
                ],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            first = wait_for(f"{base}/area0/topic0/e00000/", "e00000", FIRST_BUILD_TIMEOUT, server)
            print(f"{entries}: first build served after {first:.1f} s", file=sys.stderr)
            times = []
            for k in range(saves):
                number = 20 * (k * 7 + 3)  # entries in section area0/topic0
                path = kb / "area0" / "topic0" / f"e{number:05d}.yaml"
                marker = f"重载标记{entries}号{k}"
                time.sleep(0.5)  # let the watcher settle after the previous rebuild
                question = save(path, marker)
                elapsed = wait_for(
                    f"{base}/area0/topic0/e{number:05d}/", marker, RELOAD_TIMEOUT, server
                )
                section = fetch(f"{base}/area0/topic0/") or ""
                pages = "".join(fetch(f"{base}/area0/topic0/page.{n}/") or "" for n in range(2, 11))
                if question.rstrip("?") not in section + pages:
                    sys.exit(f"the section page of area0/topic0 does not list {question!r}")
                print(f"{entries}: save {k + 1} shown after {elapsed:.2f} s", file=sys.stderr)
                times.append(elapsed)
            time.sleep(2.0)  # a rebuild started by the build itself would show up by now
            rebuilds = log_path.read_text(encoding="utf-8").count(" pages rebuilt")
            print(f"{entries}: {rebuilds} rebuilds for {saves} saves", file=sys.stderr)
            if rebuilds != saves:
                sys.exit(f"expected one rebuild per save, the log has {rebuilds}")
        finally:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        return {
            "entries": float(entries),
            "first_build_s": first,
            "reload_median_s": statistics.median(times),
            "reload_max_s": max(times),
        }


def main(sizes: tuple[int, ...] = SIZES, saves: int = 5) -> dict[str, float]:
    figures: dict[str, float] = {}
    for entries in sizes:
        for key, value in measure(entries, saves).items():
            if key != "entries":
                figures[f"{key}_{entries}"] = value
    return figures


def print_table(figures: dict[str, float], sizes: tuple[int, ...]) -> None:
    print(f"{'entries':>8}{'first build s':>15}{'reload median s':>17}{'max s':>8}  target")
    for n in sizes:
        target = TARGETS.get(n)
        worst = figures[f"reload_max_s_{n}"]
        verdict = (
            ""
            if target is None
            else f"<= {target:.0f} s " + ("met" if worst <= target else "MISSED")
        )
        print(
            f"{n:>8,}{figures[f'first_build_s_{n}']:>15.1f}"
            f"{figures[f'reload_median_s_{n}']:>17.2f}{worst:>8.2f}  {verdict}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--saves", type=int, default=5)
    args = parser.parse_args()
    chosen = tuple(args.entries)
    print_table(main(chosen, args.saves), chosen)

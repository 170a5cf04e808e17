"""Benchmark the feedback app: 200 flags from 10 concurrent clients against gunicorn.

Copies the example knowledge base (``../shared/eval/kb``) into a fresh git
repository, issues one token per client, starts ``gunicorn -w 2`` on loopback
with the app (``feedback_app:create_app()``, configured through ``ZHIKU_*``
variables exactly as in production), and sends 200 flags from 10 threads: two
in three plain flags, one in three with a proposal (a new phrasing, so each
one is applied, validated and committed as an entry edit). Reports flags per
second and latency (median, 95th percentile, max), then counts the branches
(none may be lost) and runs ``git fsck``.

Run: ``.venv/bin/python benchmarks/bench_feedback.py [--threads N]``; ``main()``
returns the figures for a runner.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from typing import Any

from kbgen import git

ROOT = Path(__file__).resolve().parent.parent
EVAL_KB = ROOT.parent / "shared" / "eval" / "kb"
FLAGS = 200
CLIENTS = 10
WORKERS = 2
TARGET_P95_SECONDS = 1.0
ENTRIES = ["no-water", "water-leak", "repair-channels", "power-trip", "access-card"]


def make_repo(work: Path) -> Path:
    repo = work / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copytree(EVAL_KB, repo / "kb")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial knowledge base")
    return repo


def issue_tokens(repo: Path, tokens_file: Path) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from feedback_app.auth import TokenStore
    from feedback_app.gitstore import GitStore
    from feedback_app.snapshot import SnapshotCache

    store = GitStore(repo)
    tip = store.resolve("refs/heads/main")
    assert tip is not None
    handles = [s.handle for s in SnapshotCache(store, "kb").get(tip).loaded.kb.staff]
    store_ = TokenStore(tokens_file)
    # One token per handle (a new token replaces the handle's old one); clients share them.
    issued = [store_.issue(handle) for handle in handles[:CLIENTS]]
    return [issued[i % len(issued)] for i in range(CLIENTS)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    repo: Path, tokens_file: Path, port: int, threads: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ZHIKU_REPO": str(repo),
        "ZHIKU_TOKENS_FILE": str(tokens_file),
        "ZHIKU_FLAG_RATE_LIMIT": "",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
    if threads > 1:
        command += ["--threads", str(threads)]
    command += ["--log-level", "warning", "feedback_app:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 30 s")


def send(url: str, token: str, body: dict[str, Any]) -> tuple[int, float, str]:
    request = urllib.request.Request(
        f"{url}/api/flags",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            branch = json.loads(response.read())["branch"]
            return response.status, time.perf_counter() - started, branch
    except urllib.error.HTTPError as exc:
        return exc.code, time.perf_counter() - started, exc.read().decode()[:200]


def run_clients(url: str, tokens: list[str]) -> tuple[list[tuple[int, float, str]], float]:
    results: list[tuple[int, float, str]] = []
    lock = threading.Lock()
    per_client = FLAGS // CLIENTS

    def client(n: int) -> None:
        for i in range(per_client):
            body: dict[str, Any] = {
                "entry": ENTRIES[(n + i) % len(ENTRIES)],
                "kind": ("wrong", "missing", "unclear")[i % 3],
                "note": f"压测:客户端 {n} 的第 {i} 条反馈",
            }
            if i % 3 == 2:
                body["proposal"] = {"add_phrasing": f"压测问法 {n}-{i}"}
            outcome = send(url, tokens[n], body)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def main(threads: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zhiku-bench-feedback-") as tmp:
        work = Path(tmp)
        repo = make_repo(work)
        tokens_file = work / "tokens.json"
        tokens = issue_tokens(repo, tokens_file)
        port = free_port()
        server = start_gunicorn(repo, tokens_file, port, threads)
        try:
            results, elapsed = run_clients(f"http://127.0.0.1:{port}", tokens)
        finally:
            server.terminate()
            server.wait(timeout=30)
        ok = [r for r in results if r[0] == 201]
        failed = [r for r in results if r[0] != 201]
        for status, _, detail in failed[:5]:
            print(f"failed: {status} {detail}", file=sys.stderr)
        branches = set(
            git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/flag/").split()
        )
        lost = len({r[2] for r in ok} - branches)
        fsck = subprocess.run(
            ["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True
        )
        latencies = sorted(r[1] for r in results)
        figures = {
            "flags": float(len(results)),
            "accepted": float(len(ok)),
            "branches": float(len(branches)),
            "lost": float(lost),
            "fsck_ok": 1.0 if fsck.returncode == 0 and not fsck.stdout else 0.0,
            "workers": float(WORKERS),
            "threads_per_worker": float(threads),
            "clients": float(CLIENTS),
            "seconds": round(elapsed, 3),
            "flags_per_second": round(len(results) / elapsed, 1),
            "latency_median_s": round(statistics.median(latencies), 4),
            "latency_p95_s": round(statistics.quantiles(latencies, n=20)[18], 4),
            "latency_max_s": round(latencies[-1], 4),
            "p95_under_target": 1.0
            if statistics.quantiles(latencies, n=20)[18] < TARGET_P95_SECONDS
            else 0.0,
        }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    args = parser.parse_args()
    print(json.dumps(main(args.threads), indent=2))

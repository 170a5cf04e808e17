"""``kb serve``: a real server in a subprocess picks up edited YAML and survives errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, entry_yaml

pytestmark = pytest.mark.slow

KB_CMD = str(Path(sys.executable).with_name("kb"))
TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode("utf-8", errors="replace"))


def wait_for(url: str, text: str, timeout: float = TIMEOUT, present: bool = True) -> float:
    """Poll ``url`` until its page contains ``text`` (or no longer does, with
    ``present=False``); return the seconds it took."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        try:
            last = fetch(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            last = ""
        if last and (text in last) == present:
            return time.monotonic() - start
        time.sleep(0.2)
    state = "appear" if present else "go away"
    raise AssertionError(f"{text!r} did not {state} at {url} within {timeout} s:\n{last[-2000:]}")


@pytest.fixture
def served(
    make_kb: Callable[[dict[str, str | bytes]], Path], tmp_path: Path
) -> Iterator[tuple[str, Path, Path]]:
    """``(base url, kb folder, log file)`` of a ``kb serve`` running on a free port."""
    kb = make_kb(
        {
            "repairs/no-water.yaml": entry_yaml("no-water", question="家里没水了怎么办?"),
            "repairs/leak.yaml": entry_yaml("leak", question="漏水找谁?"),
        }
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                KB_CMD,
                "serve",
                "--kb",
                str(kb),
                "--port",
                str(port),
                "--config",
                str(REPO_ROOT / "mkdocs.yml"),
            ],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        base = f"http://127.0.0.1:{port}/"
        wait_for(base + "repairs/no-water/", "家里没水了怎么办", timeout=30)
        yield base, kb, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_serve_picks_up_an_edited_yaml_file(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served
    page = base + "repairs/no-water/"
    assert "livereload" in fetch(page)  # the open page reloads itself on a change
    path = kb / "repairs/no-water.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("核心规则第一行。", "先关总阀再报修。"),
        encoding="utf-8",
    )
    took = wait_for(page, "先关总阀再报修。")
    assert took < TIMEOUT
    assert log.read_text().count("pages rendered for the staff site") >= 2


def test_serve_shows_validation_errors_and_keeps_running(served: tuple[str, Path, Path]) -> None:
    base, kb, log = served
    path = kb / "repairs/leak.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("owner: zhang-wei", "owner: nobody"), encoding="utf-8")
    # The error shows on every page (here the home page) and in the terminal.
    wait_for(base, "知识库有 1 个错误")
    assert "repairs/leak.yaml:3:8: error:" in fetch(base)
    assert "repairs/leak.yaml:3:8: error:" in log.read_text()
    path.write_text(good, encoding="utf-8")
    wait_for(base, "知识库有", present=False)
    assert "漏水找谁" in fetch(base + "repairs/leak/")

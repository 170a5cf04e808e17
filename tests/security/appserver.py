"""A real feedback app for security tests: gunicorn on 127.0.0.1, a real git repo.

:func:`fixture_kb` writes a small knowledge base of its own (no dependency on
the repository's demo ``kb/``): a public entry with replies and an owner, an
internal entry whose question and rule are easy to spot, and a roster of two.
:class:`AppServer` runs ``gunicorn 'feedback_app:create_app()'`` on a free
port with ``ZHIKU_*`` settings, waits until ``/healthz`` answers and keeps its
log, so a test can also prove that no request reached the last-resort 500
handler.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT, STAFF_YAML, entry_yaml, init_kb_repo

GUNICORN = Path(sys.executable).with_name("gunicorn")
INTERNAL_QUESTION = "内部升级流程暗号是什么?"
INTERNAL_RULE = "内部专用:升级到二线请用暗号 XYZZY-7。"
PUBLIC_REPLY = "亲,退货从签收次日算起哦(只给客服看的话术 REPLY-SECRET)"
UNEXPECTED = "unexpected error answering a request"


def fixture_kb(root: Path) -> Path:
    """Write the fixture knowledge base into ``root`` (created) and return it."""
    files = {
        "_staff.yaml": STAFF_YAML,
        "returns/_section.yaml": "title: 退货\norder: 1\n",
        "returns/return-window.yaml": entry_yaml(
            "return-window",
            question="7天无理由退货从哪天开始算?",
            rule="|\n  7天无理由退货从签收次日起算。",
            phrasings="\n  - 超过7天了还能退吗\n  - 七天无理由从哪天算",
            replies=f"\n  friendly: {PUBLIC_REPLY}\n  formal: 您好,退货期限自签收次日起算。",
        ),
        "returns/escalation.yaml": entry_yaml(
            "escalation",
            question=INTERNAL_QUESTION,
            audience="internal",
            rule=f"|\n  {INTERNAL_RULE}",
            phrasings="\n  - 升级二线的暗号\n  - 二线升级口令是什么",
        ),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def make_fixture_repo(tmp: Path) -> Path:
    """A real git repository with the fixture KB committed on main."""
    return init_kb_repo(tmp / "repo", fixture_kb(tmp / "kb-source"))


class AppServer:
    def __init__(
        self,
        repo: Path,
        tokens_file: Path,
        workers: int = 1,
        path_prefix: Path | None = None,
        **settings: str,
    ) -> None:
        self.log_path = repo.parent / f"gunicorn-{time.monotonic_ns()}.log"
        env = {
            **os.environ,
            "ZHIKU_REPO": str(repo),
            "ZHIKU_TOKENS_FILE": str(tokens_file),
            "ZHIKU_REF_CHECK_SECONDS": "0",
            **{f"ZHIKU_{k}": v for k, v in settings.items()},
        }
        if path_prefix is not None:
            env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
        self._log = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "-w",
                str(workers),
                "-b",
                "127.0.0.1:0",
                "--timeout",
                "120",
                "feedback_app:create_app()",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.url = self._wait_for_port()
        self._wait_healthy()

    def _wait_for_port(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", self.log())
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start:\n{self.log()}")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the app did not become healthy:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One request on a fresh connection; ``(status, JSON body, headers)``."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        all_headers = dict(headers or {})
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                status, payload, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, payload, got = exc.code, exc.read(), dict(exc.headers)
        assert status != 500, f"HTTP 500 for {method} {path}: {payload!r}\n{self.log()}"
        assert got.get("Content-Type", "").startswith("application/json"), (status, payload)
        return status, json.loads(payload), got

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        assert UNEXPECTED not in self.log_path.read_text(encoding="utf-8", errors="replace")

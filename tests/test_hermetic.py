"""The suite is hermetic: it never reads the team's kb/, test modules share fixtures only
through conftest.py, and tests of the shared eval set skip loudly when it is absent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

TESTS = Path(__file__).resolve().parent
MODULES = sorted(p for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)


def _offenders(pattern: str) -> list[str]:
    regex = re.compile(pattern, re.MULTILINE)
    return [
        str(path.relative_to(TESTS))
        for path in MODULES
        if regex.search(path.read_text(encoding="utf-8"))
    ]


def test_no_test_reads_the_team_kb() -> None:
    # A team replaces kb/ with its own content; the tool's tests use tests/fixtures/kb.
    assert _offenders(r"DEMO_KB|REPO_ROOT\s*/\s*[\"']kb[\"']") == []


def test_test_modules_do_not_import_each_other() -> None:
    # Fixtures live in conftest.py, plain helpers in helpers.py and _search_harness.py.
    assert _offenders(r"^\s*(?:from|import)\s+test_\w+") == []


def test_no_module_level_build_cache() -> None:
    assert _offenders(r"^_[A-Z_]*(?:BUILT|CACHE)[A-Z_]*\s*[:=]") == []


def test_every_user_of_the_shared_eval_set_skips_when_it_is_absent() -> None:
    users = _offenders(r"\bEVAL_(?:KB|QUERIES)\b")
    assert users, "no test uses the shared eval set any more: drop this check"
    silent = [
        name
        for name in users
        if name not in ("conftest.py", "helpers.py")
        and "require_shared_eval()" not in (TESTS / name).read_text(encoding="utf-8")
    ]
    assert silent == []


@pytest.mark.slow
def test_without_shared_the_eval_tests_skip_with_a_loud_reason(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_validate.py",
            "tests/test_search_eval.py",
            "-k",
            "shared_eval_kb or dev_set or fixture",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-rs",
            "-q",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "ZHIKU_SHARED_DIR": str(tmp_path / "no-shared")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert re.search(r"\b2 passed, 2 skipped\b", out), out
    reason = (
        f"SHARED EVAL DATA ABSENT: {tmp_path / 'no-shared'} is not beside the repository; "
        "this test measures quality on the large shared eval set, its fixture twin still runs"
    )
    assert out.count(reason) == 2, out


def test_the_modules_collected_first_exist() -> None:
    """conftest's LONGEST_MODULES orders collection; a renamed module would drop out
    of it silently."""
    from conftest import LONGEST_MODULES

    assert [m for m in LONGEST_MODULES if not (REPO_ROOT / m).is_file()] == []

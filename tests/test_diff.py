"""`kb diff` on a real repository with a few commits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import entry_yaml, git

from tooling.cli import main
from tooling.kb.diff import diff


@pytest.fixture
def history(make_kb: Callable[[dict[str, str]], Path], make_repo: Callable[[Path], Path]) -> Path:
    source = make_kb(
        {
            "repairs/keep.yaml": entry_yaml("keep"),
            "repairs/edit.yaml": entry_yaml("edit"),
            "repairs/drop.yaml": entry_yaml("drop"),
        }
    )
    repo = make_repo(source)
    git(repo, "tag", "v1")
    kb = repo / "kb"
    (kb / "repairs" / "drop.yaml").unlink()
    (kb / "repairs" / "new.yaml").write_text(entry_yaml("new"), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add new, drop drop")
    text = (kb / "repairs" / "edit.yaml").read_text(encoding="utf-8")
    text = text.replace("核心规则第一行。", "核心规则改过了。").replace("2026-10-01", "2026-11-20")
    (kb / "repairs" / "edit.yaml").write_text(text, encoding="utf-8")
    git(repo, "commit", "-q", "-am", "edit rule")
    return repo


def test_diff_lists_added_removed_changed_with_fields(history: Path) -> None:
    result = diff(history, "v1", "HEAD")
    assert [c.id for c in result.added] == ["new"]
    assert [c.id for c in result.removed] == ["drop"]
    assert [(c.id, c.fields) for c in result.changed] == [("edit", ("rule", "reviewed"))]


def test_diff_between_intermediate_commits(history: Path) -> None:
    result = diff(history, "HEAD~1", "HEAD")
    assert result.added == () and result.removed == ()
    assert [c.id for c in result.changed] == ["edit"]
    assert diff(history, "HEAD", "HEAD").empty


def test_cli_text_markdown_json(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = str(history / "kb")
    assert main(["diff", "v1", "HEAD", "--kb", kb]) == 0
    assert capsys.readouterr().out == (
        "+ new  new 怎么办?\n"
        "- drop  drop 怎么办?\n"
        "~ edit  edit 怎么办? [rule, reviewed]\n"
        "1 added, 1 removed, 1 changed\n"
    )
    assert main(["diff", "v1", "--kb", kb, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## 知识库变更 `v1` → `HEAD`\n\n新增 1 · 删除 1 · 修改 1\n")
    assert "| 修改 | `edit` | edit 怎么办? | rule, reviewed |" in out
    assert main(["diff", "v1", "HEAD", "--kb", kb, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["changed"][0]["fields"] == ["rule", "reviewed"]


def test_cli_unknown_revision_is_a_usage_error(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "no-such-rev", "HEAD", "--kb", str(history / "kb")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_outside_git_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "HEAD~1", "HEAD", "--kb", str(tmp_path)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err

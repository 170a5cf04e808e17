"""``kb report`` on a real git repository: flags, credit, health and the CLI formats."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import STAFF_YAML, entry_yaml, git

import tooling.git
from tooling.cli import main
from tooling.flags import default_unanswered_log
from tooling.report import history as git_history
from tooling.report.build import make_report
from tooling.report.pages import site_report_pages

TODAY = date(2026, 11, 25)  # a Wednesday; the period is 2026-10-26 .. 2026-11-25

STAFF = (
    STAFF_YAML
    + """\
- handle: wang-fang
  name: 王芳
  email: wang.fang@example.com
  team: 客服二组
"""
)
PEOPLE = {
    "zhang-wei": ("张伟", "zhang.wei@example.com"),
    "li-na": ("李娜", "li.na@example.com"),
    "wang-fang": ("王芳", "wang.fang@example.com"),
}
THREE = "\n  - {0} 问法一\n  - {0} 问法二\n  - {0} 问法三"


def kb_files() -> dict[str, str]:
    def entry(entry_id: str, **fields: Any) -> str:
        fields.setdefault("phrasings", THREE.format(entry_id))
        return entry_yaml(entry_id, **fields)

    return {
        "_staff.yaml": STAFF,
        # stale since 2026-08-28 (180 days after 2026-03-01): 89 days overdue
        "repairs/stale-one.yaml": entry("stale-one", reviewed="2026-03-01"),
        # stale since 2026-07-30 (90 days after 2026-05-01): 118 days overdue
        "repairs/stale-two.yaml": entry(
            "stale-two", owner="li-na", reviewed="2026-05-01", review_every="90d"
        ),
        # stale from exactly today
        "repairs/stale-today.yaml": entry("stale-today", owner="li-na", reviewed="2026-05-29"),
        "repairs/fresh.yaml": entry("fresh", owner="li-na"),
        "notices/expiring.yaml": entry("expiring", expires="2026-12-09"),  # 14 days left
        "notices/far.yaml": entry("far", expires="2026-12-10"),  # 15 days left
        # expired 5 days ago: listed as expired, not as stale
        "notices/expired.yaml": entry(
            "expired", owner="li-na", reviewed="2026-01-01", expires="2026-11-20"
        ),
        "fees/internal-thin.yaml": entry("internal-thin", audience="internal", scenarios=None),
        "fees/two-phrasings.yaml": entry_yaml("two-phrasings", owner="wang-fang"),
    }


def commit_flag(
    repo: Path,
    flag_id: str,
    entry: str,
    kind: str,
    handle: str,
    when: str,
    committed: str | None = None,
    by_trailer: bool = True,
) -> str:
    """A flag branch off main with one flag commit, as the feedback app writes it."""
    name, email = PEOPLE[handle]
    branch = f"flag/{entry}/{flag_id}"
    git(repo, "checkout", "-q", "-b", branch, "main")
    note = repo / "notes" / f"{flag_id}.txt"
    note.parent.mkdir(exist_ok=True)
    note.write_text(f"{kind} {entry}\n", encoding="utf-8")
    git(repo, "add", "notes")
    trailers = [f"Flag-Kind: {kind}", f"Flag-Entry: {entry}"]
    if by_trailer:
        trailers.append(f"Flag-By: {handle}")
    trailers.append(f"Flag-Id: {flag_id}")
    message = f"反馈:{entry} {kind}\n\n{flag_id} 的说明:答案不对。\n\n" + "\n".join(trailers) + "\n"
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": committed or when,
    }
    git(repo, "commit", "-q", "-m", message, env=env)
    git(repo, "checkout", "-q", "main")
    return branch


def merge(repo: Path, branch: str, when: str, ff: bool = False) -> None:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if ff:
        git(repo, "merge", "-q", "--ff-only", branch, env=env)
    else:
        git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch, env=env)


@pytest.fixture
def flag_repo(
    make_kb: Callable[[dict[str, str | bytes]], Path], make_repo: Callable[[Path], Path]
) -> Path:
    repo = make_repo(make_kb(kb_files()))
    # Before the period: raised and accepted in September.
    merge(
        repo,
        commit_flag(repo, "f7", "fresh", "wrong", "zhang-wei", "2026-09-10T10:00:00+08:00"),
        "2026-09-15T10:00:00+08:00",
    )
    # Raised before the period, accepted in it.
    merge(
        repo,
        commit_flag(repo, "f6", "fresh", "missing", "li-na", "2026-09-01T10:00:00+08:00"),
        "2026-10-28T10:00:00+08:00",
    )
    merge(
        repo,
        commit_flag(repo, "f1", "stale-one", "wrong", "zhang-wei", "2026-11-02T10:00:00+08:00"),
        "2026-11-05T10:00:00+08:00",
    )
    # Accepted by fast-forward: the flag commit itself lands on main on 2026-11-04.
    merge(
        repo,
        commit_flag(
            repo,
            "f9",
            "stale-two",
            "unclear",
            "wang-fang",
            "2026-11-03T10:00:00+08:00",
            committed="2026-11-04T09:00:00+08:00",
        ),
        "2026-11-04T09:00:00+08:00",
        ff=True,
    )
    # An ordinary edit on main is not a flag.
    (repo / "notes" / "edit.txt").write_text("edit\n", encoding="utf-8")
    git(repo, "add", "notes")
    git(
        repo,
        "commit",
        "-q",
        "-m",
        "Edit stale-one",
        env={
            "GIT_AUTHOR_NAME": "张伟",
            "GIT_AUTHOR_EMAIL": "zhang.wei@example.com",
            "GIT_AUTHOR_DATE": "2026-11-06T10:00:00+08:00",
        },
    )
    merge(
        repo,
        commit_flag(repo, "f2", "fresh", "unclear", "li-na", "2026-11-10T10:00:00+08:00"),
        "2026-11-12T10:00:00+08:00",
    )
    # Open flags.
    commit_flag(repo, "f5", "stale-one", "wrong", "zhang-wei", "2026-11-15T10:00:00+08:00")
    commit_flag(repo, "f3", "stale-one", "missing", "li-na", "2026-11-20T10:00:00+08:00")
    commit_flag(repo, "f4", "stale-one", "wrong", "wang-fang", "2026-11-21T10:00:00+08:00")
    # No Flag-By trailer: credited by the author's e-mail; the entry does not exist.
    commit_flag(
        repo,
        "f8",
        "no-such-entry",
        "unclear",
        "li-na",
        "2026-11-22T10:00:00+08:00",
        by_trailer=False,
    )
    # Only on the remote: pushed, then the local branch deleted.
    branch = commit_flag(repo, "f10", "fresh", "unclear", "wang-fang", "2026-11-23T10:00:00+08:00")
    git(repo, "push", "-q", "origin", branch)
    git(repo, "branch", "-q", "-D", branch)
    return repo


EXPECTED_CREDIT = [
    # handle, name, raised, merged, score
    ("li-na", "李娜", 3, 2, 9),  # f2 f3 f8 raised; f2 and f6 accepted in the period
    ("wang-fang", "王芳", 3, 1, 6),  # f4 f9 f10 raised; f9 accepted (fast-forward)
    ("zhang-wei", "张伟", 2, 1, 5),  # f1 f5 raised; f1 accepted; f7 is before the period
]
EXPECTED_OPEN = [
    # entry, kind, [(flag id, age in days)]
    ("stale-one", "wrong", [("f5", 10), ("f4", 4)]),
    ("stale-one", "missing", [("f3", 5)]),
    ("no-such-entry", "unclear", [("f8", 3)]),
    ("fresh", "unclear", [("f10", 2)]),
]


def test_credit_per_person(flag_repo: Path) -> None:
    report = make_report(flag_repo / "kb", today=TODAY)
    assert [
        (r.handle, r.name, r.raised, r.merged, r.score) for r in report.credit
    ] == EXPECTED_CREDIT
    assert report.since == date(2026, 10, 26)
    assert report.repo == str(flag_repo)


def test_credit_with_a_longer_period(flag_repo: Path) -> None:
    report = make_report(flag_repo / "kb", today=TODAY, since=date(2026, 9, 1))
    by_handle = {r.handle: (r.raised, r.merged) for r in report.credit}
    assert by_handle == {"li-na": (4, 2), "wang-fang": (3, 1), "zhang-wei": (3, 2)}


def test_open_flags_oldest_first(flag_repo: Path) -> None:
    report = make_report(flag_repo / "kb", today=TODAY)
    got = [
        (g.entry_id, g.kind, [(f.flag_id, f.age_days) for f in g.flags]) for g in report.open_flags
    ]
    assert got == EXPECTED_OPEN
    first = report.open_flags[0]
    assert (first.question, first.owner, first.owner_name) == (
        "stale-one 怎么办?",
        "zhang-wei",
        "张伟",
    )
    assert [(f.by, f.by_name, f.branch) for f in first.flags] == [
        ("zhang-wei", "张伟", "flag/stale-one/f5"),
        ("wang-fang", "王芳", "flag/stale-one/f4"),
    ]
    missing_entry = report.open_flags[2]
    assert (missing_entry.question, missing_entry.flags[0].by) == ("", "li-na")
    assert report.open_flags[3].flags[0].branch == "flag/fresh/f10"  # remote-tracking only


def test_flags_per_week(flag_repo: Path) -> None:
    weeks = make_report(flag_repo / "kb", today=TODAY).flags_per_week
    assert len(weeks) == 12
    assert (weeks[0].week_start, weeks[-1].week_start) == (date(2026, 9, 7), date(2026, 11, 23))
    counts = {str(w.week_start): (w.raised, w.merged) for w in weeks if w.raised or w.merged}
    assert counts == {
        "2026-09-07": (1, 0),  # f7 raised (f6 was raised the week before: off the chart)
        "2026-09-14": (0, 1),  # f7 accepted
        "2026-10-26": (0, 1),  # f6 accepted
        "2026-11-02": (2, 2),  # f1 f9 raised and accepted
        "2026-11-09": (2, 1),  # f2 f5 raised (f5 on Sunday); f2 accepted
        "2026-11-16": (3, 0),  # f3 f4 f8
        "2026-11-23": (1, 0),  # f10
    }


def test_history_is_read_with_one_git_log(flag_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real_popen = subprocess.Popen  # subprocess.run uses Popen too

    def popen(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(cmd)
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(tooling.git.subprocess, "Popen", popen)  # the one git runner
    history = git_history.read_history(flag_repo, "main")
    verbs = sorted(cmd[1] for cmd in calls)
    assert verbs == ["for-each-ref", "log", "rev-parse"]
    # initial, 5 accepted flags (f7 f6 f1 f9 f2), 4 merges (f9 fast-forward), 1 edit, 5 open
    assert len(history.commits) == 1 + 5 + 4 + 1 + 5
    assert sorted(r.name for r in history.flag_refs) == sorted(
        f"flag/{e}/{f}"
        for e, f in [
            ("fresh", "f7"),
            ("fresh", "f6"),
            ("stale-one", "f1"),
            ("stale-two", "f9"),
            ("fresh", "f2"),
            ("stale-one", "f5"),
            ("stale-one", "f3"),
            ("stale-one", "f4"),
            ("no-such-entry", "f8"),
            ("fresh", "f10"),
        ]
    )


def test_health_grouped_by_owner(make_kb: Callable[[dict[str, str | bytes]], Path]) -> None:
    report = make_report(make_kb(kb_files()), today=TODAY)
    h = report.health
    assert (h.entries, h.stale, h.expiring, h.expired) == (9, 3, 1, 1)
    got = {
        o.handle: (
            o.name,
            [(r.id, r.days) for r in o.stale],
            [(r.id, r.days) for r in o.expiring],
            [(r.id, r.days) for r in o.expired],
        )
        for o in h.owners
    }
    assert got == {
        "li-na": ("李娜", [("stale-two", 118), ("stale-today", 0)], [], [("expired", 5)]),
        "zhang-wei": ("张伟", [("stale-one", 89)], [("expiring", 14)], []),
    }
    assert [o.handle for o in h.owners] == ["li-na", "zhang-wei"]  # most to do first
    assert [(t.entry.id, t.phrasings, t.scenarios) for t in h.thin] == [
        ("internal-thin", 3, 0),
        ("two-phrasings", 2, 1),
    ]
    assert [(s.path, s.entries, s.public, s.internal, s.stale) for s in h.sections] == [
        ("fees", 2, 1, 1, 0),
        ("notices", 3, 3, 0, 0),
        ("repairs", 4, 4, 0, 3),
    ]


def test_not_in_git_gives_empty_flags_and_says_so(
    make_kb: Callable[[dict[str, str | bytes]], Path],
) -> None:
    report = make_report(make_kb(kb_files()), today=TODAY)
    assert report.repo is None and not report.has_history
    assert report.credit == () and report.open_flags == ()
    assert "is not in a git repository" in report.history_note


def test_missing_main_branch_is_a_note_or_a_usage_error(
    flag_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = make_report(flag_repo / "kb", today=TODAY, main="trunk")
    assert not report.has_history
    assert report.history_note.startswith("branch 'trunk' not found in ")
    code = main(
        ["report", "--kb", str(flag_repo / "kb"), "--repo", str(flag_repo), "--main", "trunk"]
    )
    assert code == 2
    assert "kb: error: branch 'trunk' not found in" in capsys.readouterr().err


# ---------------------------------------------------------------- the CLI


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write_log(path: Path) -> Path:
    lines = [
        {"query": "停车卡丢了怎么办", "time": "2026-11-20T10:00:00+00:00", "audience": "public"},
        {"query": "停車卡丟了怎麼辦?", "time": "2026-11-21T10:00:00+00:00", "audience": "staff"},
        {"query": "物业费多少钱", "time": "2026-11-22T10:00:00+00:00", "audience": "public"},
    ]
    path.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    return path


def test_cli_json(
    flag_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="zhiku")
    log = write_log(tmp_path / "unanswered.jsonl")
    code, out, _ = cli(
        capsys,
        "--kb",
        str(flag_repo / "kb"),
        "--today",
        "2026-11-25",
        "--queries-log",
        str(log),
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert [(r["handle"], r["raised"], r["merged"], r["score"]) for r in data["credit"]] == [
        (h, raised, merged, score) for h, _, raised, merged, score in EXPECTED_CREDIT
    ]
    assert [
        (g["entry_id"], g["kind"], len(g["flags"]), g["oldest_days"]) for g in data["open_flags"]
    ] == [(e, k, len(f), f[0][1]) for e, k, f in EXPECTED_OPEN]
    assert (data["health"]["stale"], data["health"]["expiring"]) == (3, 1)
    assert [(c["representative"], c["count"]) for c in data["missing"]] == [
        ("停車卡丟了怎麼辦?", 2),
        ("物业费多少钱", 1),
    ]
    assert data["missing"][0]["last_seen"] == "2026-11-21T10:00:00+00:00"
    assert data["score_rule"] == {"raised": 1, "merged": 3}
    assert (data["since"], data["today"], data["queries"]) == ("2026-10-26", "2026-11-25", 3)
    assert "read 16 commits in" in caplog.text


def test_cli_text(flag_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--kb", str(flag_repo / "kb"), "--today", "2026-11-25")
    assert code == 0
    for heading in ("== 知识健康 ==", "== 待处理反馈 ==", "== 贡献榜 ==", "== 缺失知识 =="):
        assert heading in out
    assert "共 9 条：过期未复核 3 条，14 天内到期 1 条，已过期 1 条，内容单薄 2 条" in out
    assert "张伟 (zhang-wei)：过期未复核 1，即将到期 1，已过期 0" in out
    assert "stale-one  答案错误  2 条，最早 10 天前  负责人 张伟 (zhang-wei)" in out
    assert "(wrong)" not in out and "(missing)" not in out and "(root)" not in out
    board = out.split("== 贡献榜 ==")[1].split("==")[0].splitlines()
    assert [line.split() for line in board[2:5]] == [
        ["1", "李娜", "(li-na)", "3", "2", "9"],
        ["2", "王芳", "(wang-fang)", "3", "1", "6"],
        ["3", "张伟", "(zhang-wei)", "2", "1", "5"],
    ]


def test_cli_reads_the_apps_log_where_the_app_writes_it(
    flag_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZHIKU_QUERY_LOG", raising=False)
    args = ("--kb", str(flag_repo / "kb"), "--today", "2026-11-25")
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "共 0 次" in out  # no log yet: nothing to read, no error
    write_log(default_unanswered_log(flag_repo / ".git"))
    code, out, _ = cli(capsys, *args)
    assert code == 0 and "共 3 次）" in out and "停车卡丢了怎么办" in out


def test_cli_markdown(flag_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, "--kb", str(flag_repo / "kb"), "--today", "2026-11-25", "--format", "markdown"
    )
    assert code == 0
    assert out.startswith("# 知库报告 2026-11-25\n")
    for heading in ("## 知识健康", "## 待处理反馈", "## 贡献榜", "## 缺失知识"):
        assert f"\n{heading}\n" in out
    assert "| 1 | 李娜 | 3 | 2 | 9 |" in out
    # --format markdown is read outside the site: questions, not links, and no code font.
    assert (
        "| stale-one 怎么办? | 答案错误 | 2 | 10 天 | 张伟 | "
        "张伟（2026-11-15，10 天前）：f5 的说明:答案不对。<br>"
        "王芳（2026-11-21，4 天前）：f4 的说明:答案不对。 |"
    ) in out
    assert "`" not in out and "(wrong)" not in out and "(missing)" not in out


def test_cli_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_kb: Callable[[dict[str, str | bytes]], Path],
) -> None:
    kb = make_kb(kb_files())
    code, _, err = cli(capsys, "--kb", str(kb), "--repo", str(tmp_path / "nope"))
    assert (code, err.strip()) == (
        2,
        f"kb: error: repository folder not found: {tmp_path / 'nope'} (use --repo DIR)",
    )
    code, _, err = cli(capsys, "--kb", str(kb), "--since", "2026-12-01", "--today", "2026-11-25")
    assert (code, err.strip()) == (2, "kb: error: --since 2026-12-01 is after --today 2026-11-25")
    code, _, err = cli(capsys, "--kb", str(kb), "--queries-log", str(tmp_path / "none.jsonl"))
    assert code == 2 and "queries log not found" in err


def test_cli_outside_git(
    make_kb: Callable[[dict[str, str | bytes]], Path],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    kb = make_kb(kb_files())
    code, out, _ = cli(capsys, "--kb", str(kb), "--today", "2026-11-25")
    assert code == 0
    assert f"没有 git 历史：{kb} is not in a git repository: no flags or credit to show" in out
    assert [r.levelname for r in caplog.records if "not in a git" in r.message] == ["WARNING"]


def test_site_pages_from_git_history(flag_repo: Path) -> None:
    pages = site_report_pages(flag_repo / "kb", TODAY)
    assert set(pages) == {"health.md", "credit.md"}
    assert "| 1 | 李娜 | 3 | 2 | 9 |" in pages["credit.md"]
    assert "<title>2026-11-16 当周提出 3</title>" in pages["credit.md"]
    assert "<title>2026-11-02 当周被采纳 2</title>" in pages["credit.md"]
    assert "Flag-By" not in pages["credit.md"]
    health = pages["health.md"]
    assert "## 待处理反馈" in health
    # Entries link to their pages; every open flag shows who raised it and their note.
    assert (
        "| [stale-one 怎么办?](<../repairs/stale-one.md>) | 答案错误 | 2 | 10 天 | 张伟 | "
        "张伟（2026-11-15，10 天前）：f5 的说明:答案不对。<br>"
        "王芳（2026-11-21，4 天前）：f4 的说明:答案不对。 |"
    ) in health
    assert (
        "| 知识库里没有的条目 no-such-entry | 表述模糊 | 1 | 3 天 | 无负责人 | "
        "李娜（2026-11-22，3 天前）：f8 的说明:答案不对。 |"
    ) in health
    assert (
        "| 李娜 | 过期未复核 | [stale-two 怎么办?](<../repairs/stale-two.md>) | "
        "超期 118 天（应于 2026-07-30 复核） |"
    ) in health
    assert "<title>李娜:2 条过期未复核</title>" in health
    assert "共 9 条：过期未复核 3 条，14 天内到期 1 条，已过期 1 条，内容单薄 2 条。" in health
    assert "`" not in health and "(missing)" not in health and "(wrong)" not in health

"""``kb feedback check`` on real deployments in tmp: one green, then one misconfiguration each.

A deployment is what production has: a bare "origin" (the team's GitHub) holding a
knowledge base on main, the app's own bare clone of it, a tokens file with mode 0600
and an environment file as systemd reads it. The command runs as a subprocess with
``--env-file``; as root it runs without CAP_DAC_OVERRIDE (``setpriv``), so file modes
bind it as they bind the service's own user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SECTION_YAML, SITE_YAML, STAFF_YAML, entry_yaml, git

from feedback_app.auth import TokenStore

KB_CMD = Path(sys.executable).with_name("kb")
SETPRIV = shutil.which("setpriv")
SITE = "https://staff.kb.example.com"


@dataclass
class Deployment:
    root: Path
    origin: Path
    clone: Path
    tokens: Path
    env: dict[str, str]

    def check(self, **changes: str | None) -> tuple[int, str]:
        """Run ``kb feedback check`` with the env file after ``changes`` (None = unset)."""
        env = {**self.env, **{f"ZHIKU_{k}": v for k, v in changes.items() if v is not None}}
        for key in [k for k, v in changes.items() if v is None]:
            env.pop(f"ZHIKU_{key}", None)
        env_file = self.root / "feedback.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
        command = [str(KB_CMD), "feedback", "check", "--env-file", str(env_file)]
        if os.geteuid() == 0:
            if SETPRIV is None:
                pytest.skip("running as root without setpriv: file modes cannot bind the check")
            command = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search", *command]
        done = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, done.stdout


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    reviewed = (date.today() - timedelta(days=10)).isoformat()
    source = tmp_path / "source"
    files = {
        "kb/_staff.yaml": STAFF_YAML,
        "kb/_site.yaml": SITE_YAML,
        "kb/repairs/_section.yaml": SECTION_YAML,
        "kb/repairs/no-water.yaml": entry_yaml("no-water", reviewed=reviewed),
    }
    for rel, text in files.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(text, encoding="utf-8")
    git(source, "init", "-q", "-b", "main")
    git(source, "add", "-A")
    git(source, "commit", "-q", "-m", "Knowledge base")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(origin))
    clone = tmp_path / "kb.git"
    git(tmp_path, "clone", "-q", "--bare", str(origin), str(clone))
    tokens = TokenStore(tmp_path / "state" / "tokens.json")
    tokens.issue("zhang-wei")
    env = {
        "ZHIKU_REPO": str(clone),
        "ZHIKU_REMOTE": "origin",
        "ZHIKU_TOKENS_FILE": str(tokens.path),
        "ZHIKU_SITE_URL": f"{SITE}/",
        "ZHIKU_CORS_ORIGINS": SITE,
        "ZHIKU_TRUSTED_PROXIES": "1",
    }
    return Deployment(tmp_path, origin, clone, tokens.path, env)


def green_lines(d: Deployment) -> list[str]:
    return [
        f"[正常] 仓库:{d.clone} 是可写的 git 仓库(裸仓库)",
        f"[正常] 基础分支:main 在 {git(d.clone, 'rev-parse', 'main')[:7]}",
        "[正常] 知识库:main 上的 kb/ 通过 kb validate(1 个条目)",
        "[正常] 远端:origin 连得上,试推(--dry-run)成功",
        f"[正常] 令牌文件:{d.tokens} 权限 0600,1 个令牌",
        f"[正常] CORS:允许 {SITE},与员工站点 {SITE}/ 一致",
        "[正常] 反向代理:信任 1 层代理的 X-Forwarded-For",
        f"[正常] 限流存储:sqlite:///{d.clone}/zhiku-ratelimit.sqlite3 可以读写(这台机器上的 worker 共用)",
        f"[正常] 未答问题日志:{d.clone}/zhiku-unanswered.jsonl 可写",
        f"[正常] 待写队列:{d.clone}/zhiku-spool 可写",
    ]


def test_a_correct_deployment_is_all_green(deployment: Deployment) -> None:
    code, out = deployment.check()
    header = f"检查知库反馈服务的部署(设置来自环境文件 {deployment.root}/feedback.env)"
    footer = "可以上线:没有要修改的地方,0 个警告"
    assert out.splitlines() == [header, *green_lines(deployment), footer]
    assert code == 0


def assert_refused(result: tuple[int, str], *lines: str) -> None:
    code, out = result
    for line in lines:
        assert line in out.splitlines(), out
    assert code == 1, out
    assert out.splitlines()[-1].endswith("改好后再运行 kb feedback check")


# -- the repository ---------------------------------------------------------------------------


def test_repository_missing(deployment: Deployment) -> None:
    gone = deployment.root / "nowhere.git"
    assert_refused(
        deployment.check(REPO=str(gone)),
        f"[错误] 仓库:{gone} 不存在 — 先克隆:git clone --bare 仓库地址 {gone}(或改 ZHIKU_REPO)",
        "[跳过] 基础分支:仓库不可用",
    )


def test_repository_that_is_not_a_git_repository(deployment: Deployment) -> None:
    plain = deployment.root / "plain"
    plain.mkdir()
    assert_refused(
        deployment.check(REPO=str(plain)),
        f"[错误] 仓库:{plain} 不是 git 仓库 — 在这里克隆知识库:git clone --bare 仓库地址 {plain}",
    )


def test_repository_that_is_the_code_checkout(deployment: Deployment) -> None:
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("the code is not a git checkout here")
    assert_refused(
        deployment.check(REPO=str(REPO_ROOT)),
        f"[错误] 仓库:{REPO_ROOT} 是放代码的检出 — 反馈服务要用一个专用克隆:"
        "git clone --bare 仓库地址 /srv/zhiku/kb.git,再把 ZHIKU_REPO 指向它",
    )


def test_base_branch_missing(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(BASE_BRANCH="release"),
        f"[错误] 基础分支:仓库里没有分支 release — 取下来:git -C {deployment.clone} fetch "
        "origin +release:release(或改 ZHIKU_BASE_BRANCH)",
    )


def test_knowledge_base_on_main_does_not_validate(deployment: Deployment) -> None:
    work = deployment.root / "work"
    git(deployment.root, "clone", "-q", str(deployment.origin), str(work))
    (work / "kb/repairs/broken.yaml").write_text(
        entry_yaml("broken", owner="nobody-here"), encoding="utf-8"
    )
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "Broken entry")
    git(work, "push", "-q", "origin", "main")
    git(deployment.clone, "fetch", "-q", "origin", "+main:main")
    assert_refused(
        deployment.check(),
        "[错误] 知识库:main 上的 kb/ 有 1 个错误(第一个:kb/repairs/broken.yaml:3:8: error: "
        "负责人 `nobody-here` 不在 _staff.yaml 里 — 改成名册里的 handle(li-na, zhang-wei),"
        "或先把这位同事加入 _staff.yaml) — 在 main 上修好,让 kb validate 通过",
    )


# -- the remote -------------------------------------------------------------------------------


def test_remote_not_configured(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(REMOTE=None),
        "[错误] 远端:没有设置 ZHIKU_REMOTE,反馈分支只会留在这台机器上 — "
        "设 ZHIKU_REMOTE=origin,让每个反馈分支推到团队的 GitHub 仓库",
    )


def test_remote_name_unknown_to_the_clone(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(REMOTE="upstream"),
        f"[错误] 远端:仓库里没有远端 upstream — git -C {deployment.clone} remote add "
        "upstream 仓库地址(或改 ZHIKU_REMOTE)",
    )


def test_remote_unreachable(deployment: Deployment) -> None:
    gone = deployment.root / "gone.git"
    git(deployment.clone, "remote", "set-url", "origin", str(gone))
    assert_refused(
        deployment.check(),
        f"[错误] 远端:连不上 origin(fatal: '{gone}' does not appear to be a git repository)"
        " — 检查远端地址、网络和部署密钥(或令牌)",
    )


def test_remote_readable_but_not_pushable(deployment: Deployment) -> None:
    gone = deployment.root / "read-only.git"
    git(deployment.clone, "remote", "set-url", "--push", "origin", str(gone))
    assert_refused(
        deployment.check(),
        f"[错误] 远端:可以读 origin,但推不上去(fatal: '{gone}' does not appear to be a git "
        "repository) — 部署密钥要勾选 Allow write access,或令牌要有该仓库 Contents 的读写权限;"
        "也检查 pushurl",
    )


def test_clone_behind_the_remote_is_a_warning(deployment: Deployment) -> None:
    work = deployment.root / "work"
    git(deployment.root, "clone", "-q", str(deployment.origin), str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "Newer main")
    git(work, "push", "-q", "origin", "main")
    local = git(deployment.clone, "rev-parse", "main")[:7]
    remote = git(deployment.origin, "rev-parse", "main")[:7]
    code, out = deployment.check()
    assert (
        f"[警告] 远端:本地 main({local})和 origin 上的({remote})不一样 — "
        "定时 fetch 要在更新这个克隆:见 deploy/zhiku-feedback-fetch.timer"
    ) in out.splitlines()
    assert (code, out.splitlines()[-1]) == (0, "可以上线:没有要修改的地方,1 个警告")


# -- tokens -----------------------------------------------------------------------------------


def test_tokens_file_readable_by_others(deployment: Deployment) -> None:
    deployment.tokens.chmod(0o644)
    assert_refused(
        deployment.check(),
        f"[错误] 令牌文件:{deployment.tokens} 的权限是 0644,组或其他用户可读 — "
        f"chmod 600 {deployment.tokens}",
    )


def test_tokens_file_missing(deployment: Deployment) -> None:
    deployment.tokens.unlink()
    assert_refused(
        deployment.check(),
        f"[错误] 令牌文件:{deployment.tokens} 不存在 — 用服务用户给每位客服生成令牌:"
        f"kb feedback token 账号 --repo {deployment.clone} --tokens {deployment.tokens}",
    )


def test_tokens_file_not_parseable(deployment: Deployment) -> None:
    deployment.tokens.write_text('{"tokens": [1, 2]', encoding="utf-8")
    assert_refused(
        deployment.check(),
        f"[错误] 令牌文件:{deployment.tokens} 不是知库的令牌文件 — 删掉它,重新生成:"
        f"kb feedback token 账号 --repo {deployment.clone} --tokens {deployment.tokens}",
    )


# -- CORS -------------------------------------------------------------------------------------


def test_cors_origin_not_the_staff_site(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(CORS_ORIGINS="https://kb.example.com"),
        f"[错误] CORS:员工站点 {SITE}/ 的来源 {SITE} 不在 ZHIKU_CORS_ORIGINS"
        "(https://kb.example.com)里,浏览器会拦下答复台和反馈面板的请求 — "
        f"把 {SITE} 加进 ZHIKU_CORS_ORIGINS(协议、主机、端口都要一样)",
    )


def test_cors_origin_with_another_port_or_scheme(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(CORS_ORIGINS="http://staff.kb.example.com:8443"),
        f"[错误] CORS:员工站点 {SITE}/ 的来源 {SITE} 不在 ZHIKU_CORS_ORIGINS"
        "(http://staff.kb.example.com:8443)里,浏览器会拦下答复台和反馈面板的请求 — "
        f"把 {SITE} 加进 ZHIKU_CORS_ORIGINS(协议、主机、端口都要一样)",
    )


def test_cors_origin_written_as_a_url(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(CORS_ORIGINS=f"{SITE}:443/desk/"),
        f"[错误] CORS:来源 {SITE}:443/desk 和浏览器发来的 {SITE} 不会相等"
        f"(不带路径和默认端口) — 写成 {SITE}",
    )


def test_cors_not_set(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(CORS_ORIGINS=None),
        "[错误] CORS:没有设置 ZHIKU_CORS_ORIGINS,员工站点的浏览器调用不了接口 — "
        "设为员工站点的来源,例如 ZHIKU_CORS_ORIGINS=https://staff.kb.example.com",
    )


# -- rate-limit storage -----------------------------------------------------------------------


def test_unreachable_redis(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(RATE_LIMIT_STORAGE_URI="redis://127.0.0.1:1"),
        "[错误] 限流存储:连不上 redis://127.0.0.1:1(Connection refused) — "
        "启动 Redis / memcached,或检查 ZHIKU_RATE_LIMIT_STORAGE_URI 的主机和端口",
    )


def test_redis_password_is_never_shown(deployment: Deployment) -> None:
    code, out = deployment.check(RATE_LIMIT_STORAGE_URI="redis://app:s3cret-pw@127.0.0.1:1/0")
    assert "[错误] 限流存储:连不上 redis://app:***@127.0.0.1:1/0(Connection refused)" in out
    assert ("s3cret-pw" in out, code) == (False, 1)


def test_memory_storage_is_a_warning(deployment: Deployment) -> None:
    code, out = deployment.check(RATE_LIMIT_STORAGE_URI="memory://")
    assert (
        "[警告] 限流存储:memory:// 每个进程各自计数,几个 worker、几台机器就放宽几倍 — "
        "一台机器用默认的 sqlite(不设即可),几台机器用 redis://主机:6379"
    ) in out.splitlines()
    assert code == 0


def test_unwritable_sqlite_storage(deployment: Deployment) -> None:
    locked = deployment.root / "locked"
    locked.mkdir(mode=0o555)
    uri = f"sqlite:///{locked}/limits.sqlite3"
    assert_refused(
        deployment.check(RATE_LIMIT_STORAGE_URI=uri),
        f"[错误] 限流存储:打不开 {uri}(unable to open database file) — "
        "目录要存在且服务用户可写,systemd 单元的 ReadWritePaths 要包含它",
    )


def test_unparseable_rate_limit(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(FLAG_RATE_LIMIT="thirty a minute"),
        "[错误] 限流:ZHIKU_FLAG_RATE_LIMIT=thirty a minute 看不懂 — "
        "写成 30 per minute 或 30 per minute;500 per day",
    )


# -- where the app writes ---------------------------------------------------------------------


def test_unwritable_log_folder(deployment: Deployment) -> None:
    logs = deployment.root / "logs"
    logs.mkdir(mode=0o555)
    path = logs / "unanswered.jsonl"
    assert_refused(
        deployment.check(QUERY_LOG=str(path)),
        f"[错误] 未答问题日志:{path} 不可写(目录 {logs}) — "
        "建好目录并交给服务用户(chown),systemd 单元的 ReadWritePaths 要包含它",
    )


def test_log_inside_a_work_tree(deployment: Deployment) -> None:
    work = deployment.root / "work"
    git(deployment.root, "clone", "-q", str(deployment.origin), str(work))
    path = work / "logs" / "unanswered.jsonl"
    assert_refused(
        deployment.check(QUERY_LOG=str(path)),
        f"[错误] 未答问题日志:{path} 在 git 工作区 {work} 里 — "
        "放到工作区之外,例如默认位置(克隆的 git 目录里)或 /var/lib/zhiku/",
    )


def test_log_inside_the_code_checkout(deployment: Deployment) -> None:
    path = REPO_ROOT / "unanswered.jsonl"
    assert_refused(
        deployment.check(QUERY_LOG=str(path)),
        f"[错误] 未答问题日志:{path} 在代码检出 {REPO_ROOT} 里 — "
        "放到工作区之外,例如默认位置(克隆的 git 目录里)或 /var/lib/zhiku/",
    )


def test_read_only_clone(deployment: Deployment) -> None:
    (deployment.clone / "objects").chmod(0o555)
    try:
        assert_refused(
            deployment.check(),
            f"[错误] 仓库:{deployment.clone} 不可写(写不了 {deployment.clone}/objects) — "
            "让服务用户拥有这个克隆(chown -R),systemd 单元的 ReadWritePaths 要包含它",
        )
    finally:
        (deployment.clone / "objects").chmod(0o755)


def test_bad_setting_value_is_a_message_not_a_traceback(deployment: Deployment) -> None:
    assert_refused(
        deployment.check(TRUSTED_PROXIES="one"),
        "[错误] 设置:ZHIKU_TRUSTED_PROXIES=one 不是整数 — 改成整数,例如 ZHIKU_TRUSTED_PROXIES=0",
    )

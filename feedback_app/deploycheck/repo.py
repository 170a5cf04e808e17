"""The repository clone, its base branch and knowledge base, and the remote flags go to."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

from feedback_app.deploycheck import CODE_ROOT, Context, Finding, error, ok, skipped, warning
from feedback_app.deploycheck.files import writable
from feedback_app.deploycheck.net import redact
from tooling.git import Git, GitError, export_tree, find_toplevel

NETWORK_TIMEOUT = 20.0


def check_repository(ctx: Context) -> Iterator[Finding]:
    topic = "仓库"
    raw = ctx.config.get("REPO")
    if not raw:
        yield error(
            topic,
            "没有设置 ZHIKU_REPO",
            "设为反馈服务专用的克隆,例如 git clone --bare 仓库地址 /srv/zhiku/kb.git",
        )
        return
    repo = Path(raw)
    if not repo.is_dir():
        yield error(
            topic, f"{repo} 不存在", f"先克隆:git clone --bare 仓库地址 {repo}(或改 ZHIKU_REPO)"
        )
        return
    git = Git(repo, timeout=float(ctx.config["GIT_TIMEOUT"]))
    try:
        git_dir = git.git_dir()
    except GitError:
        yield error(
            topic, f"{repo} 不是 git 仓库", f"在这里克隆知识库:git clone --bare 仓库地址 {repo}"
        )
        return
    top = find_toplevel(repo)
    code_top = find_toplevel(CODE_ROOT) or CODE_ROOT
    if repo.resolve() == CODE_ROOT or (top is not None and top.resolve() == code_top.resolve()):
        yield error(
            topic,
            f"{repo} 是放代码的检出",
            "反馈服务要用一个专用克隆:git clone --bare 仓库地址 /srv/zhiku/kb.git,"
            "再把 ZHIKU_REPO 指向它",
        )
        return
    ctx.git, ctx.git_dir = git, git_dir
    unwritable = [p for p in (git_dir / "objects", git_dir / "refs" / "heads") if not writable(p)]
    if unwritable:
        yield error(
            topic,
            f"{git_dir} 不可写(写不了 {unwritable[0]})",
            "让服务用户拥有这个克隆(chown -R),systemd 单元的 ReadWritePaths 要包含它",
        )
        return
    kind = "裸仓库" if top is None else "有工作区的克隆"
    yield ok(topic, f"{repo} 是可写的 git 仓库({kind})")
    if top is not None:
        yield warning(
            topic,
            f"{repo} 有工作区",
            "建议用裸克隆(git clone --bare),定时 fetch 才能直接更新基础分支",
        )


def check_base_branch(ctx: Context) -> Iterator[Finding]:
    topic = "基础分支"
    if ctx.git is None:
        yield skipped(topic, "仓库不可用")
        return
    branch = str(ctx.config["BASE_BRANCH"])
    tip = ctx.git.resolve(f"refs/heads/{branch}")
    if tip is None:
        yield error(
            topic,
            f"仓库里没有分支 {branch}",
            f"取下来:git -C {ctx.config['REPO']} fetch origin +{branch}:{branch}"
            "(或改 ZHIKU_BASE_BRANCH)",
        )
        return
    ctx.base_tip = tip
    yield ok(topic, f"{branch} 在 {tip[:7]}")


def check_knowledge_base(ctx: Context) -> Iterator[Finding]:
    from tooling.kb.check import validate

    topic = "知识库"
    if ctx.git is None or ctx.base_tip is None:
        yield skipped(topic, "基础分支不可用")
        return
    kb_dir = str(ctx.config["KB_DIR"]).strip("/") or "."
    branch = ctx.config["BASE_BRANCH"]
    with tempfile.TemporaryDirectory(prefix="zhiku-check-") as tmp:
        if not export_tree(ctx.git, ctx.base_tip, kb_dir, Path(tmp)):
            yield error(topic, f"{branch} 上没有 {kb_dir}/ 文件夹", "检查 ZHIKU_KB_DIR(默认 kb)")
            return
        result = validate(Path(tmp) / kb_dir)
    ctx.staff = {s.handle for s in result.kb.staff}
    if result.errors:
        first = result.errors[0].format(kb_dir)
        yield error(
            topic,
            f"{branch} 上的 {kb_dir}/ 有 {len(result.errors)} 个错误(第一个:{first})",
            f"在 {branch} 上修好,让 kb validate 通过",
        )
        return
    yield ok(topic, f"{branch} 上的 {kb_dir}/ 通过 kb validate({len(result.kb.entries)} 个条目)")


# -- the remote -------------------------------------------------------------------------------


def check_remote(ctx: Context) -> Iterator[Finding]:
    topic = "远端"
    remote = ctx.config.get("REMOTE")
    if not remote:
        yield error(
            topic,
            "没有设置 ZHIKU_REMOTE,反馈分支只会留在这台机器上",
            "设 ZHIKU_REMOTE=origin,让每个反馈分支推到团队的 GitHub 仓库",
        )
        return
    if ctx.git is None:
        yield skipped(topic, "仓库不可用")
        return
    git, branch = ctx.git, str(ctx.config["BASE_BRANCH"])
    if git.run("remote", "get-url", remote, check=False).strip() == "":
        yield error(
            topic,
            f"仓库里没有远端 {remote}",
            f"git -C {ctx.config['REPO']} remote add {remote} 仓库地址(或改 ZHIKU_REMOTE)",
        )
        return
    timeout = min(float(ctx.config["GIT_TIMEOUT"]), NETWORK_TIMEOUT)
    try:
        listing = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", timeout=timeout)
    except GitError as exc:
        yield error(
            topic,
            f"连不上 {remote}({_git_reason(exc)})",
            "检查远端地址、网络和部署密钥(或令牌)",
        )
        return
    remote_tip = listing.split()[0] if listing.strip() else None
    if remote_tip is None:
        yield warning(topic, f"{remote} 上没有分支 {branch}", f"把 {branch} 推到 {remote}")
    elif ctx.base_tip and remote_tip != ctx.base_tip:
        yield warning(
            topic,
            f"本地 {branch}({ctx.base_tip[:7]})和 {remote} 上的({remote_tip[:7]})不一样",
            "定时 fetch 要在更新这个克隆:见 deploy/zhiku-feedback-fetch.timer",
        )
    probe = f"refs/heads/flag/zhiku-check/{secrets.token_hex(4)}"
    source = ctx.base_tip or "HEAD"
    try:
        git.run("push", "--dry-run", "--porcelain", remote, f"{source}:{probe}", timeout=timeout)
    except GitError as exc:
        yield error(
            topic,
            f"可以读 {remote},但推不上去({_git_reason(exc)})",
            "部署密钥要勾选 Allow write access,或令牌要有该仓库 Contents 的读写权限;也检查 pushurl",
        )
        return
    yield ok(topic, f"{remote} 连得上,试推(--dry-run)成功")


def _git_reason(exc: GitError) -> str:
    if exc.timed_out:
        return exc.stderr.strip()
    lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:", "ERROR:"))]
    return redact((fatal or lines or [f"exit {exc.returncode}"])[0])

"""``kb feedback check``: is this deployment of the feedback app ready to go live?

Reads the settings exactly as the app does (:func:`feedback_app.configure`: the
declared defaults, ``instance/config.py``, ``ZHIKU_*`` variables), then checks
each thing a production instance depends on and says, in Chinese, what is fine
and what to fix: the repository clone and its base branch, the knowledge base
on that branch, the remote flags are pushed to (reachable, and accepting a push),
the tokens file, CORS against the staff site's URL, the rate-limit storage
(:mod:`feedback_app.deploynet`) and the places the app writes to.

Nothing is changed by a check except what the app would create itself on its
first request (a missing spool folder, the rate-limit database); the push is a
``--dry-run``. Messages never show a password or token that a remote URL or a
storage URI may carry.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from feedback_app.deploynet import check_cors, check_rate_limits, redact
from tooling.flags import default_unanswered_log
from tooling.git import Git, GitError, export_tree, find_toplevel

#: The checkout the running code comes from; the app must never work on it.
CODE_ROOT = Path(__file__).resolve().parent.parent
NETWORK_TIMEOUT = 20.0


class Level(StrEnum):
    OK = "正常"
    WARNING = "警告"
    ERROR = "错误"
    SKIPPED = "跳过"


@dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    message: str
    fix: str = ""

    def format(self) -> str:
        text = f"[{self.level}] {self.topic}:{self.message}"
        return f"{text} — {self.fix}" if self.fix else text


def ok(topic: str, message: str) -> Finding:
    return Finding(Level.OK, topic, message)


def warning(topic: str, message: str, fix: str) -> Finding:
    return Finding(Level.WARNING, topic, message, fix)


def error(topic: str, message: str, fix: str) -> Finding:
    return Finding(Level.ERROR, topic, message, fix)


@dataclass
class Context:
    """The settings being checked, and what earlier checks found out."""

    config: Mapping[str, Any]
    git: Git | None = None
    git_dir: Path | None = None
    base_tip: str | None = None
    staff: set[str] = field(default_factory=set)


def setting_problems(environ: Mapping[str, str]) -> list[Finding]:
    """A finding for each ``ZHIKU_*`` variable that does not parse as its type."""
    from feedback_app.settings import ENV_PREFIX, SETTINGS

    kinds = {int: "整数", float: "数字", bool: "true 或 false"}
    found = []
    for setting in SETTINGS:
        raw = environ.get(ENV_PREFIX + setting.name)
        try:
            setting.parse(raw)
        except ValueError:
            name = ENV_PREFIX + setting.name
            kind = kinds.get(setting.type, setting.type.__name__)
            found.append(
                error(
                    "设置", f"{name}={raw} 不是{kind}", f"改成{kind},例如 {name}={setting.default}"
                )
            )
    return found


def run_checks(config: Mapping[str, Any]) -> list[Finding]:
    ctx = Context(config)
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(ctx))
    return findings


# -- the repository ---------------------------------------------------------------------------


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
    unwritable = [p for p in (git_dir / "objects", git_dir / "refs" / "heads") if not _writable(p)]
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
        yield Finding(Level.SKIPPED, topic, "仓库不可用")
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
        yield Finding(Level.SKIPPED, topic, "基础分支不可用")
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
        yield Finding(Level.SKIPPED, topic, "仓库不可用")
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


# -- the tokens file --------------------------------------------------------------------------


def check_tokens(ctx: Context) -> Iterator[Finding]:
    from feedback_app.auth import default_tokens_path

    topic = "令牌文件"
    raw = ctx.config.get("TOKENS_FILE")
    path = Path(raw) if raw else default_tokens_path()
    repo = ctx.config.get("REPO") or "/srv/zhiku/kb.git"
    issue = f"kb feedback token 账号 --repo {repo} --tokens {path}"
    if not path.is_file():
        yield error(topic, f"{path} 不存在", f"用服务用户给每位客服生成令牌:{issue}")
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        yield error(
            topic,
            f"{path} 的权限是 {mode:04o},组或其他用户可读",
            f"chmod 600 {path}",
        )
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tokens = data["tokens"]
        handles = {str(v["handle"]) for v in tokens.values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        yield error(topic, f"{path} 不是知库的令牌文件", f"删掉它,重新生成:{issue}")
        return
    if not tokens:
        yield warning(topic, f"{path} 里还没有令牌", f"生成:{issue}")
        return
    yield ok(topic, f"{path} 权限 {mode:04o},{len(tokens)} 个令牌")
    gone = sorted(handles - ctx.staff) if ctx.staff else []
    if gone:
        yield warning(
            topic,
            f"这些账号不在 _staff.yaml 里,它们的令牌会得到 403:{', '.join(gone)}",
            "把人加回 _staff.yaml,或不用管",
        )


# -- where the app writes ---------------------------------------------------------------------


def check_query_log(ctx: Context) -> Iterator[Finding]:
    topic = "未答问题日志"
    raw = ctx.config.get("QUERY_LOG")
    if not raw and ctx.git_dir is None:
        yield Finding(Level.SKIPPED, topic, "仓库不可用")
        return
    path = Path(raw) if raw else default_unanswered_log(ctx.git_dir)  # type: ignore[arg-type]
    folder = _existing_ancestor(path.parent)
    inside = _inside_checkout(folder)
    if inside:
        yield error(
            topic,
            f"{path} 在{inside}里",
            "放到工作区之外,例如默认位置(克隆的 git 目录里)或 /var/lib/zhiku/",
        )
        return
    target = path if path.exists() else folder
    if not folder.is_dir() or not _writable(target):
        yield error(
            topic,
            f"{path} 不可写(目录 {folder})",
            "建好目录并交给服务用户(chown),systemd 单元的 ReadWritePaths 要包含它",
        )
        return
    yield ok(topic, f"{path} 可写")


def check_spool(ctx: Context) -> Iterator[Finding]:
    topic = "待写队列"
    raw = ctx.config.get("SPOOL_DIR")
    if not raw and ctx.git_dir is None:
        yield Finding(Level.SKIPPED, topic, "仓库不可用")
        return
    path = Path(raw) if raw else ctx.git_dir / "zhiku-spool"  # type: ignore[operator]
    folder = _existing_ancestor(path)
    if not folder.is_dir() or not _writable(folder):
        yield error(
            topic,
            f"{path} 不可写",
            "建好目录并交给服务用户(chown),systemd 单元的 ReadWritePaths 要包含它",
        )
        return
    yield ok(topic, f"{path} 可写")


def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest existing ancestor (the app creates the rest)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable(path: Path) -> bool:
    """Really writable by this process: a file is opened for appending, a folder gets
    (and loses) a scratch file."""
    try:
        if path.is_dir():
            with tempfile.TemporaryFile(dir=path):
                return True
        with path.open("ab"):
            return True
    except OSError:
        return False


def _inside_checkout(folder: Path) -> str:
    """Which checkout ``folder`` is in (Chinese, for the message), or ""."""
    resolved = folder.resolve()
    if resolved == CODE_ROOT or CODE_ROOT in resolved.parents:
        return f"代码检出 {CODE_ROOT} "
    top = find_toplevel(folder)
    if top is not None:
        return f" git 工作区 {top} "
    return ""


def check_proxies(ctx: Context) -> Iterator[Finding]:
    hops = int(ctx.config["TRUSTED_PROXIES"])
    if hops == 0:
        yield warning(
            "反向代理",
            "ZHIKU_TRUSTED_PROXIES=0:按连接地址限流;在 nginx 后面,所有人都是 127.0.0.1",
            "在 nginx 后面请设 ZHIKU_TRUSTED_PROXIES=1",
        )
    else:
        yield ok("反向代理", f"信任 {hops} 层代理的 X-Forwarded-For")


def _cors(ctx: Context) -> Iterator[Finding]:
    yield from check_cors(ctx.config)


def _limits(ctx: Context) -> Iterator[Finding]:
    yield from check_rate_limits(ctx.config, ctx.git_dir)


CHECKS: tuple[Callable[[Context], Iterator[Finding]], ...] = (
    check_repository,
    check_base_branch,
    check_knowledge_base,
    check_remote,
    check_tokens,
    _cors,
    check_proxies,
    _limits,
    check_query_log,
    check_spool,
)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines as systemd's ``EnvironmentFile=`` reads them (``#``/``;``
    comments, blank lines, one pair of surrounding quotes removed)."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith(("#", ";")):
            continue
        key, sep, value = text.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{path}:{number}: 不是 KEY=VALUE:{line}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key] = value
    return found


def environment(env_file: Path | None) -> dict[str, str]:
    """The environment the service would see: with an env file, its values and no other
    ``ZHIKU_*`` variable (as under systemd); otherwise this process's."""
    environ = dict(os.environ)
    if env_file is not None:
        environ = {k: v for k, v in environ.items() if not k.startswith("ZHIKU_")}
        environ.update(read_env_file(env_file))
    return environ

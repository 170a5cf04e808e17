"""The files the app reads (the tokens) and the places it writes (log, spool)."""

from __future__ import annotations

import json
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from feedback_app.deploycheck import CODE_ROOT, Context, Finding, error, ok, skipped, warning
from tooling.flags import default_unanswered_log
from tooling.git import find_toplevel


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


def check_query_log(ctx: Context) -> Iterator[Finding]:
    topic = "未答问题日志"
    raw = ctx.config.get("QUERY_LOG")
    if not raw and ctx.git_dir is None:
        yield skipped(topic, "仓库不可用")
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
    if not folder.is_dir() or not writable(target):
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
        yield skipped(topic, "仓库不可用")
        return
    path = Path(raw) if raw else ctx.git_dir / "zhiku-spool"  # type: ignore[operator]
    folder = _existing_ancestor(path)
    if not folder.is_dir() or not writable(folder):
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


def writable(path: Path) -> bool:
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

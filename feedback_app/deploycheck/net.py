"""CORS origins, the proxy in front, and the rate-limit storage.

CORS is checked against ``SITE_URL`` (the staff site the desk and the flag panel
run on): the browser sends that site's origin (scheme, host and port, without a
default port or a path) and :mod:`feedback_app.cors` compares it as a string, so
it must be in ``CORS_ORIGINS`` exactly.

The rate-limit storage is opened the way the app opens it: a ``sqlite:///`` file
with :class:`feedback_app.ratelimit.SQLiteStorage`; ``redis://`` and
``memcached://`` are asked a ``PING`` / ``version`` over a socket with a short
timeout (no client library needed for the question; the app itself needs the
``redis`` package, which is checked too).
"""

from __future__ import annotations

import importlib.util
import re
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

from feedback_app.deploycheck import Context, Finding, error, ok, skipped, warning

STORAGE_TIMEOUT = 3.0
DEFAULT_PORTS = {"http": 80, "https": 443}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` hidden."""
    return re.sub(r"(://[^/\s:@]*:)[^@\s/]+@", r"\1***@", text)


def origin_of(url: str) -> tuple[str | None, str]:
    """``(origin, problem)``: the browser's origin for ``url``, or None and why not."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None, "不是网址"
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None, "要以 https:// 或 http:// 开头并带主机名"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    shown = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{shown}", ""


def check_cors(ctx: Context) -> Iterator[Finding]:
    from feedback_app.cors import allowed_origins

    topic, config = "CORS", ctx.config
    site_url = str(config.get("SITE_URL") or "").strip()
    origins = sorted(allowed_origins(str(config.get("CORS_ORIGINS") or "")))
    if not origins:
        yield error(
            topic,
            "没有设置 ZHIKU_CORS_ORIGINS,员工站点的浏览器调用不了接口",
            "设为员工站点的来源,例如 ZHIKU_CORS_ORIGINS=https://staff.kb.example.com",
        )
        return
    bad = False
    for given in origins:
        origin, problem = origin_of(given)
        if origin is None:
            yield error(topic, f"来源 {given} {problem}", "写成 https://主机[:端口]")
            bad = True
        elif origin != given:
            yield error(
                topic,
                f"来源 {given} 和浏览器发来的 {origin} 不会相等(不带路径和默认端口)",
                f"写成 {origin}",
            )
            bad = True
        elif origin.startswith("http://") and urlsplit(origin).hostname not in LOCAL_HOSTS:
            yield warning(topic, f"来源 {given} 没有用 https", "员工站点要用 https 提供")
    if not site_url:
        yield error(
            topic,
            "没有设置 ZHIKU_SITE_URL(员工站点的网址),无法核对 CORS 来源",
            "设为员工站点的网址,例如 ZHIKU_SITE_URL=https://staff.kb.example.com/",
        )
        return
    site_origin, problem = origin_of(site_url)
    if site_origin is None:
        yield error(topic, f"ZHIKU_SITE_URL={site_url} {problem}", "写员工站点的完整网址")
        return
    if site_origin not in origins:
        yield error(
            topic,
            f"员工站点 {site_url} 的来源 {site_origin} 不在 ZHIKU_CORS_ORIGINS"
            f"({', '.join(origins)})里,浏览器会拦下答复台和反馈面板的请求",
            f"把 {site_origin} 加进 ZHIKU_CORS_ORIGINS(协议、主机、端口都要一样)",
        )
        return
    if not bad:
        yield ok(topic, f"允许 {', '.join(origins)},与员工站点 {site_url} 一致")


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


def check_rate_limits(ctx: Context) -> Iterator[Finding]:
    from limits import parse_many

    topic, config, git_dir = "限流存储", ctx.config, ctx.git_dir
    for name in ("FLAG_RATE_LIMIT", "SEARCH_RATE_LIMIT"):
        value = str(config.get(name) or "").strip()
        if value:
            try:
                parse_many(value)
            except ValueError:
                yield error(
                    "限流",
                    f"ZHIKU_{name}={value} 看不懂",
                    "写成 30 per minute 或 30 per minute;500 per day",
                )
    uri = config.get("RATE_LIMIT_STORAGE_URI")
    if not uri:
        if git_dir is None:
            yield skipped(topic, "仓库不可用")
            return
        uri = f"sqlite:///{git_dir / 'zhiku-ratelimit.sqlite3'}"
    uri = str(uri)
    shown = redact(uri)
    scheme = uri.split("://", 1)[0]
    if scheme == "memory":
        yield warning(
            topic,
            "memory:// 每个进程各自计数,几个 worker、几台机器就放宽几倍",
            "一台机器用默认的 sqlite(不设即可),几台机器用 redis://主机:6379",
        )
        return
    if scheme == "sqlite":
        problem = _open_sqlite(uri)
        if problem:
            yield error(
                topic,
                f"打不开 {shown}({problem})",
                "目录要存在且服务用户可写,systemd 单元的 ReadWritePaths 要包含它",
            )
            return
        yield ok(topic, f"{shown} 可以读写(这台机器上的 worker 共用)")
        return
    if scheme in ("redis", "rediss", "memcached"):
        problem = _ping(uri)
        if problem:
            yield error(
                topic,
                f"连不上 {shown}({problem})",
                "启动 Redis / memcached,或检查 ZHIKU_RATE_LIMIT_STORAGE_URI 的主机和端口",
            )
            return
        package = "redis" if scheme.startswith("redis") else "pymemcache"
        if importlib.util.find_spec(package) is None:
            yield error(
                topic,
                f"{shown} 连得上,但没有装 Python 包 {package},应用用不了它",
                f"在应用的虚拟环境里 pip install {package}",
            )
            return
        yield ok(topic, f"{shown} 连得上(几台机器可以共用)")
        return
    yield warning(topic, f"{shown} 无法自动检查", "请自己确认它连得上")


def _open_sqlite(uri: str) -> str:
    import sqlite3

    from feedback_app.ratelimit import SQLiteStorage

    try:
        storage = SQLiteStorage(uri)
        storage.incr("zhiku-check", 1)
    except (OSError, ValueError, sqlite3.Error) as exc:
        return str(exc)
    return ""


def _ping(uri: str) -> str:
    """ "" when the server answers, else why not (in the system's words)."""
    parts = urlsplit(uri)
    redis = parts.scheme.startswith("redis")
    host, port = parts.hostname or "localhost", parts.port or (6379 if redis else 11211)
    try:
        with socket.create_connection((host, port), timeout=STORAGE_TIMEOUT) as raw:
            sock: socket.socket = raw
            if parts.scheme == "rediss":
                sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
            if not redis:
                sock.sendall(b"version\r\n")
                return "" if _line(sock).startswith("VERSION") else "不像 memcached"
            if parts.password:
                words = [parts.username or "default", parts.password]
                sock.sendall(_resp(["AUTH", *words]))
                if not _line(sock).startswith("+OK"):
                    return "密码不对"
            sock.sendall(_resp(["PING"]))
            answer = _line(sock)
            return "" if answer.startswith("+PONG") else redact(answer[:80]) or "没有回答"
    except TimeoutError:
        return f"{STORAGE_TIMEOUT:g} 秒内没有回答"
    except OSError as exc:
        return exc.strerror or str(exc)


def _resp(words: list[str]) -> bytes:
    out = f"*{len(words)}\r\n".encode()
    for word in words:
        data = word.encode()
        out += b"$%d\r\n%s\r\n" % (len(data), data)
    return out


def _line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\r\n") and len(data) < 1024:
        chunk = sock.recv(256)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()

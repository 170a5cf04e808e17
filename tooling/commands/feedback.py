"""``kb feedback``: run the feedback app, issue staff tokens for it, check a deployment.

``kb feedback serve --repo DIR`` runs the app for development (production runs
it under gunicorn: see the README and ``deploy/``; ``kb feedback check`` checks
such a deployment before it goes live, :mod:`feedback_app.deploycheck`).
``kb feedback token HANDLE --repo DIR`` prints a new personal token for a handle
in ``_staff.yaml`` once, and stores only its hash outside the repository.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from tooling.errors import UsageError

NAME = "feedback"
HELP = "run the feedback app (staff flag entries -> git branches) and issue staff tokens"
ORDER = 60

log = logging.getLogger("zhiku")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(
        dest="feedback_command", metavar="SUBCOMMAND", parser_class=type(parser)
    )
    sub.required = True

    serve = sub.add_parser(
        "serve",
        help="run the feedback app (development server)",
        description="Run the feedback app with werkzeug's server. In "
        "production run `gunicorn 'feedback_app:create_app()'` with "
        "ZHIKU_REPO and friends in the environment.",
    )
    _repo_and_tokens(serve)
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=5000,
        help="port (default: 5000; 0 picks a free one and logs it)",
    )
    serve.add_argument(
        "--remote", metavar="NAME", help="push each flag branch to this remote, e.g. origin"
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="a site origin allowed to call the app, e.g. "
        "https://kb.example.com (repeat for several)",
    )
    serve.set_defaults(feedback_run=_serve)

    token = sub.add_parser(
        "token",
        help="create a personal token for a staff handle",
        description="Print a new token for HANDLE (from _staff.yaml on "
        "main) on stdout, once; store only its hash. A new token replaces "
        "the handle's earlier one.",
    )
    token.add_argument("handle", metavar="HANDLE", help="a handle from _staff.yaml")
    _repo_and_tokens(token)
    token.set_defaults(feedback_run=_token)

    check = sub.add_parser(
        "check",
        help="check a deployment of the feedback app before it goes live",
        description="Read the app's settings as gunicorn would (ZHIKU_* variables, "
        "instance/config.py) and check the repository clone, its base branch and "
        "knowledge base, the remote (reachable, accepts a push: --dry-run), the tokens "
        "file, CORS against SITE_URL, the rate-limit storage and where the app writes. "
        "Prints what is fine and what to fix, in Chinese; exit 1 when something must "
        "be fixed. Run it as the service's user.",
    )
    check.add_argument(
        "--env-file",
        metavar="FILE",
        help="read the settings from this systemd EnvironmentFile (e.g. "
        "/etc/zhiku/feedback.env) instead of this shell's ZHIKU_* variables",
    )
    check.set_defaults(feedback_run=_check)


def _repo_and_tokens(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo", required=True, metavar="DIR", help="the git repository that holds kb/"
    )
    parser.add_argument(
        "--tokens",
        metavar="FILE",
        help="token hashes file (default: "
        "$XDG_CONFIG_HOME/zhiku/tokens.json or ~/.config/zhiku/tokens.json)",
    )
    parser.add_argument(
        "--kb-dir",
        default="kb",
        metavar="PATH",
        help="knowledge-base folder inside the repository (default: kb)",
    )


def run(args: argparse.Namespace) -> int:
    return int(args.feedback_run(args))


def _repo(args: argparse.Namespace) -> Path:
    repo = Path(args.repo).resolve()
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise UsageError(f"not a git repository: {repo} (use --repo DIR)")
    return repo


def _token(args: argparse.Namespace) -> int:
    from feedback_app.auth import TokenStore, default_tokens_path
    from feedback_app.gitstore import GitStore
    from feedback_app.snapshot import SnapshotCache

    store = GitStore(_repo(args))
    tip = store.resolve("refs/heads/main")
    if tip is None:
        raise UsageError(f"{store.repo} has no main branch")
    snapshot = SnapshotCache(store, args.kb_dir).get(tip)
    staff = snapshot.staff(args.handle)
    if staff is None:
        handles = ", ".join(s.handle for s in snapshot.loaded.kb.staff) or "none"
        raise UsageError(
            f"no handle {args.handle!r} in {args.kb_dir}/_staff.yaml on main (handles: {handles})"
        )
    path = Path(args.tokens) if args.tokens else default_tokens_path()
    token = TokenStore(path).issue(staff.handle)
    print(token)
    print(
        f"token for {staff.name} ({staff.handle}) — shown only this once; its hash is in "
        f"{path}. A new token replaces the old one.",
        file=sys.stderr,
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from feedback_app import create_app

    # Options become ZHIKU_* settings, so the app reads them exactly as under gunicorn.
    settings = {
        "REPO": str(_repo(args)),
        "KB_DIR": args.kb_dir,
        "TOKENS_FILE": args.tokens,
        "REMOTE": args.remote,
        "CORS_ORIGINS": ",".join(args.cors_origin) or None,
    }
    for key, value in settings.items():
        if value:
            os.environ[f"ZHIKU_{key}"] = value
    app = create_app()
    server = make_server(args.host, args.port, app, threaded=True)
    log.info(
        "知库反馈服务 listening on http://%s:%d (repository %s)",
        args.host,
        server.server_port,
        app.config["REPO"],
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _check(args: argparse.Namespace) -> int:
    from flask import Flask

    from feedback_app import configure
    from feedback_app.deploycheck import Level, environment, run_checks, setting_problems

    env_file = Path(args.env_file) if args.env_file else None
    try:
        environ = environment(env_file)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the environment file: {exc}") from None
    for key, value in environ.items():  # e.g. GIT_SSH_COMMAND for the git calls
        if not key.startswith("ZHIKU_"):
            os.environ[key] = value
    source = f"环境文件 {env_file}" if env_file else "环境变量 ZHIKU_*"
    print(f"检查知库反馈服务的部署(设置来自{source})")
    findings = setting_problems(environ)
    if not findings:
        app = Flask("feedback_app", instance_relative_config=True)
        configure(app, environ=environ)
        findings = run_checks(app.config)
    for finding in findings:
        print(finding.format())
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    if errors:
        print(f"有 {errors} 处要修改,{warnings} 个警告:改好后再运行 kb feedback check")
        return 1
    print(f"可以上线:没有要修改的地方,{warnings} 个警告")
    return 0

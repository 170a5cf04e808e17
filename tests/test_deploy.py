"""The files in deploy/ agree with the app and with each other, and the real tools accept them.

gunicorn loads its config (``--check-config`` imports the app too), ``systemd-analyze
verify`` accepts the units, ``nginx -t`` the server block (both skip loudly when the
tool is absent), and every ``ZHIKU_*`` name in the env example is a declared setting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from feedback_app.deploycheck import read_env_file
from feedback_app.settings import BY_NAME, normalize

DEPLOY = REPO_ROOT / "deploy"
GUNICORN = Path(sys.executable).with_name("gunicorn")
APP = "feedback_app:create_app()"
# What `kb feedback check` refuses to pass without: a production instance must set them.
NEEDED_IN_PRODUCTION = {"REPO", "REMOTE", "TOKENS_FILE", "SITE_URL", "CORS_ORIGINS"}


def gunicorn_config() -> dict[str, str]:
    done = subprocess.run(
        [str(GUNICORN), "--print-config", "-c", str(DEPLOY / "gunicorn.conf.py"), APP],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found


def unit_values(name: str, key: str) -> list[str]:
    text = (DEPLOY / name).read_text(encoding="utf-8")
    return re.findall(rf"^{key}=(.*)$", text, re.MULTILINE)


@pytest.mark.slow  # two gunicorn runs that import the app: about 7 s
def test_gunicorn_config_loads_and_says_what_the_brief_says() -> None:
    done = subprocess.run(
        [str(GUNICORN), "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py"), APP],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    config = gunicorn_config()
    assert config["bind"] == "['127.0.0.1:8081']"
    assert config["preload_app"] == "False"
    assert int(config["workers"]) >= 2
    # A flag's push may take 2 x GIT_TIMEOUT; the worker is not killed before that.
    assert int(config["timeout"]) > 2 * float(BY_NAME["GIT_TIMEOUT"].default)
    stop = int(unit_values("zhiku-feedback.service", "TimeoutStopSec")[0])
    assert int(config["graceful_timeout"]) < stop
    assert "%(U)s" in config["access_log_format"]  # the path without the query string
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%(a)s", "authorization"):
        assert leaky not in config["access_log_format"].lower()


def test_every_zhiku_name_in_the_env_example_is_a_setting() -> None:
    text = (DEPLOY / "feedback.env.example").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"\bZHIKU_([A-Z_]+)=", text))
    assert mentioned - set(BY_NAME) == set()
    values = read_env_file(DEPLOY / "feedback.env.example")
    given = {k.removeprefix("ZHIKU_"): v for k, v in values.items() if k.startswith("ZHIKU_")}
    assert NEEDED_IN_PRODUCTION - set(given) == set()
    assert given["TRUSTED_PROXIES"] == "1"
    normalize(given)  # every value parses as its declared type
    assert set(values) - {f"ZHIKU_{name}" for name in given} == {"GIT_SSH_COMMAND"}


def test_unit_agrees_with_the_env_example_and_is_hardened() -> None:
    values = read_env_file(DEPLOY / "feedback.env.example")
    unit = "zhiku-feedback.service"
    assert unit_values(unit, "EnvironmentFile") == ["/etc/zhiku/feedback.env"]
    assert unit_values(unit, "ReadWritePaths") == [values["ZHIKU_REPO"]]
    assert unit_values(unit, "WorkingDirectory") == ["/srv/zhiku/app"]
    for key, value in {
        "User": "zhiku",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
    }.items():
        assert unit_values(unit, key) == [value], key
    assert "-c /srv/zhiku/app/deploy/gunicorn.conf.py" in unit_values(unit, "ExecStart")[0]
    fetch = unit_values("zhiku-feedback-fetch.service", "ExecStart")[0]
    assert f"-C {values['ZHIKU_REPO']} fetch" in fetch
    assert unit_values("zhiku-feedback-fetch.service", "ReadWritePaths") == [values["ZHIKU_REPO"]]


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the units were not verified")
    for unit in DEPLOY.glob("zhiku-feedback*"):
        text = unit.read_text(encoding="utf-8")
        # verify wants the programs to exist: point at this checkout's gunicorn.
        text = text.replace("/srv/zhiku/app/.venv/bin/gunicorn", str(GUNICORN))
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_nginx_matches_the_app_and_accepts_the_config(tmp_path: Path) -> None:
    conf = (DEPLOY / "nginx-zhiku-feedback.conf").read_text(encoding="utf-8")
    values = read_env_file(DEPLOY / "feedback.env.example")
    size = re.search(r"client_max_body_size (\d+)k;", conf)
    assert size is not None
    assert int(size.group(1)) * 1024 == int(values["ZHIKU_MAX_CONTENT_LENGTH"])
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "server 127.0.0.1:8081;" in conf
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", conf)
    assert read_timeout is not None
    assert int(read_timeout.group(1)) > int(gunicorn_config()["timeout"])
    api = conf[conf.index("location /api/") : conf.index("location = /healthz")]
    assert 'add_header Cache-Control "no-store" always;' in api
    assert "proxy_no_cache 1;" in api

    nginx, openssl = shutil.which("nginx") or "/usr/sbin/nginx", shutil.which("openssl")
    if not Path(nginx).exists() or openssl is None:
        pytest.skip("nginx or openssl is not installed: `nginx -t` did not run")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=feedback.kb.example.com", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    site = conf.replace(
        "/etc/letsencrypt/live/feedback.kb.example.com/fullchain.pem", str(cert)
    ).replace("/etc/letsencrypt/live/feedback.kb.example.com/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr

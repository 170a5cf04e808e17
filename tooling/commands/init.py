"""``kb init [DIR]``: start a new team's knowledge base with commented starter files.

Writes ``_site.yaml`` (the team's name and contacts), ``_staff.yaml`` (the
roster) and one section. What the team must fill in is marked 【待填写…】, as in
``kb new``: until every marker is replaced ``kb validate`` says what is left,
so a half-made site is never published. Existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tooling.errors import UsageError
from tooling.kb.identity import SITE_FILE

NAME = "init"
HELP = "start a new team's knowledge base in DIR: _site.yaml, _staff.yaml and one section"
ORDER = 29

SECTION = "general"

SITE_TEMPLATE = """\
# 站点信息：两个站点的页眉、首页、页脚、404 页、浏览器标题和答疑台都从这里取。
# 每个【待填写…】都要换成真实内容（不需要的可选字段整行删掉）；改完运行 `kb validate`。
# 每个字段的说明：`kb schema site`。

# 站点名称（20 字以内）：显示在页眉和浏览器标题里。
name: {name}
# 运营单位：显示在首页和页脚。
organisation: {organisation}
# 首页的一句话介绍：public 给业主和住户看，staff 给客服同事看。
description:
  public: 【待填写：对住户说的一句话，例如 业主和住户的常见问题，随时可查】
  staff: 【待填写：对客服同事说的一句话，例如 服务中心内部知识库】
# 联系方式：首页和每页页脚都显示。电话写 phone（加引号），会变成一点就能拨打的链接；
# 微信服务号、小程序等写 text。
contacts:
  - {{label: 24 小时服务热线, phone: "【待填写：电话号码，例如 0571-8866-6600】"}}
  # - {{label: 微信小程序, text: 小程序的名称}}
# 服务时间和地址：显示在首页和页脚。
hours: 【待填写：例如 服务中心 8:30–17:30，报修热线 24 小时】
address: 【待填写：服务中心地址】
# 标志图片（可选）：把图片放进知识库文件夹，例如 kb/_logo.svg，再去掉下一行的 #。
# logo: _logo.svg
"""

STAFF_TEMPLATE = """\
# 人员名册：写条目、认领条目的每位同事一项。条目的 owner 写这里的 handle。
# 每个【待填写…】都要换成真实内容；要加人就照样再写一项。
- handle: 【待填写：小写字母和连字符，例如 zhang-wei】
  name: 【待填写：姓名】
  email: 【待填写：邮箱，例如 zhang.wei@example.com】
  team: 【待填写：所在组，例如 客服一组】
"""

SECTION_TEMPLATE = """\
# 栏目：这个文件夹里的条目组成一个栏目。文件夹名用小写字母和连字符。
# 栏目名称，显示在导航和首页。
title: 常见问题
# 排序：数字小的在前。
order: 1
# 栏目简介（可选），显示在首页和栏目页。
# description: 一句话说明这个栏目收哪些问题
"""

PLACEHOLDER_NAME = "【待填写：站点名称，例如 云栖花园服务中心】"
PLACEHOLDER_ORGANISATION = "【待填写：运营单位全称】"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", nargs="?", default="kb", metavar="DIR", help="folder to create (default: ./kb)"
    )
    parser.add_argument("--name", help="the site's name, e.g. 云栖花园服务中心")
    parser.add_argument("--organisation", help="who runs it, e.g. 云栖物业服务有限公司")


def starter_files(name: str | None, organisation: str | None) -> dict[str, str]:
    """``{path relative to DIR: text}`` of the starter knowledge base."""
    site = SITE_TEMPLATE.format(
        name=_yaml_text(name) if name else PLACEHOLDER_NAME,
        organisation=_yaml_text(organisation) if organisation else PLACEHOLDER_ORGANISATION,
    )
    return {
        SITE_FILE: site,
        "_staff.yaml": STAFF_TEMPLATE,
        f"{SECTION}/_section.yaml": SECTION_TEMPLATE,
    }


def _yaml_text(value: str) -> str:
    """A one-line value as a YAML double-quoted string (safe whatever it contains)."""
    text = " ".join(value.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    files = starter_files(args.name, args.organisation)
    existing = [rel for rel in files if (root / rel).exists()]
    if existing:
        raise UsageError(
            f"not overwriting existing files in {root}: {', '.join(existing)} "
            "(move them away, or edit them instead)"
        )
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    print(
        f"wrote a starter knowledge base in {root}/: replace every 【待填写…】 "
        f"(`kb validate --kb {root}` lists them), then add entries with "
        f"`kb new {SECTION}/ENTRY-ID --kb {root}`",
        file=sys.stderr,
    )
    return 0

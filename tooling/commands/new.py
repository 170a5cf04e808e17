"""``kb new SECTION/ID``: write a starter entry, each field explained.

What the writer must write is marked 【待填写…】 (:data:`tooling.kb.schema.PLACEHOLDER`),
so an untouched starter fails ``kb validate`` with a message per field to fill
and never reaches a site.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date

from tooling.commands._common import add_kb_argument, kb_root
from tooling.errors import UsageError
from tooling.kb.load import load
from tooling.kb.schema import PLACEHOLDER

NAME = "new"
HELP = "write a starter entry SECTION/ID.yaml with every field explained and marked to fill"
ORDER = 30

OWNER_PLACEHOLDER = "【待填写：负责人，_staff.yaml 里的 handle】"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

TEMPLATE = """\
# 知库条目。每个【待填写…】都要换成真实内容：没换完，`kb validate` 会报错，
# 条目也不会出现在站点上。不需要的可选字段可以整段删掉。
# 条目编号：小写字母、数字和连字符，必须与文件名相同。
id: {id}
# 标准问：页面标题，一句完整的问题，80 字以内。
question: 【待填写：住户或客户会怎么问，写成一句完整的问题】
# 负责人：_staff.yaml 里的 handle，负责保持本条目正确（知识认领）。
owner: {owner}
# 谁能看到：public 公开站点和员工站点都显示；internal 只在员工站点显示。
audience: public
# 在栏目里的位置（可选）：数字小的在前；不写就按标准问的拼音排序。
# order: 1
# 标签：方便归类和搜索。
tags: []
# 核心规则（Markdown）：权威答案，写清时间、金额、负责方。
rule: |
  【待填写：核心规则，写清时间、金额、谁负责】
# 常见场景：具体情况和对应的答复。
scenarios:
  - case: 【待填写：一个具体情况】
    answer: 【待填写：这种情况怎么答复】
# 衍生问法：大家实际怎么问，至少 2 条，每条在整个知识库里唯一。
phrasings:
  - 【待填写：第一种问法】
  - 【待填写：第二种问法】
# 话术（只在员工站点显示）：三种语气的现成回复，可以只写需要的几种。
# replies:
#   friendly: 亲切的回复
#   formal: 专业的回复
#   brief: 简洁的回复
# 转人工（只在员工站点显示）：交给哪个组、先收集什么、多久内响应（30m / 2h / 1d）。
# handoff:
#   team: 客服组
#   collect: [房号, 联系电话]
#   respond_within: 2h
# 相关条目的 id（公开条目不能关联内部条目）。
related: []
# 外部链接，只能是 http:// 或 https:// 网址。
# links:
#   - title: 管理规约
#     url: https://example.com/rules
# 负责人最近一次确认内容无误的日期：写完、核对过后改成那天。
reviewed: {today}
# 复核周期：到期未复核会提示（d 天、w 周、m 月、y 年）。
review_every: 180d
# 限时通知的到期日：过了这一天，条目不再出现在站点上。
# expires: 2027-01-31
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="SECTION/ID",
        help="section folder and new entry id, e.g. repairs/water-leak",
    )
    add_kb_argument(parser)
    parser.add_argument(
        "--owner", metavar="HANDLE", help="owner handle from _staff.yaml (default: the first one)"
    )


def run(args: argparse.Namespace) -> int:
    root = kb_root(args)
    section, _, entry_id = args.target.strip("/").rpartition("/")
    if not section or not SLUG.match(entry_id):
        raise UsageError(
            f"expected SECTION/ID with a slug id, e.g. repairs/water-leak; got {args.target!r}"
        )
    folder = root / section
    if not (folder / "_section.yaml").is_file():
        raise UsageError(
            f"section {section!r} not found: create {folder}/_section.yaml with `title:` first"
        )
    path = folder / f"{entry_id}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists; choose another id")
    loaded = load(root)
    if loaded.kb.entry(entry_id) or entry_id in loaded.known_ids:
        raise UsageError(f"id {entry_id!r} is already used elsewhere in {root}")
    handles = [s.handle for s in loaded.kb.staff if PLACEHOLDER not in s.handle]
    owner = args.owner or (handles[0] if handles else OWNER_PLACEHOLDER)
    if handles and owner not in handles:
        raise UsageError(f"unknown owner {owner!r}; choose one of: {', '.join(handles)}")
    path.write_text(
        TEMPLATE.format(id=entry_id, owner=owner, today=date.today().isoformat()), encoding="utf-8"
    )
    print(path)
    print(f"wrote {path}; replace every 【待填写…】, then run `kb validate`", file=sys.stderr)
    return 0

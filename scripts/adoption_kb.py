"""Write a small knowledge base of another domain (a gym's front desk) for the adoption check.

``python scripts/adoption_kb.py DIR`` replaces DIR with 9 entries in 3 sections (one
nested), an internal entry with a handoff, replies, related entries and synonyms. The
review dates are a few days before today, so the knowledge base validates cleanly on
any day it is generated. Used by scripts/adopt-check.sh; standard library only.
"""

from __future__ import annotations

import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

STAFF = """\
- handle: lin-xiao
  name: 林晓
  email: lin.xiao@qinghe-fitness.example.org
  team: 前台
- handle: gao-peng
  name: 高鹏
  email: gao.peng@qinghe-fitness.example.org
  team: 教练组
- handle: song-yu
  name: 宋雨
  email: song.yu@qinghe-fitness.example.org
  team: 会籍顾问
"""

SYNONYMS = """\
- [会员卡, 年卡, 月卡]
- [私教, 私人教练]
- [团课, 团操, 集体课]
"""

SECTIONS = {
    "membership": ("会员卡", 1, "办卡、停卡、转卡和退卡。"),
    "classes": ("课程", 2, "团课预约和私教课。"),
    "classes/private": ("私教课", 1, "私教课购买、预约和退课。"),
    "facilities": ("场馆设施", 3, "营业时间、储物柜和淋浴。"),
}

# (section, id, question, owner, rule, [(case, answer)], [phrasings], extra YAML lines)
ENTRIES: list[tuple[str, str, str, str, str, list[tuple[str, str]], list[str], str]] = [
    (
        "membership",
        "card-pause",
        "会员卡可以停卡吗？最多停多久？",
        "song-yu",
        "年卡每年可以**免费停卡 1 次**，最长 60 天；出差、怀孕或受伤有证明的，可再延长 30 天。"
        "在前台或小程序「我的会员卡」申请，停卡当天生效。",
        [("出差两个月", "可以申请停卡 60 天，回来后在前台恢复。")],
        ["出差了卡能不能先停", "年卡停卡怎么办理"],
        "replies:\n  friendly: 可以的～年卡每年能免费停一次，最长 60 天，在小程序就能申请哦\n"
        "  brief: 年卡每年可免费停卡 1 次，最长 60 天。\n",
    ),
    (
        "membership",
        "card-transfer",
        "会员卡能转给别人吗？",
        "song-yu",
        "剩余时长在 **90 天以上**的年卡可以转让一次，双方本人带身份证到前台办理，手续费 200 元。",
        [("卡还剩一个月想转给朋友", "剩余不足 90 天，不能转让。")],
        ["年卡转让手续费多少", "健身卡可以过户吗"],
        "related: [card-pause]\n",
    ),
    (
        "membership",
        "refund-approval",
        "会员要求退卡，前台按什么标准处理？",
        "song-yu",
        "开卡 **7 天内**且未入场的全额退；其余按剩余天数折算，扣除已赠送课程和 10% 手续费，"
        "由会籍主管审批，款项 15 个工作日内原路退回。",
        [("办卡第 3 天没来过", "全额退款，前台直接办理。")],
        ["退卡怎么算钱", "会员要退年卡找谁批"],
        "audience: internal\nhandoff:\n  team: 会籍主管\n"
        "  collect: [会员卡号, 开卡日期, 退卡原因]\n  respond_within: 1d\n",
    ),
    (
        "classes",
        "group-class-booking",
        "团课怎么预约？迟到了还能进吗？",
        "gao-peng",
        "在小程序「课程表」里提前预约，开课前 **2 小时**停止取消；开课 10 分钟后不能进场，"
        "一个月内爽约 3 次暂停预约 7 天。",
        [("约了课临时来不了", "开课前 2 小时以前可以在小程序取消。")],
        ["团操课在哪里约", "瑜伽课迟到能进去吗"],
        "",
    ),
    (
        "classes/private",
        "private-coach-purchase",
        "私教课怎么买？多少钱一节？",
        "gao-peng",
        "私教课按教练级别定价：初级 300 元/节、中级 400 元/节、高级 500 元/节，"
        "10 节起购，首次购买送 1 节体验课。",
        [("想先试一节", "首次可以预约免费体验课，满意再购买。")],
        ["请私人教练多少钱", "私教课能不能单买一节"],
        "related: [private-coach-refund]\n",
    ),
    (
        "classes/private",
        "private-coach-refund",
        "私教课没上完能退吗？",
        "gao-peng",
        "未上的课时按购买单价退款，扣除赠送课时的价值；有效期过后未上的课时不退。",
        [("教练离职了", "可以换同级别教练，或按剩余课时全额退款。")],
        ["私教课剩下的课时能退钱吗", "教练走了课怎么办"],
        "related: [private-coach-purchase]\n",
    ),
    (
        "facilities",
        "opening-hours",
        "健身房几点开门？节假日营业吗？",
        "lin-xiao",
        "周一至周五 **6:30–22:30**，周末和节假日 **8:00–21:00**；除夕和大年初一闭馆。",
        [("春节期间来锻炼", "除夕和初一闭馆，初二起按节假日时间营业。")],
        ["晚上几点关门", "国庆节开不开"],
        "",
    ),
    (
        "facilities",
        "lockers",
        "储物柜怎么用？能长期租吗？",
        "lin-xiao",
        "临时储物柜凭手环免费使用，离馆前请清空；长租柜 50 元/月，在前台登记。",
        [("手环丢了", "到前台挂失，补办手环 30 元。")],
        ["柜子可以一直放东西吗", "手环丢了怎么开柜子"],
        "",
    ),
    (
        "facilities",
        "showers",
        "淋浴间有热水吗？要自己带洗浴用品吗？",
        "lin-xiao",
        "淋浴间全天有热水，提供洗发水和沐浴露，毛巾需自带或在前台租用（5 元/条）。",
        [("忘带毛巾", "前台可以租毛巾，5 元一条。")],
        ["洗澡要带毛巾吗", "有没有吹风机"],
        "",
    ),
]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def entry_text(
    entry_id: str,
    question: str,
    owner: str,
    rule: str,
    scenarios: list[tuple[str, str]],
    phrasings: list[str],
    extra: str,
    reviewed: date,
) -> str:
    """One entry file in the format of the spec."""
    lines = [
        f"id: {entry_id}",
        f"question: {_quoted(question)}",
        f"owner: {owner}",
        "rule: |",
        f"  {rule}",
        "scenarios:",
        *(f"  - case: {_quoted(c)}\n    answer: {_quoted(a)}" for c, a in scenarios),
        "phrasings:",
        *(f"  - {_quoted(p)}" for p in phrasings),
        f"reviewed: {reviewed.isoformat()}",
    ]
    return "\n".join(lines) + "\n" + extra


def write_kb(root: Path, today: date | None = None) -> int:
    """Replace ``root`` with the gym knowledge base; returns the number of entries."""
    reviewed = (today or date.today()) - timedelta(days=5)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "_staff.yaml").write_text(STAFF, encoding="utf-8")
    (root / "_synonyms.yaml").write_text(SYNONYMS, encoding="utf-8")
    for path, (title, order, description) in SECTIONS.items():
        folder = root / path
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_section.yaml").write_text(
            f"title: {title}\norder: {order}\ndescription: {description}\n", encoding="utf-8"
        )
    for section, entry_id, question, owner, rule, scenarios, phrasings, extra in ENTRIES:
        text = entry_text(entry_id, question, owner, rule, scenarios, phrasings, extra, reviewed)
        (root / section / f"{entry_id}.yaml").write_text(text, encoding="utf-8")
    return len(ENTRIES)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/adoption_kb.py DIR", file=sys.stderr)
        return 2
    count = write_kb(Path(argv[0]))
    print(f"adoption_kb: wrote {count} entries of a gym's front desk to {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

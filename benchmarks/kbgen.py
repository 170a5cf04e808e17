"""Generate a large, varied, valid knowledge base for benchmarks."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

TOPICS = [
    "电梯",
    "停车",
    "物业费",
    "快递",
    "装修",
    "宠物",
    "垃圾",
    "门禁卡",
    "漏水",
    "停电",
    "噪音",
    "访客",
    "水费",
    "电费",
    "发票",
    "退货",
    "换货",
    "退款",
    "优惠券",
    "自提点",
]
ACTIONS = [
    "怎么办",
    "多少钱",
    "几点开始",
    "在哪里办理",
    "要带什么",
    "多久能好",
    "谁负责",
    "能不能延期",
    "怎么申请",
    "有什么规定",
]
PLACES = ["一号楼", "二号楼", "地下车库", "会所", "东门", "西门", "物业中心", "单元门口"]
# A fixed git identity for benchmark repositories, independent of the user's config.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run git in ``repo`` as the benchmark identity; its standard output."""
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode()


STAFF = ["zhang-wei", "wang-fang", "liu-qiang", "chen-jing", "li-na"]


def entry_text(i: int, rng: random.Random) -> str:
    topic, action, place = rng.choice(TOPICS), rng.choice(ACTIONS), rng.choice(PLACES)
    amount, hour = rng.randint(5, 500), rng.randint(7, 21)
    phrasings = "".join(f"  - {place}{topic}{action}{i}-{k}\n" for k in range(3))
    return (
        f"id: e{i:05d}\n"
        f"question: {place}的{topic}问题{i}{action}?\n"
        f"owner: {STAFF[i % len(STAFF)]}\n"
        f"audience: {'internal' if i % 10 == 0 else 'public'}\n"
        f"tags: [{topic}, {place}]\n"
        "rule: |\n"
        f"  {place}{topic}相关事项:每天 {hour}:00 前在物业中心办理,费用 {amount} 元。\n"
        f"  逾期请拨打 8800 咨询,工作人员 {rng.randint(1, 3)} 个工作日内回复。\n"
        "scenarios:\n"
        f"  - case: {topic}在{place}出现问题\n"
        f"    answer: 先拍照留存,再联系物业,{hour} 点前处理。\n"
        f"  - case: 超过期限还没处理{topic}\n"
        "    answer: 拨打 8800 催办。\n"
        f"phrasings:\n{phrasings}"
        "replies:\n"
        f"  friendly: 您好~{topic}的事我们来帮您处理哦\n"
        f"  formal: 您好,关于{topic},请于 {hour}:00 前到物业中心办理。\n"
        f"  brief: {hour}:00 前办理,{amount} 元。\n"
        + (
            f"handoff:\n  team: 客服组\n  collect: [房号, 电话]\n  respond_within: {hour}h\n"
            if i % 10 == 0
            else ""
        )
        + f"related: [e{(i + 10) % 5000 // 10 * 10 + 1:05d}]\n"
        f"reviewed: 2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}\n"
    )


def generate(root: Path, count: int = 5000, sections: int = 20, seed: int = 7) -> Path:
    """Write ``count`` entries in ``sections`` sections (two levels) under ``root``."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "_staff.yaml").write_text(
        "".join(
            f"- handle: {h}\n  name: 员工{n}\n  email: {h}@example.com\n  team: 客服组\n"
            for n, h in enumerate(STAFF)
        ),
        encoding="utf-8",
    )
    (root / "_synonyms.yaml").write_text("- [物业费, 管理费]\n- [快递, 包裹]\n", encoding="utf-8")
    folders = []
    for s in range(sections):
        top = root / f"area{s // 4}"
        top.mkdir(exist_ok=True)
        (top / "_section.yaml").write_text(
            f"title: 区域{s // 4}\norder: {s // 4}\n", encoding="utf-8"
        )
        sub = top / f"topic{s}"
        sub.mkdir(exist_ok=True)
        (sub / "_section.yaml").write_text(f"title: 主题{s}\norder: {s}\n", encoding="utf-8")
        folders.append(sub)
    for i in range(count):
        folder = folders[i % sections]
        (folder / f"e{i:05d}.yaml").write_text(entry_text(i, rng), encoding="utf-8")
    return root

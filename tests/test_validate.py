"""`kb validate`: every rule names the exact file, line and kind of problem."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import EVAL_KB, FIXTURE_KB, entry_yaml, require_shared_eval

from tooling.cli import main
from tooling.errors import Problem, Severity
from tooling.kb.check import sorted_problems, validate

TODAY = "2026-11-25"
MakeKb = Callable[[dict[str, str | bytes]], Path]


def problems_of(root: Path) -> list[str]:
    from datetime import date

    return [p.format() for p in validate(root, date.fromisoformat(TODAY)).problems]


def only(root: Path, file: str) -> list[str]:
    return [line for line in problems_of(root) if line.startswith(file + ":")]


def test_valid_kb_has_no_problems(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/a.yaml": entry_yaml("a"), "repairs/b.yaml": entry_yaml("b")})
    assert problems_of(root) == []


def test_yaml_syntax_error_has_position(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/bad.yaml": "id: bad\nquestion: [unclosed\n"})
    assert only(root, "repairs/bad.yaml") == [
        "repairs/bad.yaml:3:1: error: YAML 语法错误:while parsing a flow sequence, "
        "did not find expected ',' or ']' — 检查这一行及上一行的缩进、冒号后的空格和引号是否成对"
    ]


def test_tab_indentation(make_kb: MakeKb) -> None:
    text = entry_yaml("tabs").replace("  - tabs 问法一", "\t- tabs 问法一")
    root = make_kb({"repairs/tabs.yaml": text})
    assert only(root, "repairs/tabs.yaml") == [
        "repairs/tabs.yaml:11:1: error: 缩进里有 Tab 制表符 — YAML 只能用空格缩进,"
        "把 Tab 换成两个空格(VS Code:右下角“制表符长度” → 使用空格缩进)"
    ]


def test_gbk_file_names_the_encoding(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/gbk.yaml": entry_yaml("gbk").encode("gbk")})
    assert only(root, "repairs/gbk.yaml") == [
        "repairs/gbk.yaml:2:15: error: 文件不是 UTF-8 编码(看起来是 GBK) — 转换为 UTF-8 后再保存,"
        "例如 `iconv -f GBK -t UTF-8 文件 > 新文件`,或在 VS Code 中“通过编码重新打开 → GBK”"
        "再“通过编码保存 → UTF-8”"
    ]


def test_utf16_file(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/u16.yaml": entry_yaml("u16").encode("utf-16")})
    assert only(root, "repairs/u16.yaml") == [
        "repairs/u16.yaml:1:1: error: 文件是 UTF-16 编码,不是 UTF-8 — "
        "用编辑器另存为 UTF-8(VS Code:右下角编码 → 通过编码保存 → UTF-8)"
    ]


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"])
def test_empty_file(make_kb: MakeKb, content: str) -> None:
    root = make_kb({"repairs/empty.yaml": content})
    assert only(root, "repairs/empty.yaml") == [
        "repairs/empty.yaml:1:1: error: 文件是空的 — 写入条目内容(可用 `kb new` 生成模板),或删除此文件"
    ]


def test_not_a_mapping(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/list.yaml": "- a\n- b\n"})
    assert only(root, "repairs/list.yaml") == [
        "repairs/list.yaml:1:1: error: 条目文件应该是键值(字段: 值),现在是列表 — 每行写成 `字段: 值` 的形式"
    ]


def test_duplicate_key_names_both_lines(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/dup.yaml": entry_yaml("dup") + "owner: li-na\n"})
    assert only(root, "repairs/dup.yaml") == [
        "repairs/dup.yaml:14:1: error: 字段 `owner` 写了两次(第一次在第 3 行) — 删掉其中一个,或把两处内容合并"
    ]


def test_unknown_key_suggests_closest(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/typo.yaml": entry_yaml("typo", phrasing="[a, b]")})
    assert only(root, "repairs/typo.yaml") == [
        "repairs/typo.yaml:14:1: error: 未知字段 `phrasing` — 是不是想写 `phrasings`?"
    ]


def test_unknown_nested_key(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/n.yaml": entry_yaml("n", replies="\n  freindly: 你好")})
    assert only(root, "repairs/n.yaml") == [
        "repairs/n.yaml:15:3: error: `replies` 里未知字段 `freindly` — 是不是想写 `friendly`?"
    ]


def test_wrong_types(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/t.yaml": entry_yaml("t", phrasings="只有一条", tags="退货")})
    assert only(root, "repairs/t.yaml") == [
        "repairs/t.yaml:10:12: error: `phrasings` 应该是列表,现在是文字 — 每条问法单独一行,以 `- ` 开头,至少写 2 条",
        "repairs/t.yaml:12:7: error: `tags` 应该是列表,现在是文字 — 写成列表,例如 `tags: [退货, 时效]`",
    ]


def test_question_too_long(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/q.yaml": entry_yaml("q", question="长" * 81)})
    assert only(root, "repairs/q.yaml") == [
        "repairs/q.yaml:2:11: error: `question` 有 81 个字,超过 80 字上限 — 写成一句完整的问题,80 字以内"
    ]


def test_bad_id_and_id_not_file_stem(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/Bad_ID.yaml": entry_yaml("Bad_ID"),
            "repairs/wrongid.yaml": entry_yaml("wrong-id"),
        }
    )
    assert only(root, "repairs/Bad_ID.yaml") == [
        "repairs/Bad_ID.yaml:1:5: error: `id` 的值 `Bad_ID` 格式不对 — "
        "只用小写字母、数字和连字符,例如 water-leak,并与文件名一致"
    ]
    assert only(root, "repairs/wrongid.yaml") == [
        "repairs/wrongid.yaml:1: error: id `wrong-id` 与文件名 `wrongid` 不一致 — "
        "把 id 改成 `wrongid`,或把文件改名为 wrong-id.yaml"
    ]


def test_duplicate_id_across_folders(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "fees/same.yaml": entry_yaml("same"),
            "repairs/same.yaml": entry_yaml("same", phrasings="\n  - 另一种问法\n  - 第二种问法"),
        }
    )
    assert problems_of(root) == [
        "repairs/same.yaml:1:5: error: id `same` 与 fees/same.yaml 重复 — "
        "id 在整个知识库里必须唯一:给其中一个条目换个 id(并改文件名)"
    ]


def test_missing_required_fields(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/m.yaml": entry_yaml("m", owner=None, rule=None)})
    assert only(root, "repairs/m.yaml") == [
        "repairs/m.yaml:1:1: error: 缺少必填字段 `owner` — 加上 `owner:`(负责人:_staff.yaml 里的 handle(知识认领))",
        "repairs/m.yaml:1:1: error: 缺少必填字段 `rule` — 加上 `rule:`(核心规则(Markdown):权威答案)",
    ]


def test_fewer_than_two_phrasings(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/p.yaml": entry_yaml("p", phrasings="\n  - 就一条")})
    assert only(root, "repairs/p.yaml") == [
        "repairs/p.yaml:10:1: error: `phrasings` 至少要有 2 条,现在只有 1 条 — "
        "每条问法单独一行,以 `- ` 开头,至少写 2 条"
    ]


def test_shared_phrasing_and_phrasing_equal_to_question(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/a.yaml": entry_yaml("a"),
            "repairs/b.yaml": entry_yaml("b", phrasings="\n  - A 问法一!\n  - a 怎么办"),
        }
    )
    assert problems_of(root) == [
        "repairs/b.yaml:11:5: error: 问法“A 问法一!”与 repairs/a.yaml:11 的问法重复 — "
        "同一个问法只能属于一个条目:删掉其中一处,或把两处改写得更具体",
        "repairs/b.yaml:12:5: error: 问法“a 怎么办”与 repairs/a.yaml:2 的标准问相同 — "
        "搜索无法区分这两个条目:删掉这条问法,或改写得更具体",
    ]


def test_unknown_owner(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/o.yaml": entry_yaml("o", owner="nobody")})
    assert problems_of(root) == [
        "repairs/o.yaml:3:8: error: 负责人 `nobody` 不在 _staff.yaml 里 — "
        "改成名册里的 handle(li-na, zhang-wei),或先把这位同事加入 _staff.yaml"
    ]


def test_unknown_related_and_public_to_internal(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/a.yaml": entry_yaml("a", related="[missing-one, secret]"),
            "repairs/secret.yaml": entry_yaml("secret", audience="internal"),
        }
    )
    assert problems_of(root) == [
        "repairs/a.yaml:14:11: error: 相关条目 `missing-one` 不存在 — 检查拼写,或删掉这个 id",
        "repairs/a.yaml:14:24: error: 公开条目关联了内部条目 `secret`(repairs/secret.yaml) — "
        "公开站点没有这个页面:删掉这个关联,或把本条目设为 audience: internal",
    ]


def test_impossible_dates_and_bad_durations(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/d.yaml": entry_yaml(
                "d", reviewed="2026-02-30", review_every="3x", expires="someday"
            )
        }
    )
    assert only(root, "repairs/d.yaml") == [
        "repairs/d.yaml:13:11: error: `reviewed` 的日期 `2026-02-30` 不存在 — 检查月份和日期,例如 2 月没有 30 日",
        "repairs/d.yaml:14:15: error: `review_every` 的值 `3x` 格式不对 — "
        "写成数字加单位:d 天、w 周、m 月、y 年,例如 90d",
        "repairs/d.yaml:15:10: error: `expires` 应该是日期 YYYY-MM-DD,现在是 `someday` — "
        "写成 YYYY-MM-DD,例如 2027-01-13",
    ]


def test_bad_respond_within(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/h.yaml": entry_yaml(
                "h", handoff="\n  team: 工程部\n  collect: [房号]\n  respond_within: 两小时"
            )
        }
    )
    assert only(root, "repairs/h.yaml") == [
        "repairs/h.yaml:17:19: error: `handoff.respond_within` 的值 `两小时` 格式不对 — "
        "写成数字加单位:m 分钟、h 小时、d 天,例如 2h"
    ]


def test_links_must_be_http(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/l.yaml": entry_yaml(
                "l",
                links="\n  - title: x\n    url: ftp://example.com\n  - title: y\n"
                "    url: javascript:alert(1)",
            )
        }
    )
    assert only(root, "repairs/l.yaml") == [
        "repairs/l.yaml:16:10: error: `links[1].url` 的值 `ftp://example.com` 格式不对 — "
        "只能链接 http:// 或 https:// 开头的网址",
        "repairs/l.yaml:18:10: error: `links[2].url` 的值 `javascript:alert(1)` 格式不对 — "
        "只能链接 http:// 或 https:// 开头的网址",
    ]


def test_script_html_in_markdown_fields(make_kb: MakeKb) -> None:
    rule = (
        '|\n  第一行\n  <script>alert(1)</script>\n  <img src=x onerror="x()">\n'
        '  [a](javascript:alert(1))\n  <iframe src="https://example.com"></iframe>'
    )
    scenarios = '\n  - case: 情况\n    answer: <a href="#" onclick="steal()">点</a>'
    root = make_kb({"repairs/x.yaml": entry_yaml("x", rule=rule, scenarios=scenarios)})
    tag_hint = (
        "条目里只能用 Markdown 写格式(**加粗**、列表、表格、[标题](https://…) 链接);删掉这个标签"
    )
    assert only(root, "repairs/x.yaml") == [
        "repairs/x.yaml:6:3: error: `rule` 里的标签 `<script>` 不允许使用,"
        f"会连同里面的内容一起被去掉 — {tag_hint}",
        f"repairs/x.yaml:7:3: error: `rule` 里的标签 `<img>` 不允许使用,会被去掉 — {tag_hint}",
        "repairs/x.yaml:8:7: error: `rule` 里的链接地址 `javascript:alert(1)` 不是 "
        "http/https/mailto/tel 链接,会被去掉 — "
        "链接只能以 http://、https://、mailto: 或 tel: 开头,或是站内的相对地址",
        f"repairs/x.yaml:9:3: error: `rule` 里的标签 `<iframe>` 不允许使用,会被去掉 — {tag_hint}",
        "repairs/x.yaml:12:25: error: `scenarios[1].answer` 里的属性 `onclick`(`<a>` 标签上)"
        "不允许使用,会被去掉 — 删掉这个属性:条目里的 HTML 只能是 <br>、<b> 这类简单标签,"
        "链接请写成 [标题](https://…)",
    ]


def test_attr_list_braces_and_obfuscated_links_are_refused(make_kb: MakeKb) -> None:
    """The two proposals of issue 10: braces that attr_list would have made an event
    handler, and an entity-encoded ``javascript:`` link."""
    scenarios = (
        "\n  - case: 甲\n"
        '    answer: 详见[说明](https://example.com){ onmouseover="alert(1)" }\n'
        "  - case: 乙\n"
        "    answer: |\n      先看这里。\n      [点我](jav&#x61;script:alert(1))"
    )
    root = make_kb({"repairs/x.yaml": entry_yaml("x", scenarios=scenarios)})
    assert only(root, "repairs/x.yaml") == [
        "repairs/x.yaml:9:40: error: `scenarios[1].answer` 里的属性写法 "
        '`{ onmouseover="alert(1)" }` 不支持,会原样显示成文字 — '
        "删掉这对花括号和里面的内容;链接写成 [标题](https://…) 即可,不能加属性",
        "repairs/x.yaml:13:12: error: `scenarios[2].answer` 里的链接地址 `javascript:alert(1)` "
        "不是 http/https/mailto/tel 链接,会被去掉 — "
        "链接只能以 http://、https://、mailto: 或 tel: 开头,或是站内的相对地址",
    ]


def test_plain_fields_are_checked_too(make_kb: MakeKb) -> None:
    phrasings = "\n  - x 问法一\n  - <svg onload=alert(1)> 问法二"
    root = make_kb({"repairs/x.yaml": entry_yaml("x", phrasings=phrasings)})
    assert only(root, "repairs/x.yaml") == [
        "repairs/x.yaml:12:5: error: `phrasings[2]` 里的标签 `<svg>` 不允许使用,会被去掉 — "
        "条目里只能用 Markdown 写格式(**加粗**、列表、表格、[标题](https://…) 链接);删掉这个标签"
    ]


def test_benign_markup_has_no_html_problems(make_kb: MakeKb) -> None:
    rule = (
        "|\n  **注意**:A&B 两栋 <br> 统一处理,详见[公告](https://example.com/a?x=1&y=2)。\n"
        "  | 楼栋 | 时间 |\n  |:--|--:|\n  | 1 号楼 | 9:00 |\n\n"
        "  1. 关总阀\n  2. 报修\n    - 公共部分\n\n"
        "  电话 [0571-6600](tel:0571-6600),邮件 <help@example.com>,价格 < 5 元,`<b>` 是代码。"
    )
    root = make_kb({"repairs/x.yaml": entry_yaml("x", rule=rule)})
    assert only(root, "repairs/x.yaml") == []


def test_section_without_title(make_kb: MakeKb) -> None:
    root = make_kb({"fees/_section.yaml": "order: 2\n", "fees/a.yaml": entry_yaml("a")})
    assert problems_of(root) == [
        "fees/_section.yaml:1:1: error: 缺少必填字段 `title` — 加上 `title:`(栏目名称)"
    ]


def test_alias_bomb_is_refused_quickly(make_kb: MakeKb) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    root = make_kb({"repairs/bomb.yaml": "\n".join(lines) + "\n"})
    started = time.perf_counter()
    found = only(root, "repairs/bomb.yaml")
    assert time.perf_counter() - started < 2
    assert found == [
        "repairs/bomb.yaml:1:5: error: 使用了 YAML 锚点/别名(& 和 *) — "
        "知识库条目不支持锚点和别名,请直接写出完整内容"
    ]


def test_warnings_stale_expired_no_scenarios(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/stale.yaml": entry_yaml("stale", reviewed="2025-01-01", scenarios=None),
            "repairs/gone.yaml": entry_yaml("gone", expires="2026-01-01"),
        }
    )
    assert problems_of(root) == [
        "repairs/gone.yaml:14:10: warning: 条目已于 2026-01-01 到期,不会出现在站点上 — "
        "通知已结束可以删除此文件;仍然有效请更新 expires",
        "repairs/stale.yaml:1:5: warning: 条目没有常见场景(scenarios) — "
        "补充 2–3 个具体情况和对应答复,方便客服直接引用",
        "repairs/stale.yaml:10:11: warning: 条目已过复核期(上次确认 2025-01-01,每 180d 复核一次) — "
        "请负责人 zhang-wei 核对内容后把 reviewed 改成今天的日期",
    ]


def test_months_review_interval(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/m.yaml": entry_yaml("m", reviewed="2026-05-25", review_every="6m")})
    assert [line for line in problems_of(root) if "复核期" in line] == [
        "repairs/m.yaml:13:11: warning: 条目已过复核期(上次确认 2026-05-25,每 6m 复核一次) — "
        "请负责人 zhang-wei 核对内容后把 reviewed 改成今天的日期"
    ]


def test_problems_from_every_file_in_one_run(make_kb: MakeKb) -> None:
    root = make_kb(
        {
            "repairs/a.yaml": "- not a mapping\n",
            "fees/b.yaml": entry_yaml("b", owner="nobody"),
            "repairs/c.yaml": "",
        }
    )
    files = [line.split(":")[0] for line in problems_of(root)]
    assert files == ["fees/b.yaml", "repairs/a.yaml", "repairs/c.yaml"]


def test_valid_edge_cases(make_kb: MakeKb) -> None:
    bom = b"\xef\xbb\xbf" + entry_yaml("bom").encode("utf-8")
    crlf = entry_yaml("crlf").replace("\n", "\r\n").encode("utf-8")
    root = make_kb(
        {
            "repairs/bom.yaml": bom,
            "repairs/crlf.yaml": crlf,
            "repairs/trad.yaml": entry_yaml(
                "trad", question="電梯壞了怎麼辦?", phrasings="\n  - 電梯又壞了\n  - 升降機唔郁"
            ),
            "repairs/emoji.yaml": entry_yaml(
                "emoji", question="WiFi 密码是多少?😀", phrasings="\n  - ＷＩＦＩ密码\n  - 无线网🔑"
            ),
            "repairs/sub/nested.yaml": entry_yaml("nested"),
            "repairs/md.yaml": entry_yaml(
                "md",
                scenarios="\n  - case: 多步骤\n    answer: |\n      1. 第一步\n      2. 第二步\n"
                "      - 要点\n  - case: \"冒号: 引号里\"\n    answer: '可以'",
            ),
        }
    )
    assert problems_of(root) == []
    kb = validate(root).kb
    assert kb.entry("md") is not None
    assert kb.entry("md").scenarios[0].answer == "1. 第一步\n2. 第二步\n- 要点\n"  # type: ignore[union-attr]
    assert kb.entry("nested").section == "repairs/sub"  # type: ignore[union-attr]
    assert kb.entry("crlf").rule == "核心规则第一行。\n第二行。\n"  # type: ignore[union-attr]


def test_three_levels_of_sections_is_an_error(make_kb: MakeKb) -> None:
    root = make_kb({"a/b/c/x.yaml": entry_yaml("x")})
    assert problems_of(root) == [
        "a/b/c: error: 栏目层级太深(第 3 层) — 栏目最多 2 层,把这个文件夹往上移一层"
    ]


def test_yml_extension_is_not_silently_ignored(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/a.yml": entry_yaml("a")})
    assert problems_of(root) == ["repairs/a.yml: error: 扩展名是 .yml,不会被读取 — 改名为 a.yaml"]


def test_fixture_kb_validates_with_its_two_warnings() -> None:
    result = validate(FIXTURE_KB, today=date(2026, 11, 25))
    assert result.errors == []
    assert len(result.kb.entries) == 21
    assert [p.format() for p in result.warnings] == [
        "community/dog-keeping.yaml:19:11: warning: 条目已过复核期(上次确认 2026-03-02,"
        "每 180d 复核一次) — 请负责人 he-bin 核对内容后把 reviewed 改成今天的日期",
        "community/notices/notice-water-outage-20261118.yaml:23:10: warning: 条目已于 "
        "2026-11-19 到期,不会出现在站点上 — 通知已结束可以删除此文件;仍然有效请更新 expires",
    ]
    assert sum(not e.is_public for e in result.kb.entries) == 4
    assert {s.path for s in result.kb.sections} == {
        "repairs",
        "fees",
        "community",
        "community/renovation",
        "community/notices",
    }


def test_shared_eval_kb_validates() -> None:
    """The spec says the shared example KB validates cleanly (the fixture twin is above)."""
    require_shared_eval()
    result = validate(EVAL_KB)
    assert result.errors == []
    assert len(result.kb.entries) == 90


# --- the command line -------------------------------------------------------------------


def test_cli_exit_codes_and_text(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb({"repairs/o.yaml": entry_yaml("o", owner="nobody")})
    assert main(["validate", "--kb", str(root), "--today", TODAY]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{root}/repairs/o.yaml:3:8: error: 负责人 `nobody`")
    assert "1 entries checked: 1 error(s), 0 warning(s)" in err


def test_cli_ok_with_warnings(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb({"repairs/s.yaml": entry_yaml("s", reviewed="2020-01-01")})
    assert main(["validate", "--kb", str(root), "--today", TODAY]) == 0


def test_cli_json(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb({"repairs/o.yaml": entry_yaml("o", owner="nobody")})
    main(
        ["validate", "--kb", "KB", "--format", "json"]
        if False
        else ["validate", "--kb", str(root), "--format", "json", "--today", TODAY]
    )
    data = json.loads(capsys.readouterr().out)
    assert data == [
        {
            "file": f"{root}/repairs/o.yaml",
            "line": 3,
            "col": 8,
            "severity": "error",
            "code": "unknown-owner",
            "message": "负责人 `nobody` 不在 _staff.yaml 里",
            "hint": "改成名册里的 handle(li-na, zhang-wei),或先把这位同事加入 _staff.yaml",
        }
    ]


def test_cli_github_annotations(make_kb: MakeKb, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kb({"repairs/o.yaml": entry_yaml("o", owner="nobody")})
    main(["validate", "--kb", str(root), "--format", "github", "--today", TODAY])
    assert capsys.readouterr().out == (
        f"::error file={root}/repairs/o.yaml,line=3,col=8,title=kb validate%3A unknown-owner::"
        "负责人 `nobody` 不在 _staff.yaml 里 — "
        "改成名册里的 handle(li-na, zhang-wei),或先把这位同事加入 _staff.yaml\n"
    )


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--kb", str(tmp_path / "nope")]) == 2
    assert "knowledge base folder not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["validate", "--format", "xml"])
    assert exc.value.code == 2


def test_cli_bad_content_never_tracebacks(
    make_kb: MakeKb, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb(
        {
            "repairs/a.yaml": b"\x00\xff\xfe garbage",
            "repairs/b.yaml": "id: [\n",
            "repairs/c.yaml": "id: c\nquestion: {a: 1}\nowner: [x]\nphrasings: {}\nreviewed: 1\n",
            "repairs/d.yaml": "? [complex, key]\n: value\n",
            "_synonyms.yaml": "- 不是列表的列表\n",
        }
    )
    assert main(["validate", "--kb", str(root)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_yaml_booleans_in_text_fields_ask_for_quotes(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/b.yaml": entry_yaml("b", phrasings="\n  - 能退吗\n  - yes")})
    assert only(root, "repairs/b.yaml") == [
        "repairs/b.yaml:12:5: error: `phrasings[2]` 应该是文字,现在被读成了布尔值 — "
        '给这个值加上引号,例如 `"yes"`'
    ]


def test_problems_are_sorted_as_the_dataclass_orders_them() -> None:
    """``sorted_problems`` is ``sorted(set(problems))``, only faster."""
    problems = [
        Problem(f, line, col, sev, msg, hint, code)
        for f in ("b.yaml", "a.yaml")
        for line in (10, 2)
        for col in (0, 3)
        for sev in (Severity.WARNING, Severity.ERROR)
        for msg, hint, code in (("乙", "", "x"), ("甲", "h", ""), ("甲", "", "y"))
    ]
    problems += problems[:5]
    assert sorted_problems(problems) == sorted(set(problems))


def _string_schemas(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            yield schema
        for value in schema.values():
            yield from _string_schemas(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _string_schemas(value)


def test_the_plain_string_fast_path_agrees_with_the_full_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`schema_check._passes` skips the string branch of `_check` for values it would not
    report; a rule added to that branch alone would be skipped for every plain string.
    For every string schema shipped and a set of awkward values, both must agree."""
    from tooling.kb import schema, schema_check
    from tooling.kb.identity import SITE_SCHEMA
    from tooling.kb.yamlio import Document

    shipped = [
        schema.ENTRY_SCHEMA,
        schema.SECTION_SCHEMA,
        schema.STAFF_SCHEMA,
        schema.SYNONYMS_SCHEMA,
        SITE_SCHEMA,
    ]
    strings = [s for top in shipped for s in _string_schemas(top)]
    assert len(strings) > 10
    values = [
        "",
        " ",
        "正常的一句话",
        "water-leak",
        "Water_Leak",
        "2026-12-01",
        "2026-13-40",
        "【待填写】",
        "开头【待填写:问法】",
        "x" * 81,
        "x" * 2000,
        "public",
        "internal",
        "https://example.com",
        "javascript:alert(1)",
        "0571-6600",
        "2h",
        "180d",
        "zhang-wei",
    ]
    fast = {(i, v): schema_check._passes(v, s) for i, s in enumerate(strings) for v in values}
    monkeypatch.setattr(schema_check, "_passes", lambda text, sch: False)
    for (i, value), passes in fast.items():
        out: list[Problem] = []
        schema_check._check(value, strings[i], ("field",), Document(value), "f.yaml", out)
        assert passes == (out == []), (strings[i], value, out)

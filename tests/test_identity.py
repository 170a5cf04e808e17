"""The team's identity file `_site.yaml`: validated with exact messages, in the JSON
Schema, written by `kb init`, and used by every page of real builds of both sites."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import build_site, entry_yaml

from tooling.cli import main
from tooling.kb.check import validate
from tooling.kb.identity import SITE_SCHEMA
from tooling.kb.model import Contact, SiteIdentity

MakeKb = Callable[[dict[str, str | bytes]], Path]
TODAY = "2026-11-25"

SITE = """\
name: 云栖花园服务中心
organisation: 云栖物业服务有限公司
description:
  public: 业主和住户的常见问题，随时可查。
  staff: 服务中心内部知识库：标准答复和话术。
contacts:
  - {label: 24 小时服务热线, phone: "0571-8866-6600"}
  - {label: 微信小程序, text: 云栖管家}
hours: 服务中心 8:30–17:30，报修热线 24 小时
address: 云栖花园东门会所一楼
logo: _logo.svg
"""
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'


def problems(root: Path) -> list[str]:
    return [p.format() for p in validate(root, date.fromisoformat(TODAY)).problems]


def site_kb(make_kb: MakeKb, site: str) -> Path:
    return make_kb({"_site.yaml": site, "_logo.svg": LOGO, "repairs/a.yaml": entry_yaml("a")})


# --- loading and validation -------------------------------------------------------------------


def test_identity_is_loaded_into_the_model(make_kb: MakeKb) -> None:
    result = validate(site_kb(make_kb, SITE))
    assert result.problems == []
    assert result.kb.site == SiteIdentity(
        name="云栖花园服务中心",
        organisation="云栖物业服务有限公司",
        description_public="业主和住户的常见问题，随时可查。",
        description_staff="服务中心内部知识库：标准答复和话术。",
        contacts=(
            Contact("24 小时服务热线", phone="0571-8866-6600"),
            Contact("微信小程序", text="云栖管家"),
        ),
        hours="服务中心 8:30–17:30，报修热线 24 小时",
        address="云栖花园东门会所一楼",
        logo="_logo.svg",
    )
    assert result.kb.site.contacts[0].tel == "057188666600"


@pytest.mark.parametrize(
    ("written", "tel"),
    [
        ('"+86 571 8866 6600"', "+8657188666600"),
        ("0571-8866-6600", "057188666600"),  # unquoted, still text
        ("057188666600", "057188666600"),  # leading zero kept
        ("95598", "95598"),  # read as a number, shown as written
    ],
)
def test_phone_numbers_become_tel_targets(make_kb: MakeKb, written: str, tel: str) -> None:
    root = site_kb(make_kb, SITE.replace('"0571-8866-6600"', written))
    result = validate(root)
    assert result.problems == []
    assert result.kb.site.contacts[0].tel == tel


def test_missing_file_gives_defaults_and_a_warning(make_kb: MakeKb) -> None:
    root = make_kb({"repairs/a.yaml": entry_yaml("a")})
    (root / "_site.yaml").unlink()
    result = validate(root, date.fromisoformat(TODAY))
    assert result.errors == []
    assert [p.format() for p in result.warnings] == [
        "_site.yaml: warning: 缺少站点信息 _site.yaml：站点名称用默认的「知库」，不显示联系方式"
        " — 运行 `kb init` 生成一份带说明的 _site.yaml，填上名称、热线和地址"
    ]
    assert result.kb.site == SiteIdentity()
    assert result.kb.site.name == "知库"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("text: 云栖管家", "text: 云栖管家, phone: '123'"),
            "_site.yaml:8:5: error: `contacts[2]` 同时写了 phone 和 text"
            " — 每项联系方式只写一个：电话写 phone，微信号、小程序等写 text",
        ),
        (
            (", text: 云栖管家", ""),
            "_site.yaml:8:5: error: `contacts[2]` 既没有 phone 也没有 text"
            " — 每项联系方式只写一个：电话写 phone，微信号、小程序等写 text",
        ),
        (
            ('phone: "0571-8866-6600"', 'phone: "请拨 6600"'),
            "_site.yaml:7:31: error: `contacts[1].phone` 的值 `请拨 6600` 格式不对"
            ' — 写成带引号的号码，例如 "0571-8866-1234" 或 "400-820-1234"',
        ),
        (
            ("logo: _logo.svg", "logo: _missing.svg"),
            "_site.yaml:11:7: error: 找不到标志图片 `_missing.svg`"
            " — 把图片放进知识库文件夹（例如 kb/_logo.svg），再写 `logo: _logo.svg`",
        ),
        (
            ("logo: _logo.svg", "logo: _logo.gif"),
            "_site.yaml:11:7: error: `logo` 的值 `_logo.gif` 格式不对"
            " — 写知识库文件夹里图片的相对路径，例如 `logo: _logo.svg`",
        ),
        (
            ("name: 云栖花园服务中心", "nmae: 云栖花园服务中心"),
            "_site.yaml:1:1: error: 未知字段 `nmae` — 是不是想写 `name`?",
        ),
        (
            ("name: 云栖花园服务中心", "name: 云栖花园服务中心云栖花园服务中心云栖花园服务中心"),
            "_site.yaml:1:7: error: `name` 有 24 个字,超过 20 字上限"
            " — 写一个 20 字以内的名称，例如 `name: 云栖花园服务中心`",
        ),
        (
            ("address: 云栖花园东门会所一楼", "address: 【待填写：服务中心地址】"),
            "_site.yaml:10:10: error: `address` 还是模板里的占位内容：【待填写：服务中心地址】"
            " — 把【待填写…】连同括号换成真实内容；不需要的可选字段可以整段删掉",
        ),
    ],
)
def test_each_mistake_has_a_located_message(
    make_kb: MakeKb, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in SITE
    root = site_kb(make_kb, SITE.replace(old, new))
    assert problems(root) == [expected]
    assert validate(root).kb.site == SiteIdentity()  # a broken file gives the defaults


def test_logo_outside_the_knowledge_base_is_refused(make_kb: MakeKb, tmp_path: Path) -> None:
    (tmp_path / "outside.svg").write_text(LOGO, encoding="utf-8")
    root = site_kb(make_kb, SITE.replace("logo: _logo.svg", "logo: sub/../../outside.svg"))
    assert problems(root) == [
        "_site.yaml:11:7: error: 标志图片 `sub/../../outside.svg` 不在知识库文件夹里"
        " — 把图片放进知识库文件夹（例如 kb/_logo.svg），再写 `logo: _logo.svg`"
    ]


def test_site_schema_is_json_schema_and_agrees_with_the_validator() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(SITE_SCHEMA)
    good = {
        "name": "云栖花园服务中心",
        "contacts": [{"label": "热线", "phone": "0571-8866-6600"}, {"label": "微信", "text": "x"}],
        "logo": "_logo.svg",
    }
    jsonschema.validate(good, SITE_SCHEMA)
    for bad in (
        {**good, "nmae": "x"},
        {"organisation": "x"},
        {**good, "contacts": [{"label": "热线", "phone": "请拨 6600"}]},
        {**good, "logo": "/etc/logo.svg"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SITE_SCHEMA)


# --- kb init ----------------------------------------------------------------------------------


def test_kb_init_writes_a_starter_that_says_what_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "team-kb"
    assert main(["init", str(root), "--name", "青山小区服务中心"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        str(root / "_site.yaml"),
        str(root / "_staff.yaml"),
        str(root / "general" / "_section.yaml"),
    ]
    site = (root / "_site.yaml").read_text(encoding="utf-8")
    assert 'name: "青山小区服务中心"\n' in site
    assert site.count("\n# ") >= 8  # commented
    found = problems(root)
    assert len(found) == 10
    assert found[0] == (
        "_site.yaml:8:15: error: `organisation` 还是模板里的占位内容：【待填写：运营单位全称】"
        " — 把【待填写…】连同括号换成真实内容；不需要的可选字段可以整段删掉"
    )
    assert [line.split(": error: ")[1].split(" 还是")[0] for line in found] == [
        "`organisation`",
        "`description.public`",
        "`description.staff`",
        "`contacts[1].phone`",
        "`hours`",
        "`address`",
        "`[1].handle`",
        "`[1].name`",
        "`[1].email`",
        "`[1].team`",
    ]


def test_kb_init_filled_in_is_a_knowledge_base_that_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "team-kb"
    assert (
        main(["init", str(root), "--name", "青山小区服务中心", "--organisation", "青山物业"]) == 0
    )
    site = root / "_site.yaml"
    text = site.read_text(encoding="utf-8")
    text = re.sub(r"【待填写：电话号码[^】]*】", "0571-1234-5678", text)
    text = re.sub(r"【待填写：[^】]*】", "青山小区", text)
    site.write_text(text, encoding="utf-8")
    (root / "_staff.yaml").write_text(
        "- {handle: wang-fang, name: 王芳, email: wang.fang@example.com, team: 客服组}\n",
        encoding="utf-8",
    )
    (root / "general" / "parking.yaml").write_text(
        entry_yaml("parking", owner="wang-fang"), encoding="utf-8"
    )
    assert problems(root) == []
    kb = validate(root).kb
    assert kb.site.name == "青山小区服务中心" and kb.site.contacts[0].tel == "057112345678"
    out = build_site(root, "public", tmp_path / "site")
    assert "<title>青山小区服务中心</title>" in (out / "index.html").read_text(encoding="utf-8")


def test_kb_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "kb"
    (root / "general").mkdir(parents=True)
    (root / "_staff.yaml").write_text("- {handle: a, name: A, email: a@b.c}\n", encoding="utf-8")
    assert main(["init", str(root)]) == 2
    assert capsys.readouterr().err == (
        f"kb: error: not overwriting existing files in {root}: _staff.yaml "
        "(move them away, or edit them instead)\n"
    )
    assert sorted(p.name for p in root.rglob("*")) == ["_staff.yaml", "general"]


# --- the identity on every page of real builds -------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sites of a small KB with an identity file and a logo, and one without it."""
    base = tmp_path_factory.mktemp("identity")
    kb = base / "kb"
    (kb / "repairs").mkdir(parents=True)
    (kb / "_staff.yaml").write_text(
        "- {handle: zhang-wei, name: 张伟, email: z@example.com}\n", encoding="utf-8"
    )
    (kb / "repairs" / "_section.yaml").write_text("title: 报修\norder: 1\n", encoding="utf-8")
    (kb / "repairs" / "leak.yaml").write_text(
        entry_yaml("leak", question="家里漏水怎么办？"), encoding="utf-8"
    )
    bare = base / "bare-kb"
    shutil.copytree(kb, bare)
    (kb / "_site.yaml").write_text(SITE, encoding="utf-8")
    (kb / "_logo.svg").write_text(LOGO, encoding="utf-8")
    return {
        "public": build_site(kb, "public", base / "public", today=TODAY),
        "staff": build_site(kb, "staff", base / "staff", today=TODAY),
        "bare": build_site(bare, "public", base / "bare", today=TODAY),
    }


def read(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_page_is_titled_and_footed_with_the_identity(built: dict[str, Path]) -> None:
    tel = '<a class="zhiku-tel" href="tel:057188666600">0571-8866-6600</a>'
    for audience, name in (("public", "云栖花园服务中心"), ("staff", "云栖花园服务中心（客服版）")):
        site = built[audience]
        pages = sorted(site.rglob("*.html"))
        assert len(pages) >= 4
        for page in pages:
            html = page.read_text(encoding="utf-8")
            assert re.search(rf"<title>(.+ - )?{re.escape(name)}</title>", html), page
            assert "Made with" not in html and "Material for MkDocs" not in html, page
            footer = html[html.index('<div class="md-copyright zhiku-footer">') :]
            assert "云栖物业服务有限公司" in footer and tel in footer, page
            assert f'<span class="md-ellipsis">\n            {name}' in html, page
            assert 'src="' in html and "assets/zhiku/logo.svg" in html, page
        assert (site / "assets" / "zhiku" / "logo.svg").read_text(encoding="utf-8") == LOGO
    assert "<title>家里漏水怎么办？ - 云栖花园服务中心</title>" in read(
        built["public"], "repairs/leak/index.html"
    )


@pytest.mark.slow
def test_home_pages_speak_to_their_audience(built: dict[str, Path]) -> None:
    public = read(built["public"], "index.html")
    assert "<h1" in public and ">云栖花园服务中心</h1>" in public
    assert "业主和住户的常见问题，随时可查。" in public
    assert "服务中心内部知识库" not in public  # the staff description stays on the staff site
    assert "客户" not in public and "<kbd>" not in public and "顶部的搜索框" not in public
    assert "有问题先搜一搜" in public
    assert '<p class="zhiku-hotline"><span class="zhiku-hotline__label">24 小时服务热线</span>' in (
        public
    )
    assert "找不到答案？联系我们" in public and "云栖花园东门会所一楼" in public
    staff = read(built["staff"], "index.html")
    assert ">云栖花园服务中心（客服版）</h1>" in staff
    assert "服务中心内部知识库：标准答复和话术。" in staff
    assert "输入客户的原话" in staff


@pytest.mark.slow
def test_404_page_is_chinese_with_a_way_back(built: dict[str, Path]) -> None:
    for audience in ("public", "staff"):
        html = read(built[audience], "404.html")
        assert "404 - Not found" not in html
        assert "<h1>没有找到这个页面</h1>" in html
        assert 'class="zhiku-home-link" href="/"' in html
        assert "data-zhiku-search" in html
        assert 'href="tel:057188666600"' in html


@pytest.mark.slow
def test_without_identity_file_the_site_is_called_zhiku(built: dict[str, Path]) -> None:
    home = read(built["bare"], "index.html")
    assert "<title>知库</title>" in home and ">知库</h1>" in home
    assert "tel:" not in home and "联系我们" not in home
    assert "Made with" not in home

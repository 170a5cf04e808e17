"""The team's identity file ``_site.yaml``: its schema and its loading.

One file names the site and the organisation and lists the contacts; both
sites use it on every page (header, home page, footer, 404 page, page titles)
and so does the answer desk. ``SITE_SCHEMA`` is JSON Schema like the other
files' schemas (``kb schema site``) and is interpreted by
:func:`tooling.kb.schema_check.check_document`; rules the schema language cannot say
(one of ``phone`` / ``text``, the logo file exists) are checked here.

Without the file the sites are called 知库 and show no contacts, with a
warning, so a team's knowledge base without it still builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tooling.errors import Problem, Severity
from tooling.kb.model import DEFAULT_SITE_NAME, Contact, SiteIdentity
from tooling.kb.schema_check import check_document, field_label
from tooling.kb.yamlio import Document

SITE_FILE = "_site.yaml"
LOGO_TYPES = (".svg", ".png", ".jpg", ".jpeg", ".webp")
PHONE = r"^\+?[0-9][0-9 -]{1,22}[0-9]$"

_line = {"type": "string", "minLength": 1}

SITE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://zhiku.example/schema/site.json",
    "title": "知库站点信息",
    "description": "团队的名称和联系方式：页眉、首页、页脚、404 页、页面标题和答疑台都用它。",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {
            **_line,
            "maxLength": 20,
            "description": "站点名称：显示在页眉和浏览器标题里，例如 云栖花园服务中心",
            "x-fix": "写一个 20 字以内的名称，例如 `name: 云栖花园服务中心`",
        },
        "organisation": {
            **_line,
            "maxLength": 40,
            "description": "运营单位：显示在首页和页脚，例如 云栖物业服务有限公司",
            "x-fix": "写单位全称，40 字以内",
        },
        "description": {
            "type": "object",
            "additionalProperties": False,
            "description": "首页的一句话介绍，公开站点和员工站点各一句",
            "x-fix": "写成 public / staff 两个子字段",
            "properties": {
                "public": {
                    **_line,
                    "maxLength": 120,
                    "description": "公开站点首页：对业主和住户说的一句话",
                    "x-fix": "写一句 120 字以内的话",
                },
                "staff": {
                    **_line,
                    "maxLength": 120,
                    "description": "员工站点首页：对客服同事说的一句话",
                    "x-fix": "写一句 120 字以内的话",
                },
            },
        },
        "contacts": {
            "type": "array",
            "description": "联系方式：每页页脚和首页都显示；电话会变成可以直接拨打的链接",
            "x-fix": '每项写成 `- {label: 服务热线, phone: "0571-8866-1234"}` '
            "或 `- {label: 微信服务号, text: 云栖花园}`",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["label"],
                "properties": {
                    "label": {
                        **_line,
                        "maxLength": 20,
                        "description": "名称，例如 24 小时服务热线、微信服务号",
                        "x-fix": "写一个 20 字以内的名称",
                    },
                    "phone": {
                        "type": "string",
                        "pattern": PHONE,
                        "description": "电话号码：数字、空格和连字符，可以 + 开头",
                        "x-fix": '写成带引号的号码，例如 "0571-8866-1234" 或 "400-820-1234"',
                    },
                    "text": {
                        **_line,
                        "maxLength": 60,
                        "description": "不是电话的联系方式，例如微信服务号或小程序的名称",
                        "x-fix": "写 60 字以内的文字",
                    },
                },
            },
        },
        "hours": {
            **_line,
            "maxLength": 80,
            "description": "服务时间，例如 服务中心 8:30–17:30，报修热线 24 小时",
            "x-fix": "写一句 80 字以内的话",
        },
        "address": {
            **_line,
            "maxLength": 80,
            "description": "服务中心地址",
            "x-fix": "写一句 80 字以内的地址",
        },
        "logo": {
            "type": "string",
            "pattern": r"^[^/\\.][^\\]*\.(svg|png|jpg|jpeg|webp)$",
            "description": "可选的标志图片（svg、png、jpg、webp）：知识库文件夹里的文件",
            "x-fix": "写知识库文件夹里图片的相对路径，例如 `logo: _logo.svg`",
        },
    },
}


def _problem(
    file: str, doc: Document, path: tuple[str | int, ...], message: str, hint: str, code: str
) -> Problem:
    line, col = doc.positions.get(path, (1, 1))
    return Problem(file, line, col, Severity.ERROR, message, hint, code)


def load_site(root: Path, read: Any, problems: list[Problem]) -> SiteIdentity:
    """The identity in ``root/_site.yaml``; defaults (and a warning) without the file.

    ``read(path, rel, problems)`` parses a file as :mod:`tooling.kb.load` does.
    A file with errors gives the defaults, so the errors are the only news.
    """
    path = root / SITE_FILE
    if not path.exists():
        problems.append(
            Problem(
                SITE_FILE,
                0,
                0,
                Severity.WARNING,
                f"缺少站点信息 {SITE_FILE}：站点名称用默认的「{DEFAULT_SITE_NAME}」，"
                "不显示联系方式",
                "运行 `kb init` 生成一份带说明的 _site.yaml，填上名称、热线和地址",
                "no-site",
            )
        )
        return SiteIdentity()
    doc: Document | None = read(path, SITE_FILE, problems)
    if doc is None:
        return SiteIdentity()
    found = check_document(doc, SITE_SCHEMA, SITE_FILE)
    data = doc.data
    if isinstance(data, dict):
        found += _check_contacts(doc, data.get("contacts"))
        found += _check_logo(root, doc, data.get("logo"))
    problems.extend(found)
    if found or not isinstance(data, dict):
        return SiteIdentity()
    description = data.get("description") or {}
    return SiteIdentity(
        name=str(data["name"]).strip(),
        organisation=str(data.get("organisation", "") or "").strip(),
        description_public=str(description.get("public", "") or "").strip(),
        description_staff=str(description.get("staff", "") or "").strip(),
        contacts=tuple(
            Contact(
                str(c["label"]).strip(),
                phone=str(c.get("phone", "") or "").strip(),
                text=str(c.get("text", "") or "").strip(),
            )
            for c in data.get("contacts") or ()
        ),
        hours=str(data.get("hours", "") or "").strip(),
        address=str(data.get("address", "") or "").strip(),
        logo=str(data.get("logo", "") or ""),
    )


def _check_contacts(doc: Document, contacts: Any) -> list[Problem]:
    if not isinstance(contacts, list):
        return []
    found = []
    for i, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            continue
        name = field_label(("contacts", i))
        phone, text = contact.get("phone"), contact.get("text")
        if (phone is None) == (text is None):
            both = phone is not None
            found.append(
                _problem(
                    SITE_FILE,
                    doc,
                    ("contacts", i),
                    f"`{name}` {'同时写了 phone 和 text' if both else '既没有 phone 也没有 text'}",
                    "每项联系方式只写一个：电话写 phone，微信号、小程序等写 text",
                    "contact-kind",
                )
            )
    return found


def _check_logo(root: Path, doc: Document, logo: Any) -> list[Problem]:
    if not isinstance(logo, str) or not logo.lower().endswith(LOGO_TYPES):
        return []  # the schema reports a wrong type or extension
    target = (root / logo).resolve()
    inside = target.is_relative_to(root.resolve())
    if inside and target.is_file():
        return []
    return [
        _problem(
            SITE_FILE,
            doc,
            ("logo",),
            f"找不到标志图片 `{logo}`" if inside else f"标志图片 `{logo}` 不在知识库文件夹里",
            "把图片放进知识库文件夹（例如 kb/_logo.svg），再写 `logo: _logo.svg`",
            "logo-missing",
        )
    ]

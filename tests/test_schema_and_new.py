"""The schema is defined once: the shipped editor schemas are `kb schema`'s output,
and `kb new` writes an entry that validates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from tooling.cli import main
from tooling.kb.check import validate
from tooling.kb.schema import ENTRY_SCHEMA


@pytest.mark.parametrize("kind", ["entry", "section", "staff", "synonyms", "site"])
def test_shipped_schema_matches_kb_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", kind]) == 0
    printed = capsys.readouterr().out
    shipped = (REPO_ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert printed == shipped, f"schemas/{kind}.schema.json is stale: run `kb schema {kind} > it`"


def test_vscode_settings_point_at_the_schemas() -> None:
    settings = json.loads((REPO_ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    mapping = settings["yaml.schemas"]
    assert mapping["./schemas/entry.schema.json"] == ["kb/**/[!_]*.yaml"]
    for path in mapping:
        assert (REPO_ROOT / path).is_file()


def test_schema_is_valid_json_schema_and_accepts_a_real_entry() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator.check_schema(ENTRY_SCHEMA)
    entry = {
        "id": "a",
        "question": "问?",
        "owner": "zhang-wei",
        "rule": "规则",
        "phrasings": ["一", "二"],
        "reviewed": "2026-10-01",
    }
    jsonschema.validate(entry, ENTRY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**entry, "phrasing": []}, ENTRY_SCHEMA)


def test_kb_new_writes_a_valid_commented_entry(
    make_kb: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb({"repairs/_section.yaml": "title: 报修\n"})
    assert main(["new", "repairs/door-lock", "--kb", str(root), "--owner", "li-na"]) == 0
    path = root / "repairs" / "door-lock.yaml"
    assert capsys.readouterr().out.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    assert "id: door-lock\n" in text and "owner: li-na\n" in text
    assert text.count("\n# ") >= 10  # every field is explained
    result = validate(root)
    assert result.errors == []
    assert result.kb.entry("door-lock") is not None


def test_kb_new_refuses_overwrite_and_unknown_section(
    make_kb: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_kb({"repairs/_section.yaml": "title: 报修\n"})
    assert main(["new", "repairs/a", "--kb", str(root)]) == 0
    before = (root / "repairs" / "a.yaml").read_bytes()
    assert main(["new", "repairs/a", "--kb", str(root)]) == 2
    assert (root / "repairs" / "a.yaml").read_bytes() == before
    assert main(["new", "nowhere/b", "--kb", str(root)]) == 2
    assert main(["new", "repairs/Bad_Id", "--kb", str(root)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "section 'nowhere' not found" in err

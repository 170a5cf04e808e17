"""The schema is defined once: the shipped editor schemas are `kb schema`'s output.

(`kb new` is tested with the rest of the writer's loop in test_writer_loop.py.)"""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT

from tooling.cli import main
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

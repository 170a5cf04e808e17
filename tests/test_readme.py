"""The README tells the truth: its command reference is the CLI's own help."""

from __future__ import annotations

from conftest import REPO_ROOT

from tooling.clidocs import replace_in


def test_cli_reference_in_readme_is_current() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_in(text) == text, (
        "README's command reference is stale: run `python -m tooling.clidocs --write README.md`"
    )


def test_readme_has_the_two_commands() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make serve" in text and "make test" in text
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == "make test"


def test_feedback_app_settings_table_in_readme_is_current() -> None:
    from feedback_app.settings import replace_in as settings_in

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_in(text) == text, (
        "README's feedback-app settings table is stale: "
        "run `python -m feedback_app.settings --write README.md`"
    )

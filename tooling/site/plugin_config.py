"""The zhiku plugin's options for one build, as ``kb build`` and ``kb serve`` pass them.

MkDocs' ``load_config(**overrides)`` replaces whole top-level keys, so the
commands pass a whole ``plugins`` list (:func:`plugin_overrides`) to set the
knowledge base, audience and date of a build without touching ``mkdocs.yml``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class _FreshItems(list[Any]):
    """A list that hands out copies of its items: MkDocs consumes plugin option dicts
    (``popitem``) while ``mkdocs serve`` reloads the same overrides on every rebuild."""

    def __iter__(self) -> Iterator[Any]:
        return (copy.deepcopy(item) for item in super().__iter__())


def plugin_overrides(config_file: Path, **options: Any) -> list[Any]:
    """The ``plugins`` list of ``config_file`` with the zhiku plugin's options replaced.

    MkDocs' ``load_config(**overrides)`` replaces whole top-level keys, so the
    commands pass this list to set the knowledge base and audience of a build.
    """
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, "rb") as fd:
        raw = yaml_load(fd) or {}
    plugins = raw.get("plugins") or []
    if isinstance(plugins, dict):
        plugins = [{name: opts} if opts else name for name, opts in plugins.items()]
    result: list[Any] = []
    found = False
    for item in plugins:
        name = item if isinstance(item, str) else next(iter(item))
        if name == "zhiku":
            found = True
            current = {} if isinstance(item, str) else dict(item[name] or {})
            current.update({k: v for k, v in options.items() if v is not None})
            item = {"zhiku": current}
        result.append(item)
    if not found:
        raise ValueError(
            f"{config_file} does not enable the zhiku plugin (add `- zhiku` under `plugins:`)"
        )
    return _FreshItems(result)

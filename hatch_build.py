"""Wheel build hook: our own Space folders as `hfspace new`'s templates (hfspace/templates/<name>/).

The templates are the folders themselves, read at build time: a fix to python-backend/ reaches
every Space made from the next wheel, and no second copy is kept. What is no part of a Space
(tests, installed dependencies, virtual environments, caches, local .env files) is left out, as
`hfspace new` leaves it out when it copies from a checkout (hfspace/new.py's LEFT_OUT).
"""

from __future__ import annotations

import os
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TEMPLATES = {"flask": "python-backend", "express": "nodejs-backend", "static": "frontend"}
LEFT_OUT = {"tests", "test", "node_modules", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _kept(name: str) -> bool:
    local_env = (name == ".env" or name.startswith(".env.")) and name != ".env.example"
    return not (local_env or name.endswith((".pyc", ".pyo")))


class TemplatesHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":  # an editable install reads the folders in the checkout
            return
        root = Path(self.root)
        for template, folder in TEMPLATES.items():
            source = root / folder
            if not source.is_dir():
                raise FileNotFoundError(f"{folder}/ is missing: the wheel carries it as the {template} template")
            for directory, dirs, files in os.walk(source):
                dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT)
                for name in sorted(files):
                    path = Path(directory, name)
                    if _kept(name):
                        target = Path("hfspace", "templates", template, path.relative_to(source))
                        build_data["force_include"][str(path)] = target.as_posix()

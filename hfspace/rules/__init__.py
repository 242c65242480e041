"""`hfspace validate`: the rules a Space folder is held to, a registry with one module per area.

| module        | area                                                                  |
|---------------|-----------------------------------------------------------------------|
| card.py       | the Space card (README.md front matter)                               |
| build.py      | what the platform needs to build at all: the Dockerfile, the app file |
| listening.py  | where the app listens: 0.0.0.0:app_port                               |
| user.py       | uid 1000 and the files it can write                                   |
| image.py      | how the image is made: pinned bases, PID 1, locked installs           |
| secrets.py    | values that would end up in the image                                 |
| upload.py     | what reaches the Space repository                                     |
| health.py     | the image's HEALTHCHECK                                               |

A rule is one function over the one Space model (`hfspace.space`) plus its documentation
(its docstring: summary, Why, Severity, Fix, Example) and its fixture folder,
tests/tool/fixtures/validate/<id>/. `registry.py` holds the machinery; `doc.py` writes
docs/rules.md from the registry. Every finding is `path:line: severity rule-id message` plus
a one-line fix; rule ids are stable.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfspace.errors import HfspaceError
from hfspace.rules import build, card, health, image, listening, secrets, upload, user  # noqa: F401 (they register)
from hfspace.rules.registry import ERROR, INFO, RULES, SEVERITIES, WARNING, Finding, Hit, Report, Rule, check_ids
from hfspace.rules.registry import validate_space as validate_space
from hfspace.space import load

AREAS = ("card", "build", "listening", "user", "image", "secrets", "upload", "health")

__all__ = [
    "AREAS", "ERROR", "INFO", "RULES", "SEVERITIES", "WARNING", "Finding", "Hit", "Report", "Rule", "check_ids",
    "explain", "validate", "validate_space",
]  # fmt: skip


def validate(path: str | os.PathLike, *, select: set[str] | None = None, ignore: set[str] | None = None) -> Report:
    """Validate one Space folder. Raises HfspaceError (exit code 2) when it is not a folder."""
    given = os.fspath(path)
    if not Path(given).is_dir():
        raise HfspaceError(
            f"{given} is not a folder", hint="pass the folder that holds the Space's README.md", exit_code=2
        )
    return validate_space(load(given), given, select=select, ignore=ignore)


def explain(rule_id: str) -> Rule:
    """One rule, by id; HfspaceError (exit 2) for an id no rule has."""
    check_ids([rule_id], "rule")
    return RULES[rule_id]

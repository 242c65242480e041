"""Space variables and secrets as a user gives them, read the same way by `up` and `deploy`.

Variables: `--var KEY=VALUE` (repeatable) and a KEY=VALUE file (.env syntax).
Secrets: `--secret NAME` (repeatable), whose value is the environment variable
NAME (never a command-line argument, which shells and process lists keep), else
a hidden prompt where the command offers one; and a KEY=VALUE file. A secret's
value is never part of a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from dotenv import dotenv_values

from hfspace.errors import HfspaceError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_assignments(values: list[str], option: str) -> dict[str, str]:
    """KEY=VALUE pairs from a repeated option; one error line for the first bad one."""
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not _NAME.match(key):
            raise HfspaceError(f'{option} "{value}": expected KEY=VALUE', hint=f"e.g. {option} LOG_LEVEL=debug")
        result[key] = rest
    return result


def read_file(path: str, option: str) -> dict[str, str]:
    """The KEY=VALUE pairs of a .env-style file."""
    file = Path(path)
    if not file.is_file():
        raise HfspaceError(f"{option} {path}: no such file", hint="give the path of a KEY=VALUE file (.env syntax)")
    return {key: value for key, value in dotenv_values(file).items() if value is not None}


def variables(pairs: list[str], file: str | None = None) -> dict[str, str]:
    """--var pairs over the --env-file's."""
    return {**(read_file(file, "--env-file") if file else {}), **parse_assignments(pairs, "--var")}


def secrets(
    names: list[str],
    environ: Mapping[str, str],
    file: str | None = None,
    prompt: Callable[[str], str] | None = None,
) -> dict[str, str]:
    """Secret values by name: the environment variable of that name, else `prompt(name)`;
    over the --secrets-file's. One error line, without the value, when one is missing."""
    values = read_file(file, "--secrets-file") if file else {}
    for name in names:
        if not _NAME.match(name):
            raise HfspaceError(
                f'--secret "{name}": expected the name of an environment variable',
                hint="--secret API_KEY reads the value from $API_KEY (never from the command line)",
            )
        value = environ.get(name) or (prompt(name) if prompt else "")
        if not value:
            raise HfspaceError(
                f"--secret {name}: no environment variable {name} holds its value",
                hint=f"export {name}=... first (the value is read from the environment, never from the command line)",
            )
        values[name] = value
    return values

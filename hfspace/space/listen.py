"""Which host and port the image's server listens on by default, and where that is said.

Read from the command (`-b`/`--bind`, `--host`, `--port`, ...), the final stage's ENV
(`PORT`, `GUNICORN_CMD_ARGS`, `UVICORN_*`, `FLASK_RUN_*`, `STREAMLIT_SERVER_PORT`), a gunicorn
config file's literal `bind`, and each server's own defaults: gunicorn binds 127.0.0.1:8000
unless `PORT` is set (then 0.0.0.0:$PORT); uvicorn 127.0.0.1:8000; `flask run`
127.0.0.1:5000; streamlit 0.0.0.0:8501; `python -m http.server` 0.0.0.0:8000. A value that
cannot be known here (a `bind` computed from the environment, a build argument without a
default) stays unknown, and no rule judges it.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from hfspace.space.dockerfile import Dockerfile
from hfspace.space.words import expand, split

PORT_OPTIONS = ("--port", "-p", "--server.port", "--http-port")
HOST_OPTIONS = ("--host", "--server.address", "--address")
BIND_OPTIONS = ("-b", "--bind")
SERVERS = ("gunicorn", "uvicorn", "flask", "streamlit", "hypercorn")
Where = tuple[str, int]  # (a file in the Space, a line)


@dataclass
class Listen:
    host: str | None = None
    host_at: Where | None = None
    port: int | None = None
    port_at: Where | None = None
    explicit_port: bool = False  # said by the command or a config, not a server's default


def option(words: list[str], names: tuple[str, ...]) -> str | None:
    """The value of the last of `names` among the words (`--port 80` or `--port=80`)."""
    value = None
    for index, word in enumerate(words):
        name, eq, inline = word.partition("=")
        if name in names:
            if eq:
                value = inline
            elif index + 1 < len(words):
                value = words[index + 1]
    return value


def program(words: list[str]) -> str | None:
    """The server a command runs (`python -m uvicorn` counts), or None."""
    for index, word in enumerate(words):
        name = posixpath.basename(word)
        if re.fullmatch(r"python[\d.]*", name) and index + 2 < len(words) and words[index + 1] == "-m":
            return words[index + 2]
        if name in SERVERS:
            return name
    return None


def split_bind(bind: str) -> tuple[str | None, str | None]:
    """`host:port`, `[::]:port`, `host` or `:port` as (host, port); a unix socket is neither."""
    if bind.startswith(("unix:", "fd://")):
        return None, None
    if bind.startswith("["):
        host, _, rest = bind[1:].partition("]")
        return host, rest.lstrip(":") or None
    if bind.count(":") == 1:
        host, _, port = bind.partition(":")
        return host, port
    return bind, None


def _port(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def gunicorn_config_bind(words: list[str], read: Callable[[str], tuple[str, str] | None]) -> tuple | None:
    """`bind` from the gunicorn config the command uses: (literal or None when computed, line, file);
    None when there is no such file or it sets no bind. `read(path in image)` gives (file, text)."""
    name = option(words, ("-c", "--config")) or "gunicorn.conf.py"
    if name.startswith("python:"):
        return None
    found = read(name)
    if found is None:
        return None
    file, text = found
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "bind" for t in targets):
            value = node.value
            if isinstance(value, ast.List | ast.Tuple) and value.elts:
                value = value.elts[0]
            literal = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
            return literal, node.lineno, file
    return None


def listen(dockerfile: Dockerfile, read: Callable[[str], tuple[str, str] | None]) -> Listen:
    """Where the final image's command listens. `read(path)` maps a path the command names (in
    the image, maybe relative to WORKDIR) to (file in the Space, its text), or None."""
    result = Listen()
    command = dockerfile.command
    if dockerfile.final is None or command.at is None:
        return result
    config = dockerfile.config
    env = config.env
    words = command.words
    at: Where = ("Dockerfile", command.at.line)
    server = program(words)

    def value(text: str | None) -> str | None:
        # Expanded at run time from the image's ENV (build arguments are gone by then); the
        # platform sets no PORT or HOST, so a name the image does not set is unset.
        return None if text is None else expand(text, env)

    def set_host(host: str | None, where: Where) -> None:
        if result.host is None and host is not None:
            known = value(host)
            if known is not None:
                result.host, result.host_at = known, where

    def set_port(port: str | None, where: Where, explicit: bool = True) -> None:
        if result.port is None and port is not None:
            known = _port(value(port))
            if known is not None:
                result.port, result.port_at, result.explicit_port = known, where, explicit

    def from_env(name: str, fallback: str | None) -> tuple[str | None, Where]:
        if name in env:
            ins = config.env_at.get(name)
            return env[name], ("Dockerfile", ins.line if ins else command.at.line)
        return fallback, at

    bind = option(words, BIND_OPTIONS)
    if bind is not None:
        host, port = split_bind(bind)
        set_host(host, at)
        set_port(port, at)
    set_host(option(words, HOST_OPTIONS), at)
    set_port(option(words, PORT_OPTIONS), at)
    if server == "http.server":
        after = words[words.index("http.server") + 1 :]
        positional = [w for i, w in enumerate(after) if not w.startswith("-") and (i == 0 or after[i - 1] != "--bind")]
        set_port(positional[0] if positional else "8000", at)
    if server == "gunicorn":
        extra = env.get("GUNICORN_CMD_ARGS")
        if extra:
            host, port = split_bind(option(split(extra) or [], BIND_OPTIONS) or "")
            ins = config.env_at.get("GUNICORN_CMD_ARGS")
            where = ("Dockerfile", ins.line if ins else command.at.line)
            set_host(host, where)
            set_port(port, where)
        configured = gunicorn_config_bind(words, read)
        if configured is not None:
            literal, line, file = configured
            if literal is None:  # computed at start-up: unknown, except through PORT below
                set_port(*from_env("PORT", None), explicit=False)
                return result
            host, port = split_bind(literal)
            set_host(host, (file, line))
            set_port(port or "8000", (file, line))
        if "PORT" in env:  # gunicorn's own default: 0.0.0.0:$PORT when PORT is set
            set_host("0.0.0.0", from_env("PORT", None)[1])
            set_port(*from_env("PORT", None))
        set_host("127.0.0.1", at)
        set_port("8000", at)
    elif server == "uvicorn":
        set_host(*from_env("UVICORN_HOST", "127.0.0.1"))
        set_port(*from_env("UVICORN_PORT", "8000"))
    elif server == "flask":
        set_host(*from_env("FLASK_RUN_HOST", "127.0.0.1"))
        set_port(*from_env("FLASK_RUN_PORT", "5000"))
    elif server == "streamlit":
        set_port(*from_env("STREAMLIT_SERVER_PORT", "8501"))
    else:  # an app that reads its own configuration: the usual HOST and PORT
        if "HOST" in env:
            set_host(*from_env("HOST", None))
        if "PORT" in env:
            set_port(*from_env("PORT", None), explicit=False)
    return result

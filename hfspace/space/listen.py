"""Which host and port the image's server listens on by default, and where that is said.

Read from the command (`-b`/`--bind`, `--host`, `--port`, ...), the final stage's ENV
(`PORT`, `GUNICORN_CMD_ARGS`, `UVICORN_*`, `FLASK_RUN_*`, `STREAMLIT_SERVER_PORT`), a gunicorn
config file's literal `bind`, and each server's own defaults: gunicorn binds 127.0.0.1:8000
unless `PORT` is set (then 0.0.0.0:$PORT); uvicorn 127.0.0.1:8000; `flask run`
127.0.0.1:5000; streamlit 0.0.0.0:8501; `python -m http.server` 0.0.0.0:8000. A value that
cannot be known here (a `bind` computed from the environment, a build argument without a
default) stays unknown, and no rule judges it.

An app started as a script (`python app.py`, `node server.js`) says where it listens in its
own code: `app.run(host=, port=)` (Flask: 127.0.0.1:5000 by default), `uvicorn.run(...)`
(127.0.0.1:8000), Gradio's `launch(server_name=, server_port=)` (GRADIO_SERVER_NAME, else
127.0.0.1; port 7860), Node's `.listen(port, host)` (all interfaces; Fastify: localhost) and
Fastify's `listen({port, host})`. Literals, module-level names, `os.environ.get("PORT", 7860)`
and `process.env.PORT || 3000` are followed, with the image's ENV (the platform sets no PORT).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from hfspace.space.code import parse_python
from hfspace.space.dockerfile import Dockerfile
from hfspace.space.words import expand, option, split

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
    tree = parse_python(text)
    if tree is None:
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
    else:  # an app that reads its own configuration: its code says where, else the usual HOST and PORT
        from_code = script_listen(words, read, env)
        if from_code is not None:
            host, port, where = from_code
            set_host(host, where)
            set_port(str(port) if port is not None else None, where)
        if "HOST" in env:
            set_host(*from_env("HOST", None))
        if "PORT" in env:
            set_port(*from_env("PORT", None), explicit=False)
    return result


# --- the app's own code: where a script it runs says it listens ------------------------------------------

# Python calls that start a server, and their defaults: (host keyword, port keyword, host, port).
# `host`/`port` positions follow each library's signature (flask and socketio: run(host, port)).
_PY_SERVERS = {
    "flask": ("host", "port", "127.0.0.1", 5000, 0, 1),
    "uvicorn": ("host", "port", "127.0.0.1", 8000, 1, 2),
    "gradio": ("server_name", "server_port", None, 7860, None, None),
    "aiohttp": ("host", "port", "0.0.0.0", 8080, 1, 2),
}
Env = dict[str, "str | None"]


class _Unknown(Exception):
    """A value the code computes in a way this reader does not follow."""


def _py_value(node: ast.AST, names: dict[str, ast.AST], env: Env, depth: int = 0):
    """A constant the expression evaluates to, reading the environment as the image sets it."""
    if depth > 20:
        raise _Unknown
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return _py_value(names[node.id], names, env, depth + 1)
    if isinstance(node, ast.Call):
        func = ast.unparse(node.func)
        args = node.args
        if func in ("int", "str", "float") and len(args) == 1:
            value = _py_value(args[0], names, env, depth + 1)
            return None if value is None else {"int": int, "str": str, "float": float}[func](value)
        if func in ("os.environ.get", "os.getenv", "environ.get", "getenv") and args:
            key = _py_value(args[0], names, env, depth + 1)
            default = _py_value(args[1], names, env, depth + 1) if len(args) > 1 else None
            if key in env:
                if env[key] is None:
                    raise _Unknown
                return env[key]
            return default  # the platform sets no PORT, HOST, ...: the default applies
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
        key = _py_value(node.slice, names, env, depth + 1)
        if key in env and env[key] is not None:
            return env[key]
        raise _Unknown  # a KeyError at start, unless the Space sets it
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        for value in node.values:
            result = _py_value(value, names, env, depth + 1)
            if result:
                return result
        return result
    raise _Unknown


def _py_library(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def _py_listen(text: str, env: Env) -> tuple[str | None, int | None, int] | None:
    """(host, port, line) of the server a Python script starts, or None when it starts none we know."""
    tree = parse_python(text)
    if tree is None:
        return None
    libraries = _py_library(tree)
    names: dict[str, ast.AST] = {}  # every simple assignment, the last one of a name winning
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value
    found = None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)):
            continue
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        owner = ast.unparse(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        if (attr == "run" and owner == "uvicorn") or (attr == "run" and not owner and "uvicorn" in libraries):
            kind = "uvicorn"
        elif attr == "run" and "flask" in libraries and owner not in ("uvicorn", "asyncio", "subprocess", "app.state"):
            kind = "flask"
        elif attr == "launch" and "gradio" in libraries:
            kind = "gradio"
        elif attr == "run_app" and "aiohttp" in libraries:
            kind = "aiohttp"
        else:
            continue
        host_kw, port_kw, host, port, host_pos, port_pos = _PY_SERVERS[kind]
        if kind == "gradio":
            host = env.get("GRADIO_SERVER_NAME", "127.0.0.1")
            port = env.get("GRADIO_SERVER_PORT", 7860)
        given = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        for position, keyword in ((host_pos, host_kw), (port_pos, port_kw)):
            if position is not None and len(node.args) > position and keyword not in given:
                given[keyword] = node.args[position]
        try:
            host = _py_value(given[host_kw], names, env) if host_kw in given else host
            port = _py_value(given[port_kw], names, env) if port_kw in given else port
        except (_Unknown, ValueError, TypeError):
            continue
        port = int(port) if isinstance(port, int | str) and str(port).isdigit() else None
        found = (str(host) if host is not None else None, port, node.lineno)
    return found


_JS_LISTEN = re.compile(r"\.listen\(\s*([^,)]*)(?:,\s*([^,)]*))?")
_JS_OBJECT = re.compile(r"\.listen\(\s*\{([^}]*)\}")


def _js_value(expr: str, text: str, env: Env, depth: int = 0):
    expr = expr.strip().rstrip(";")
    if depth > 10 or not expr:
        raise _Unknown
    literal = re.fullmatch(r"""(\d+)|['"`]([^'"`]*)['"`]""", expr)
    if literal:
        return int(literal.group(1)) if literal.group(1) else literal.group(2)
    wrapped = re.fullmatch(r"(?:Number|parseInt|String)\((.*?)(?:,\s*10)?\)", expr)
    if wrapped:
        return _js_value(wrapped.group(1), text, env, depth + 1)
    for operator in ("||", "??"):
        if operator in expr:
            left, _, right = expr.partition(operator)
            value = _js_value(left, text, env, depth + 1)
            return value if value not in (None, "") else _js_value(right, text, env, depth + 1)
    variable = re.fullmatch(r"process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[['\"](\w+)['\"]\]", expr)
    if variable:
        key = variable.group(1) or variable.group(2)
        if key in env:
            if env[key] is None:
                raise _Unknown
            return env[key]
        return None
    if re.fullmatch(r"[A-Za-z_$][\w$]*", expr):
        assigned = re.findall(rf"(?:const|let|var)\s+{re.escape(expr)}\s*=\s*([^;\n]+)", text)
        if assigned:
            return _js_value(assigned[-1], text, env, depth + 1)
    raise _Unknown


def _js_listen(text: str, env: Env) -> tuple[str | None, int | None, int] | None:
    """(host, port, line) of the `.listen(...)` a Node script makes, or None."""
    fastify = re.search(r"""(require\(\s*['"]fastify['"]\s*\)|from\s+['"]fastify['"])""", text) is not None
    found = None
    for match in _JS_OBJECT.finditer(text):  # fastify: listen({ port, host })
        fields = dict(re.findall(r"(\w+)\s*:\s*([^,}]+)", match.group(1)))
        try:
            port = _js_value(fields["port"], text, env) if "port" in fields else 3000
            host = _js_value(fields["host"], text, env) if "host" in fields else "127.0.0.1"
        except _Unknown:
            continue
        found = (host, int(port) if str(port).isdigit() else None, text.count("\n", 0, match.start()) + 1)
    for match in _JS_LISTEN.finditer(text):
        if match.group(1).strip().startswith("{"):
            continue
        try:
            port = _js_value(match.group(1), text, env)
            second = match.group(2)
            callback = not second or re.match(r"\s*(\(|function|async|\w+\s*=>)", second)
            host = None if callback else _js_value(second, text, env)
        except _Unknown:
            continue
        if not str(port).isdigit() or int(port) == 0:
            continue  # port 0 is any free port, never an app's; `_handle.listen(0)` only sets a backlog
        host = host if isinstance(host, str) else ("127.0.0.1" if fastify else None)
        found = (host, int(port), text.count("\n", 0, match.start()) + 1)
    return found


def script_listen(words: list[str], read: Callable[[str], tuple[str, str] | None], env: Env):
    """Where the script a command runs (`python app.py`, `node server.js`) listens, read from its
    code: (host, port, (file, line)), or None when it cannot be told."""
    for index, word in enumerate(words):
        name = posixpath.basename(word)
        if re.fullmatch(r"python[\d.]*", name) or name == "node":
            scripts = [w for w in words[index + 1 :] if not w.startswith("-")]
            if not scripts:
                return None
            found = read(scripts[0])
            if found is None:
                return None
            file, text = found
            result = _py_listen(text, env) if name != "node" else _js_listen(text, env)
            if result is None:
                return None
            host, port, line = result
            rebound = _rebinding_preload(words[index + 1 :], read) if name == "node" else None
            if rebound is not None and host in ("127.0.0.1", "localhost"):
                return "0.0.0.0", port, rebound
            return host, port, (file, line)
    return None


# A preload that declares this (the one `hfspace init` writes for an app whose code binds
# loopback) makes every loopback listen() of the app bind 0.0.0.0 instead.
REBIND_MARK = "hfspace: rebinds loopback listen() to 0.0.0.0"


def _rebinding_preload(words: list[str], read: Callable[[str], tuple[str, str] | None]) -> Where | None:
    """(file, line) of a `node --require=FILE` preload that rebinds loopback listens, or None."""
    for index, word in enumerate(words):
        if word.startswith(("--require=", "-r=")):
            path = word.partition("=")[2]
        elif word in ("--require", "-r") and index + 1 < len(words):
            path = words[index + 1]
        else:
            continue
        found = read(path)
        if found is not None and REBIND_MARK in found[1]:
            return found[0], found[1].count("\n", 0, found[1].index(REBIND_MARK)) + 1
    return None

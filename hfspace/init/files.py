"""The files `hfspace init` writes, as text: the Dockerfile (the shape of this repository's own
Spaces: two stages on the slim Debian bases, uid 1000 owning /app and HOME, exec-form CMD on
0.0.0.0:app_port, a HEALTHCHECK), .dockerignore, the card, and the adapters that change how
the app is served without editing it (a Django settings module, a WSGI/ASGI wrapper, a Node
preload). `changes(app, force)` says what becomes of each file of the folder."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import yaml

from hfspace.init import MARK, NAMES, App, Change
from hfspace.rules.listening import FRAMABLE_MARK
from hfspace.space import card as _card

PYTHON_IMAGE = "python:3.13-slim-trixie"
NODE_IMAGE = "node:26-trixie-slim"
HUB = "https://huggingface.co"
# Lines every .dockerignore written here has; an existing one gets those it lacks appended.
DOCKERIGNORE = [
    ".git", ".env", ".env.*", "!.env.example", "**/__pycache__", "**/*.py[cod]", ".venv", "venv",
    "node_modules", ".pytest_cache", ".mypy_cache", ".ruff_cache", "npm-debug.log*", "yarn-error.log",
]  # fmt: skip


def _json(words: list[str]) -> str:
    return json.dumps(words, ensure_ascii=False)


def _run(lines: list[str], cache: str | None) -> str:
    mount = f"--mount=type=cache,target={cache} \\\n    " if cache else ""
    return "RUN " + mount + " \\\n    && ".join(lines)


def _env(values: dict[str, str]) -> str:
    pairs = [f"{key}={_quote(value)}" for key, value in values.items()]
    return "ENV " + " \\\n    ".join(pairs)


def _quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_./:$,=+-]+", value) else json.dumps(value)


def dockerfile(app: App) -> str:
    return _python_dockerfile(app) if app.kind in ("python", "gradio") else _node_dockerfile(app)


def _header(app: App, what: str) -> str:
    return (
        f"# Written by {MARK} for {what}. It is yours to edit; `hfspace init --force` writes it anew.\n"
        "#\n"
        "# The base is a build argument, so a machine without a registry can pass a local stand-in;\n"
        "# by default it is the official slim image on Debian 13 (trixie), as this tool's own Spaces use.\n"
    )


def _healthcheck(program: list[str], port: int, path: str) -> str:
    return (
        "# Every 10 s, 3 s to answer; failures in the first 30 s do not count; 3 misses mark it unhealthy.\n"
        "HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\\n"
        f"    CMD {_json([*program, _probe(program[0], port, path)])}"
    )


def _probe(program: str, port: int, path: str) -> str:
    url = f"http://127.0.0.1:{port}{path}"
    if program == "node":
        return f"fetch('{url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
    return f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"


def _python_dockerfile(app: App) -> str:
    what = NAMES[app.framework]
    copies = " ".join(app.install_files)
    install = []
    if app.install_files == ["."]:
        install.append("COPY . /src/")
    elif app.install_files:
        install.append(f"COPY {copies} /src/")
    if app.install:
        install.append(_run(app.install, "/root/.cache/pip"))
    if app.extra_packages:
        install.append("# What the app lacks to serve in production; its own files are not changed.")
        install.append(_run([f"/opt/venv/bin/pip install {' '.join(app.extra_packages)}"], "/root/.cache/pip"))
    env = {
        "PATH": "/opt/venv/bin:$PATH", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/home/user", "XDG_CACHE_HOME": "/home/user/.cache", **app.env,
    }  # fmt: skip
    steps = [f"RUN {step}" for step in app.build_steps]
    parts = [
        _header(app, what) + f"ARG PYTHON_IMAGE={f'python:{app.python}-slim-trixie' if app.python else PYTHON_IMAGE}",
        "# --- build: a virtual environment with the app's dependencies --------------------------\n"
        "FROM ${PYTHON_IMAGE} AS build\n"
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \\\n    PIP_ROOT_USER_ACTION=ignore\n"
        "RUN python3 -m venv /opt/venv\n"
        "WORKDIR /src\n" + "\n".join(install),
        "# --- runtime: the interpreter, the environment, the app ------------------------------\n"
        "FROM ${PYTHON_IMAGE} AS runtime\n"
        "# The platform runs the container as the image's USER: uid 1000, with a home for caches.\n"
        "RUN useradd --create-home --uid 1000 --shell /bin/bash user\n"
        f"{_env(env)}\n"
        "COPY --from=build /opt/venv /opt/venv\n"
        "# COPY before WORKDIR, so /app itself is made owned by uid 1000: the app may write there.\n"
        "COPY --chown=1000:1000 . /app\n"
        "WORKDIR /app\n"
        "USER 1000" + ("\n" + "\n".join(steps) if steps else ""),
        f"EXPOSE {app.port}\n" + _healthcheck(["python3", "-c"], app.port, app.health_path),
        f"CMD {_json(app.command)}",
    ]
    return "\n\n".join(parts) + "\n"


def _node_dockerfile(app: App) -> str:
    what = NAMES[app.framework]
    # The package manager's own download cache, kept between builds (never in a layer).
    caches = {"yarn.lock": "/usr/local/share/.cache/yarn", "pnpm-lock.yaml": "/root/.local/share/pnpm/store"}
    cache = next((caches[name] for name in app.install_files if name in caches), "/root/.npm")
    env = {"NODE_ENV": "production", "HOME": "/home/node", **app.env}
    parts = [
        _header(app, what) + f"ARG NODE_IMAGE={NODE_IMAGE}",
        "# --- build: the production dependencies ------------------------------------------------\n"
        "FROM ${NODE_IMAGE} AS build\n"
        "ENV NODE_ENV=production \\\n    NPM_CONFIG_UPDATE_NOTIFIER=false \\\n    NPM_CONFIG_FUND=false \\\n"
        "    NPM_CONFIG_AUDIT=false\n"
        "WORKDIR /app\n"
        f"COPY {' '.join(app.install_files)} ./\n"
        + _run(app.install, cache)
        + (
            "\n# The app's own build (TypeScript and the like), then only the production dependencies.\n"
            "COPY . .\n" + _run(app.compile, cache)
            if app.compile
            else ""
        ),
        "# --- runtime: node, the dependencies, the app -------------------------------------------\n"
        "FROM ${NODE_IMAGE} AS runtime\n"
        f"{_env(env)}\n"
        "# The image's own `node` user is uid 1000, the uid the platform runs as (`useradd -u 1000`\n"
        "# would fail here). COPY before WORKDIR, so /app itself is made owned by it.\n"
        + (
            "COPY --chown=node:node --from=build /app /app\n"
            if app.compile
            else "COPY --chown=node:node --from=build /app/node_modules /app/node_modules\n"
            "COPY --chown=node:node . /app\n"
        )
        + "WORKDIR /app\n"
        "USER 1000",
        f"EXPOSE {app.port}\n" + _healthcheck(["node", "-e"], app.port, app.health_path),
        "# node is PID 1 and gets SIGTERM itself: never `npm start`, which does not pass it on.\n"
        f"CMD {_json(app.command)}",
    ]
    return "\n\n".join(parts) + "\n"


def dockerignore(extra: Sequence[str] = ()) -> str:
    lines = [*DOCKERIGNORE, *extra]
    return f"# Written by {MARK}: what the image build leaves out of the folder.\n" + "\n".join(lines) + "\n"


# --- the card ---------------------------------------------------------------------------------------


def card_values(app: App) -> dict[str, object]:
    values: dict[str, object] = {"title": app.title, "emoji": app.emoji, "colorFrom": "blue", "colorTo": "green"}
    if app.docker:
        values.update(sdk="docker", app_port=app.port)
    values.update(app.card_extra)
    values["pinned"] = False
    return values


def _yaml_line(key: str, value: object) -> str:
    return yaml.safe_dump({key: value}, allow_unicode=True, default_flow_style=False, sort_keys=False).strip()


def readme(app: App, existing: str | None, force: bool) -> tuple[str | None, list[str]]:
    """README.md with the card merged in (None: nothing to change), and the keys it kept as they were."""
    wanted = card_values(app)
    if existing is None:
        lines = ["---", *(_yaml_line(k, v) for k, v in wanted.items()), "---", "", f"# {app.title}", ""]
        how = "the Dockerfile says how it runs" if app.docker else f"the Hub serves it (sdk: {wanted.get('sdk')})"
        lines.append(f"Made a Hugging Face Space by `{MARK}`: {how}.")
        return "\n".join(lines) + "\n", []
    matter = _card.front_matter(existing)
    if matter is None:
        block = ["---", *(_yaml_line(k, v) for k, v in wanted.items()), "---", ""]
        return "\n".join(block) + "\n" + existing, []
    read = _card.read(existing)
    if not isinstance(read, _card.Card):
        return None, [f"{read.message}: fix the card by hand, then run init again"]
    lines = existing.splitlines(keepends=True)
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    kept, added, replaced = [], [], False
    for key, value in wanted.items():
        if key not in read.data:
            added.append(_yaml_line(key, value) + "\n")
        elif read.data[key] != value and key in ("sdk", "app_port", "app_file"):
            if force:
                lines[read.line(key) - 1] = _yaml_line(key, value) + "\n"
                replaced = True
            else:
                kept.append(f"{key}: {read.data[key]!r} (init would write {value!r}; --force replaces it)")
    if not added and not replaced:
        return None, kept
    lines[end:end] = added
    return "".join(lines), kept


# --- the adapters -----------------------------------------------------------------------------------


def django_settings(module: str, *, static: bool) -> str:
    text = f'''"""Written by {MARK}: {module}, adapted to a Hugging Face Space from outside.

The Dockerfile points DJANGO_SETTINGS_MODULE here, so {module.replace(".", "/")}.py is not edited.
"""

import os
from pathlib import Path

from {module} import *  # noqa: F403

# The Space's proxy sends Host: OWNER-NAME.hf.space (SPACE_HOST); local runs send localhost.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, ".hf.space", "localhost", "127.0.0.1", "[::1]"]  # noqa: F405
if os.environ.get("SPACE_HOST"):
    ALLOWED_HOSTS.append(os.environ["SPACE_HOST"].split(":")[0])
CSRF_TRUSTED_ORIGINS = [*globals().get("CSRF_TRUSTED_ORIGINS", []), "https://*.hf.space"]
# TLS ends at the platform's proxy, which says the scheme in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The Space page shows the app in an iframe on huggingface.co: no X-Frame-Options.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "django.middleware.clickjacking.XFrameOptionsMiddleware"]  # noqa: F405
if os.environ.get("SPACE_HOST", "").endswith(".hf.space"):  # cookies inside that iframe are third-party
    SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "None"
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or SECRET_KEY  # noqa: F405
'''
    if static:
        text += """# gunicorn serves no files: collectstatic (at build time) fills STATIC_ROOT, WhiteNoise serves it.
STATIC_ROOT = globals().get("STATIC_ROOT") or Path(__file__).resolve().parent / "staticfiles"
_security = "django.middleware.security.SecurityMiddleware"
MIDDLEWARE.insert(MIDDLEWARE.index(_security) + 1 if _security in MIDDLEWARE else 0,
                  "whitenoise.middleware.WhiteNoiseMiddleware")
"""
    return text


_FRAMABLE_PY = f'''

def _framable(headers):
    """The headers without X-Frame-Options, and with {HUB} allowed in a CSP frame-ancestors."""
    kept = []
    for name, value in headers:
        lowered = name.lower() if isinstance(name, str) else name.decode("latin-1").lower()
        if lowered == "x-frame-options":
            continue
        if lowered == "content-security-policy":
            text = value if isinstance(value, str) else value.decode("latin-1")
            text = re.sub(r"frame-ancestors[^;]*", "frame-ancestors 'self' {HUB}", text)
            value = text if isinstance(value, str) else text.encode("latin-1")
        kept.append((name, value))
    return kept
'''


def python_main(script: str) -> str:
    """hfspace_main.py: runs SCRIPT as `python SCRIPT` would, with a SIGTERM handler."""
    return f'''"""Written by {MARK}: runs {script} as `python {script}` would, and stops it on SIGTERM.

The platform stops a Space with SIGTERM on every restart and rebuild. Python as a container's
PID 1 ignores SIGTERM unless the program sets a handler (the kernel does not apply the default
action to PID 1), so the stop would wait for the kill. Here SIGTERM is taken as Ctrl-C: the app's
own KeyboardInterrupt path runs (Gradio closes its server), then Python exits.
"""

import os
import runpy
import signal
import sys


def _stop(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stop)
sys.argv = [{script!r}, *sys.argv[1:]]
sys.path[0] = os.path.dirname(os.path.abspath({script!r}))  # the script's folder, as `python SCRIPT` puts it
runpy.run_path({script!r}, run_name="__main__")
'''


def python_wrapper(target: str, *, wsgi: bool, head: bool, framable: bool) -> str:
    """hfspace_wsgi.py / hfspace_asgi.py: the app as the server serves it, adapted from outside."""
    module, _, attr = target.partition(":")
    imported = (
        f"from {module} import {attr.removesuffix('()')}\n\n_app = {attr}\n"
        if attr.endswith("()")
        else (f"from {module} import {attr} as _app\n")
    )
    why = []
    if head:
        why.append("answers HEAD as GET without a body (the platform probes HEAD /; FastAPI answers it 405)")
    if framable:
        why.append(
            f"drops X-Frame-Options and lets {HUB} frame it (the Space page shows it in an iframe):\n{FRAMABLE_MARK}"
        )
    doc = f'"""Written by {MARK}: serves {target} as the Space needs it, without editing it: it\n' + (
        ";\n".join(why) + '.\n"""\n\n'
    )
    imports = "import re\n\n" if framable else ""
    text = doc + imports + imported + (_FRAMABLE_PY if framable else "")
    if wsgi:
        return (
            text
            + """

def app(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, _framable(headers), exc_info)

    return _app(environ, start)
"""
        )
    body = [
        "",
        "",
        "async def app(scope, receive, send):",
        '    if scope["type"] != "http":',
        "        return await _app(scope, receive, send)",
    ]
    if head:
        body += ['    head = scope["method"] == "HEAD"', "    if head:", '        scope = {**scope, "method": "GET"}']
    body += ["", "    async def reply(message):"]
    if framable:
        body += [
            '        if message["type"] == "http.response.start":',
            '            message = {**message, "headers": _framable(message.get("headers", []))}',
        ]
    if head:
        body += [
            '        if head and message["type"] == "http.response.body":',
            '            message = {**message, "body": b""}',
        ]
    body += ["        await send(message)", "", "    return await _app(scope, receive, reply)", ""]
    return text + "\n".join(body)


def node_preload(*, rebind: bool, head: bool, framable: bool, graceful: bool) -> str:
    lines = [f"// Written by {MARK}: adapts the app to a Hugging Face Space from outside (its files are not edited)."]
    lines.append("// node --require=./hfspace-preload.cjs runs it before the app.")
    if rebind:
        lines.append("// hfspace: rebinds loopback listen() to 0.0.0.0")
    lines += ["'use strict';", "const http = require('node:http');", "const net = require('node:net');", ""]
    if rebind or graceful:
        lines += ["const servers = new Set();", "const listen = net.Server.prototype.listen;"]
        if rebind:
            lines += [
                "// The Space's proxy reaches the container from outside: a server on 127.0.0.1 is never reached.",
                "const LOOPBACK = new Set(['localhost', '127.0.0.1']);",
            ]
        lines += ["net.Server.prototype.listen = function (...args) {", "  servers.add(this);"]
        if rebind:
            lines += [
                "  if (args[0] && typeof args[0] === 'object' && LOOPBACK.has(args[0].host)) {",
                "    args[0] = { ...args[0], host: '0.0.0.0' };",
                "  } else if (typeof args[1] === 'string' && LOOPBACK.has(args[1])) {",
                "    args[1] = '0.0.0.0';",
                "  }",
            ]
        lines += ["  return listen.apply(this, args);", "};", ""]
    if graceful:
        lines += [
            "// node is PID 1 in the container, where a signal without a handler is ignored: `docker stop`",
            "// and the platform would kill it 10 s later. On SIGTERM (or SIGINT) stop taking connections,",
            "// let the requests in flight finish, and exit once every server has closed (a timer, a pool or",
            "// an agent the app keeps would hold the process up); after 8 s, exit anyway.",
            "const stop = () => {",
            "  let open = servers.size;",
            "  if (open === 0) process.exit(0);",
            "  const closed = () => {",
            "    open -= 1;",
            "    if (open === 0) process.exit(0);",
            "  };",
            "  for (const server of servers) {",
            "    server.close(closed);",
            "    if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();",
            "  }",
            "  setTimeout(() => process.exit(0), 8000).unref();",
            "};",
            "process.once('SIGTERM', stop);",
            "process.once('SIGINT', stop);",
            "",
        ]
    if head:
        lines += [
            "// The platform probes HEAD /: answer it as GET (node sends no body for a HEAD request).",
            "const emit = http.Server.prototype.emit;",
            "http.Server.prototype.emit = function (event, request, ...rest) {",
            "  if (event === 'request' && request.method === 'HEAD') request.method = 'GET';",
            "  return emit.call(this, event, request, ...rest);",
            "};",
            "",
        ]
    if framable:
        lines += [
            f"// The Space page shows the app in an iframe on {HUB}: {FRAMABLE_MARK}.",
            "const framable = (name, value) => {",
            "  const lowered = String(name).toLowerCase();",
            "  if (lowered === 'x-frame-options') return undefined;",
            "  if (lowered === 'content-security-policy') {",
            f"    return String(value).replace(/frame-ancestors[^;]*/, \"frame-ancestors 'self' {HUB}\");",
            "  }",
            "  return value;",
            "};",
            "const setHeader = http.ServerResponse.prototype.setHeader;",
            "http.ServerResponse.prototype.setHeader = function (name, value) {",
            "  const kept = framable(name, value);",
            "  return kept === undefined ? this : setHeader.call(this, name, kept);",
            "};",
            "const writeHead = http.ServerResponse.prototype.writeHead;",
            "http.ServerResponse.prototype.writeHead = function (status, ...rest) {",
            "  const at = typeof rest[0] === 'string' ? 1 : 0;",
            "  if (rest[at] && typeof rest[at] === 'object' && !Array.isArray(rest[at])) {",
            "    const headers = {};",
            "    for (const [name, value] of Object.entries(rest[at])) {",
            "      const kept = framable(name, value);",
            "      if (kept !== undefined) headers[name] = kept;",
            "    }",
            "    rest[at] = headers;",
            "  }",
            "  return writeHead.call(this, status, ...rest);",
            "};",
            "",
        ]
    return "\n".join(lines)


# --- what becomes of each file ----------------------------------------------------------------------


def changes(app: App, *, force: bool = False) -> list[Change]:
    root = app.root
    out: list[Change] = []

    def whole(path: str, text: str, why: str) -> None:
        file = root / path
        if not file.exists():
            out.append(Change(path, "create", text, why))
        elif file.read_text(errors="replace") == text:
            out.append(Change(path, "unchanged", text, why))
        elif force:
            out.append(Change(path, "replace", text, why))
        else:
            out.append(Change(path, "kept", text, f"{why}; it exists and differs: --force replaces it"))

    if app.docker:
        whole("Dockerfile", dockerfile(app), "the image")
        ignore = root / ".dockerignore"
        if not ignore.exists():
            out.append(Change(".dockerignore", "create", dockerignore(app.ignore), "what the build leaves out"))
        else:
            present = {line.strip() for line in ignore.read_text(errors="replace").splitlines()}
            missing = [line for line in [*DOCKERIGNORE, *app.ignore] if line not in present]
            action = "append" if missing else "unchanged"
            out.append(Change(".dockerignore", action, "\n".join(missing) + "\n" if missing else "", "lines it lacked"))
    for path, text in app.files.items():
        whole(path, text, "adapts the app from outside")
    existing = (root / "README.md").read_text(errors="replace") if (root / "README.md").is_file() else None
    text, kept = readme(app, existing, force)
    if text is None:
        out.append(Change("README.md", "kept" if kept else "unchanged", existing or "", "; ".join(kept) or "the card"))
    else:
        out.append(Change("README.md", "create" if existing is None else "merge", text, "the card"))
        if kept:
            out.append(Change("README.md", "kept", "", "; ".join(kept)))
    gitignore = root / ".gitignore"
    if (root / ".env").exists():
        present = gitignore.read_text(errors="replace").splitlines() if gitignore.exists() else []
        if ".env" not in (line.strip() for line in present):
            out.append(
                Change(
                    ".gitignore",
                    "append" if gitignore.exists() else "create",
                    ".env\n",
                    "keeps the local .env out of the Space",
                )
            )
    return out

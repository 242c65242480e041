"""Node.js apps: Express, Fastify and plain `node:http`, from package.json and the entry's code.

The entry is what `npm start` runs when that is `node FILE`, else package.json's `main`, else
index.js/server.js/app.js. The image runs `node` itself as PID 1 (never `npm start`, which
does not pass SIGTERM on). Where the code listens is read with the Space model's own reader
(`hfspace.space.listen`); a host the app only opens through a variable (`HOST`, `"RENDER" in
process.env`) is opened by setting it, and a hard-coded loopback bind is rebound by a preload
(`hfspace-preload.cjs`, `node --require`), as is a HEAD that the framework would refuse.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

from hfspace.init import DETECTED, HANDLED, NOT_FIXED, UNKNOWN, App
from hfspace.space.listen import _js_listen
from hfspace.space.words import option, split

YARN = "yarn@1.22.22"
PNPM = "pnpm@10"
SHIPPED_NODE = 26  # node:26-trixie-slim, the base of every Node Space written here
LOOPBACK = ("localhost", "127.0.0.1")
FRAMEWORKS = (
    ("@nestjs/core", "NestJS"), ("express", "Express"), ("fastify", "Fastify"), ("koa", "Koa"), ("@hapi/hapi", "hapi"),
)  # fmt: skip
PRELOAD = "hfspace-preload.cjs"


def detect(root: Path, files: dict[str, Path], *, docker: bool = False) -> App | None:
    if "package.json" not in files:
        return None
    try:
        package = json.loads(files["package.json"].read_text(errors="replace"))
    except ValueError as error:
        app = App(root, "node", "node")
        app.note(NOT_FIXED, "package.json", f"package.json is not JSON ({error})", ("package.json", None))
        return app
    if not isinstance(package, dict):
        return None
    dependencies = package.get("dependencies") or {}
    framework, label = next(((key, name) for key, name in FRAMEWORKS if key in dependencies), ("node", "Node.js"))
    if framework == "fastify":
        started = _fastify_start(root, package, files)
        if started is not None:
            return started
    entry, why, built = _entry(package, files)
    if entry is None:
        if framework == "node" and "index.html" in files:
            return None  # a static site with tooling in package.json
        app = App(root, "node", framework)
        app.note(NOT_FIXED, "entry point", why, ("package.json", None))
        return app
    source = _built_from(entry, files) if built else entry  # dist/main.js is built from src/main.ts
    text = files[source].read_text(errors="replace") if source in files else ""
    if framework == "node" and "index.html" in files and not re.search(r"\b(createServer|listen)\s*\(", text):
        return None  # a static site with tooling in package.json
    app = App(root, "node", framework, emoji="🟩")
    version = dependencies.get(framework, "")
    app.note(
        DETECTED,
        "framework",
        f"{label} {version}".strip() if framework != "node" else "Node.js (node:http)",
        ("package.json", _line(files["package.json"], rf'"{re.escape(framework)}"\s*:')),
    )
    app.note(DETECTED, "entry point", f"node {entry} ({why})", ("package.json", None))
    _engines(app, package, files)
    build = _install(app, package, files)
    if built:
        _compile(app, package, build)
        if "/" in entry or entry not in files:  # dist/main: a local dist/ is stale; the image builds its own
            app.ignore.append(entry.split("/", 1)[0])
    sources = _sources(files, source, typescript=built)
    preload = _listening(app, source, text, framework, version, sources)
    _writes(app, sources)
    command = ["node"]
    if preload:
        app.files[PRELOAD] = preload
        command.append(f"--require=./{PRELOAD}")
    app.command = [*command, entry]
    return app


FASTIFY_CLI = "node_modules/fastify-cli/cli.js"  # the `fastify` command of fastify-cli (its package.json bin)


def _fastify_start(root: Path, package: dict, files: dict[str, Path]) -> App | None:
    """An app that `fastify start FILE` runs (what `fastify generate` and `npm init fastify` write):
    FILE is a plugin that never listens, and fastify-cli, a dependency, serves it. The image runs
    fastify-cli's own script with node as PID 1 (close-with-grace closes it on SIGTERM), on
    0.0.0.0 (fastify start binds localhost unless it detects Docker or Kubernetes) and app_port."""
    start = (package.get("scripts") or {}).get("start")
    words = split(start) if isinstance(start, str) else None
    if not words or words[:2] != ["fastify", "start"] or "fastify-cli" not in (package.get("dependencies") or {}):
        return None
    rest = words[2:]
    plugin = _file(next((w for w in reversed(rest) if not w.startswith("-")), ""), files)
    if plugin is None:
        return None
    app = App(root, "node", "fastify", emoji="🟩")
    version = package["dependencies"].get("fastify", "")
    app.note(
        DETECTED,
        "framework",
        f"Fastify {version}".strip() + " served by fastify-cli",
        ("package.json", _line(files["package.json"], r'"fastify-cli"\s*:')),
    )
    app.note(
        DETECTED,
        "entry point",
        f"the start script `{start}`: fastify-cli serves the plugin {plugin}; the image runs "
        f"`node {FASTIFY_CLI} start` itself",
        ("package.json", _line(files["package.json"], r'"start"\s*:')),
    )
    _engines(app, package, files)
    _install(app, package, files)
    flags = []
    port = option(rest, ("-p", "--port"))
    if port and port.isdigit():
        app.port = int(port)
        app.note(DETECTED, "port", f"{port}, in the start script: app_port is {port}", ("package.json", None))
    else:
        flags.append(f"--port={app.port}")
        app.note(DETECTED, "port", f"fastify start listens on PORT, else 3000: the image passes --port={app.port}")
    address = option(rest, ("-a", "--address"))
    if address in (None, *LOOPBACK):
        flags.append("--address=0.0.0.0")
        app.note(
            HANDLED,
            "host",
            "fastify start binds localhost unless it detects Docker or Kubernetes, which a Space's "
            "container may not look like: the image passes --address=0.0.0.0",
        )
    else:
        app.note(DETECTED, "host", f"{address}, in the start script", ("package.json", None))
    app.note(DETECTED, "stop", "fastify start closes the server and exits on SIGTERM (close-with-grace)")
    sources = _sources(files)
    command = ["node"]
    if _blocks_embedding(app, sources):
        from hfspace.init.files import node_preload

        app.files[PRELOAD] = node_preload(rebind=False, head=False, framable=True, graceful=False)
        command.append(f"--require=./{PRELOAD}")
    _writes(app, sources)
    app.command = [*command, FASTIFY_CLI, "start", *flags, *rest]
    return app


def _sources(files: dict[str, Path], entry: str | None = None, *, typescript: bool = False) -> dict[str, str]:
    """The app's scripts by path (the first 200), the entry first: it may have no extension (bin/www)."""
    kinds = (".js", ".mjs", ".cjs", ".ts", ".mts") if typescript else (".js", ".mjs", ".cjs")
    scripts = [path for path in files if path.endswith(kinds) and not path.startswith("public/")]
    scripts = [path for path in scripts if not path.endswith(".d.ts")]
    if entry is not None:
        scripts = [entry, *(path for path in scripts if path != entry)]
    return {path: files[path].read_text(errors="replace") for path in scripts[:200] if path in files}


def _line(file: Path, pattern: str) -> int | None:
    text = file.read_text(errors="replace")
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _entry(package: dict, files: dict[str, Path]) -> tuple[str | None, str, bool]:
    """The file node runs, where that comes from, and whether `npm run build` makes it (a TypeScript
    app: NestJS's `start:prod` is `node dist/main`, compiled from src/main.ts); (None, why, False)
    when it cannot be told. A build output already in the folder is built anew in the image: a
    local dist/ is stale, and usually ignored (Nest's .gitignore has /dist)."""
    scripts = package.get("scripts") or {}
    start, build = scripts.get("start"), scripts.get("build")
    main = package.get("main") if isinstance(package.get("main"), str) else None
    candidates = [
        (_node_script(start), f"the start script `{start}`"),
        (main, f"package.json main `{main}`"),
        (_node_script(scripts.get("start:prod")), f"the start:prod script `{scripts.get('start:prod')}`"),
    ]
    # `node .` runs the folder's package: its main, else index.js.
    candidates = [((main or "index.js") if target in (".", "./") else target, why) for target, why in candidates]
    builds = isinstance(build, str)
    after = f", after `npm run build` (`{build}`)"
    for target, why in candidates:
        found = _file(target, files) if target else None
        if found:
            built = builds and _built_from(found, files) != found
            return found, why + (after if built else ""), built
    if builds:  # what the build makes (dist/main), not in the folder: node resolves it as `node X` would
        for target, why in candidates:
            if target:
                return target.removeprefix("./").rstrip("/"), why + after, True
    for name in ("index.js", "server.js", "app.js", "index.mjs", "server.mjs"):
        if name in files:
            return name, f"{name}, by its name", False
    said = f"`npm start` runs `{start}`, " if isinstance(start, str) else ""
    return (
        None,
        f"{said}no `node FILE` start or start:prod script, no main and no index.js/server.js/app.js: "
        "cannot tell what to run",
        False,
    )


def _node_script(command: object) -> str | None:
    """FILE of a script that is `node FILE` (or nodemon), else None."""
    if not isinstance(command, str):
        return None
    words = [w for w in (split(command) or []) if "=" not in w or w.startswith("-")]
    if words and words[0] in ("node", "nodemon"):
        return next((w for w in words[1:] if not w.startswith("-")), None)
    return None


def _built_from(entry: str, files: dict[str, Path]) -> str:
    """The TypeScript source a built entry is compiled from (dist/main.js <- src/main.ts), if it is there."""
    stem = entry.removesuffix(".js").removesuffix(".mjs").removesuffix(".cjs")
    rest = stem.split("/", 1)[1] if "/" in stem else stem
    for candidate in (f"src/{rest}.ts", f"{rest}.ts", f"src/{rest}.mts"):
        if candidate in files:
            return candidate
    return entry


def _compile(app: App, package: dict, build: Build) -> None:
    """The build stage installs the dev dependencies too, builds, then keeps only the production
    ones: the image holds what the build made, not the build tools."""
    app.install = [*app.install[:-1], build.everything]
    app.compile = [build.run, build.prune]
    app.note(
        HANDLED,
        "build",
        f"`{build.run}` (`{package['scripts']['build']}`) in the build stage: `{build.everything}` before it, "
        f"`{build.prune}` after it, so the image holds what the build made, not the build tools",
        ("package.json", None),
    )


def _file(name: str, files: dict[str, Path]) -> str | None:
    name = name.removeprefix("./")
    for candidate in (name, f"{name}.js", f"{name}/index.js"):
        if candidate in files:
            return candidate
    return None


def _engines(app: App, package: dict, files: dict[str, Path]) -> None:
    wanted = (package.get("engines") or {}).get("node")
    if not isinstance(wanted, str):
        return
    majors = [int(m) for m in re.findall(r"(?<![\d.])(\d+)(?=\.x|\b)", wanted)]
    upper = re.search(r"<\s*=?\s*(\d+)", wanted)
    fits = not (
        (upper and int(upper.group(1)) <= SHIPPED_NODE)
        or (majors and not re.search(r">", wanted) and SHIPPED_NODE not in majors)
    )
    if not fits:
        app.note(
            UNKNOWN,
            "engines",
            f"package.json engines wants node {wanted}; the image ships Node {SHIPPED_NODE}, "
            "the current LTS (npm only warns)",
            ("package.json", _line(files["package.json"], r'"engines"')),
        )
        app.env["_engines_mismatch"] = wanted  # read by _install for yarn; removed before rendering


class Build(NamedTuple):
    """How the package manager builds an app: the install with the dev dependencies, the build script,
    and the step that leaves only the production ones."""

    everything: str
    run: str
    prune: str


NPM_BUILD = Build("npm ci --include=dev", "npm run build", "npm prune --omit=dev")


def _install(app: App, package: dict, files: dict[str, Path]) -> Build:
    """The production install (app.install), and how the same manager builds the app."""
    mismatch = app.env.pop("_engines_mismatch", None)
    if "package-lock.json" in files:
        app.install_files = ["package.json", "package-lock.json"]
        app.install = ["npm ci --omit=dev"]
        app.note(
            DETECTED,
            "dependencies",
            "package-lock.json: `npm ci --omit=dev` in a build stage",
            ("package-lock.json", None),
        )
        return NPM_BUILD
    if "yarn.lock" in files:
        lock = files["yarn.lock"].read_text(errors="replace")[:400]
        app.install_files = ["package.json", "yarn.lock"]
        if "__metadata" in lock:
            manager = package.get("packageManager") or "yarn@4"
            app.install = [
                f"npm install --global {manager.replace('yarn@', '@yarnpkg/cli-dist@')}",
                "yarn workspaces focus --all --production",
            ]
            app.note(
                DETECTED,
                "dependencies",
                f"yarn.lock (Yarn 2+, {manager}): installed immutable in a build stage",
                ("yarn.lock", None),
            )
            return Build("yarn workspaces focus --all", "yarn run build", "yarn workspaces focus --all --production")
        flags = " --ignore-engines" if mismatch else ""
        app.install = [
            f"npm install --global {YARN}",
            f"yarn install --frozen-lockfile --production --non-interactive{flags}",
        ]
        note = "yarn.lock (Yarn 1): `yarn install --frozen-lockfile --production` in a build stage"
        if mismatch:
            note += f"; with --ignore-engines, since yarn refuses Node {SHIPPED_NODE} against engines {mismatch}"
        app.note(DETECTED, "dependencies", note, ("yarn.lock", None))
        # Yarn 1 has no prune: the production install again, offline, drops what the build needed.
        return Build(
            f"NODE_ENV=development yarn install --frozen-lockfile --non-interactive{flags}",
            "yarn run build",
            f"{app.install[-1]} --ignore-scripts --prefer-offline",
        )
    if "pnpm-lock.yaml" in files:
        app.install_files = ["package.json", "pnpm-lock.yaml"]
        app.install = [f"npm install --global {PNPM}", "pnpm install --frozen-lockfile --prod"]
        app.note(
            DETECTED,
            "dependencies",
            "pnpm-lock.yaml: `pnpm install --frozen-lockfile --prod` in a build stage",
            ("pnpm-lock.yaml", None),
        )
        return Build("NODE_ENV=development pnpm install --frozen-lockfile", "pnpm run build", "pnpm prune --prod")
    app.install_files = ["package.json"]
    app.install = ["npm install --omit=dev"]
    app.note(
        UNKNOWN,
        "dependencies",
        "package.json, no lockfile: each build resolves new versions; run "
        "`npm install` and keep package-lock.json to lock them",
        ("package.json", None),
    )
    return NPM_BUILD._replace(everything="npm install --include=dev")


def _listening(app: App, entry: str, text: str, framework: str, version: str, sources: dict[str, str]) -> str | None:
    """Set the port and host; the preload's text when the app needs one, else None."""
    from hfspace.init import files

    reads_port = re.search(r"process\.env\.PORT\b|process\.env\[['\"]PORT['\"]\]", text)
    found = _js_listen(text, {})
    port_line = found[2] if found else None
    if reads_port:
        app.env["PORT"] = str(app.port)
        line = text.count("\n", 0, reads_port.start()) + 1
        app.note(
            DETECTED,
            "port",
            f"reads PORT (the platform sets none): the image sets PORT={app.port}, app_port",
            (entry, line),
        )
    elif found and found[1]:
        app.port = found[1]
        app.note(DETECTED, "port", f"{app.port}, written in the code: app_port is {app.port}", (entry, port_line))
    else:
        app.note(
            UNKNOWN,
            "port",
            f"cannot tell where it listens: app_port {app.port}; make the app listen on PORT",
            (entry, None),
        )
    rebind = head = False
    host = found[0] if found else None
    opened = _host_variable(text)
    if opened:
        name, value, line, how = opened
        app.env[name] = value
        app.note(HANDLED, "host", f"binds 0.0.0.0 only {how}: the image sets {name}={value}", (entry, line))
    elif host in LOOPBACK:
        rebind = True
        default = " (Fastify's default)" if framework == "fastify" and "'127" not in text and '"127' not in text else ""
        app.note(
            HANDLED,
            "host",
            f"binds {host}{default}, which the Space's proxy cannot reach: {PRELOAD} makes a "
            "loopback listen() bind 0.0.0.0 (the app's code is not changed)",
            (entry, port_line),
        )
    else:
        app.note(DETECTED, "host", "all interfaces (0.0.0.0)", (entry, port_line))
    major = re.search(r"(\d+)", version)
    if framework == "fastify" and ((major and int(major.group(1)) < 4) or "exposeHeadRoutes: false" in text):
        head = True
        app.note(
            HANDLED,
            "HEAD /",
            f"Fastify {version} answers HEAD with 404 (no HEAD routes) and the platform probes "
            f"HEAD /: {PRELOAD} answers HEAD as GET without a body",
            ("package.json", None),
        )
    framable = _blocks_embedding(app, sources)
    graceful = not any(re.search(r"process\.(?:once|on)\(\s*['\"]SIGTERM", source) for source in sources.values())
    if graceful:
        app.note(
            HANDLED,
            "stop",
            "the app has no SIGTERM handler, and node as PID 1 ignores the signal (the platform would kill it "
            f"10 s later): {PRELOAD} closes its servers and exits on SIGTERM",
        )
    if not (rebind or head or framable or graceful):
        return None
    return files.node_preload(rebind=rebind, head=head, framable=framable, graceful=graceful)


def _blocks_embedding(app: App, sources: dict[str, str]) -> bool:
    """Whether the app's code forbids being framed (helmet(), X-Frame-Options, frame-ancestors)."""
    from hfspace.rules.listening import blocks_embedding
    from hfspace.space.writes import Code

    for path, text in sources.items():
        found = blocks_embedding(Code(path, path, "js", text))
        if found:
            line, what = found
            app.note(
                HANDLED,
                "embedding",
                f"{what} forbids the Space page's iframe: {PRELOAD} drops X-Frame-Options and lets "
                "https://huggingface.co in frame-ancestors",
                (path, line),
            )
            return True
    return False


def _host_variable(text: str) -> tuple[str, str, int, str] | None:
    """(variable, value, line, how) when the code binds all interfaces only through a variable:
    `"RENDER" in process.env ? "0.0.0.0" : ...`, `process.env.HOST || "localhost"`."""
    gate = re.search(r"""['"](\w+)['"]\s+in\s+process\.env\s*\)?\s*\?\s*[`'"]0\.0\.0\.0""", text) or re.search(
        r"process\.env\.(\w+)\s*\?\s*[`'\"]0\.0\.0\.0", text
    )
    if gate:
        return gate.group(1), "1", text.count("\n", 0, gate.start()) + 1, f"when {gate.group(1)} is set"
    variable = re.search(r"process\.env\.(\w+)\s*(?:\|\||\?\?)\s*[`'\"](?:localhost|127\.0\.0\.1)", text)
    if variable:
        name = variable.group(1)
        return name, "0.0.0.0", text.count("\n", 0, variable.start()) + 1, f"when {name} says so (localhost by default)"
    return None


_WRITES = re.compile(
    r"\b(fs\.(?:promises\.)?(?:writeFile|appendFile|mkdir)(?:Sync)?\(|new (?:Database|sqlite3\.Database)\()"
)


def _writes(app: App, sources: dict[str, str]) -> None:
    for path, text in sources.items():
        match = _WRITES.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            code = text.splitlines()[line - 1].strip()[:90]
            app.note(
                DETECTED,
                "writes",
                f"writes at run time: `{code}`: /app and HOME belong to uid 1000, the user it runs as",
                (path, line),
            )

"""Python apps: Django, Gradio, Streamlit, FastAPI/Starlette and Flask, read from their code.

Each framework is found the way it is written: a Django settings module (INSTALLED_APPS and
ROOT_URLCONF at module level), `gr.Blocks`/`gr.Interface` and `.launch(`, `import streamlit`,
a module-level `FastAPI(...)`/`Starlette(...)`, a module-level `Flask(...)` or a `create_app`
factory. A production server is added when the app has none: gunicorn (gthread workers) for
WSGI, uvicorn for ASGI; never Flask's or Django's development server.
"""

from __future__ import annotations

import ast
import posixpath
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hfspace.init import DETECTED, HANDLED, NOT_FIXED, UNKNOWN, App
from hfspace.space.code import parse_python

SHIPPED_PYTHON = (3, 13)  # the Python of python:3.13-slim-trixie, the base a Python Space gets by default
# The Pythons with an official slim-trixie image: one of them is taken when the app says it wants it.
TRIXIE_PYTHONS = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14))
# What the image adds when the app lacks it, pinned (the versions our own Spaces and tests run).
GUNICORN = "gunicorn==27.0.1"
UVICORN = "uvicorn==0.55.0"
WHITENOISE = "whitenoise==6.12.0"
STREAMLIT = "streamlit==1.67.0"
UV = "uv==0.13.9"
POETRY = ("poetry==2.5.1", "poetry-plugin-export==1.10.1")
# Import names whose PyPI distribution is named otherwise (for an app with no manifest at all).
_DISTRIBUTIONS = {
    "cv2": "opencv-python-headless", "PIL": "pillow", "sklearn": "scikit-learn", "yaml": "pyyaml",
    "bs4": "beautifulsoup4", "dotenv": "python-dotenv", "jwt": "pyjwt", "dateutil": "python-dateutil",
    "skimage": "scikit-image", "attr": "attrs", "google": "google-api-python-client",
}  # fmt: skip
_TESTS = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")
_ROOT_NAMES = ("app.py", "main.py", "wsgi.py", "asgi.py", "application.py", "server.py", "streamlit_app.py")


@dataclass
class Module:
    path: str  # relative POSIX path
    text: str
    tree: ast.Module

    @property
    def name(self) -> str:
        """The dotted module name it is imported as from the app folder."""
        stem = self.path[: -len("/__init__.py")] if self.path.endswith("/__init__.py") else self.path[:-3]
        return stem.replace("/", ".")

    def line_of(self, pattern: str) -> int | None:
        match = re.search(pattern, self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def imports(self) -> set[str]:
        found = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
        return found


def _modules(files: dict[str, Path]) -> list[Module]:
    modules = []
    for path, file in files.items():
        if not path.endswith(".py") or _TESTS.search(path) or file.stat().st_size > 1_000_000:
            continue
        text = file.read_text(errors="replace")
        tree = parse_python(text)
        if tree is not None:
            modules.append(Module(path, text, tree))
    return sorted(modules, key=lambda m: (m.path.count("/"), m.path not in _ROOT_NAMES, m.path))


def _module_assign(module: Module, call: str) -> tuple[str, int] | None:
    """(name, line) of a module-level `name = call(...)` (or `name: T = call(...)`)."""
    for node in module.tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] == call:
            for target in targets:
                if isinstance(target, ast.Name):
                    return target.id, node.lineno
    return None


def _module_def(module: Module, name: str) -> int | None:
    return next((n.lineno for n in module.tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _settings_values(module: Module) -> dict[str, tuple[object, int]]:
    """Module-level assignments: NAME -> (value, line), the value `...` when it is not a literal."""
    found: dict[str, tuple[object, int]] = {}
    for node in module.tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        value = ast.literal_eval(node.value)
                    except (ValueError, SyntaxError, TypeError):
                        value = ...
                    found[target.id] = (value, node.lineno)
    return found


# --- the dependencies ------------------------------------------------------------------------------


@dataclass
class Dependencies:
    names: set[str]  # normalised distribution names the app declares
    install: list[str]  # the build stage's shell lines (in /src, the venv in /opt/venv)
    files: list[str]  # what they read from the folder


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)", line) if line and not line.startswith("-") else None
        if match:
            names.add(_normal(match.group(1)))
    return names


def _python_ok(spec: str, version: tuple[int, int] = SHIPPED_PYTHON) -> bool | None:
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # pragma: no cover (huggingface_hub brings packaging)
        return None
    try:
        return SpecifierSet(spec).contains(".".join(map(str, version)) + ".0")
    except InvalidSpecifier:
        return None


def _dependencies(app: App, files: dict[str, Path], modules: list[Module]) -> Dependencies:
    pip = "/opt/venv/bin/pip install"
    pyproject_data: dict = {}
    if "pyproject.toml" in files:
        try:
            pyproject_data = tomllib.loads(files["pyproject.toml"].read_text(errors="replace"))
        except tomllib.TOMLDecodeError as error:
            app.note(UNKNOWN, "dependencies", f"pyproject.toml is not valid TOML ({error})", ("pyproject.toml", None))
    project = pyproject_data.get("project", {}) if isinstance(pyproject_data.get("project"), dict) else {}
    requires = project.get("requires-python")
    if isinstance(requires, str) and _python_ok(requires) is False and app.python is None:
        line = _line(files["pyproject.toml"], r"^requires-python")
        shipped = ".".join(map(str, SHIPPED_PYTHON))
        if "requirements.txt" in files:
            why = f"the image ships Python {shipped}, so the build installs requirements.txt, which does not say so"
        else:
            why = f"the image ships Python {shipped}: the build may refuse it"
        app.note(UNKNOWN, "dependencies", f"pyproject.toml wants Python {requires}; {why}", ("pyproject.toml", line))
    if "requirements.txt" in files:
        lines = files["requirements.txt"].read_text(errors="replace").splitlines()
        hashes = any("--hash=" in line for line in lines)
        pinned = sum(1 for line in lines if "==" in line.split("#")[0])
        named = _requirement_names(lines)
        whole = [n for n, line in enumerate(lines, 1) if re.match(r"\s*(-e\s+)?\.(\[.*\])?\s*$", line)]
        copies = ["."] if whole else ["requirements.txt"]
        if whole:
            app.note(
                DETECTED,
                "dependencies",
                "requirements.txt installs the app itself: the build copies the folder first",
                ("requirements.txt", whole[0]),
            )
        lock = "hash-pinned" if hashes else f"{pinned} of {len(named)} pinned" if named else "empty"
        app.note(
            DETECTED,
            "dependencies",
            f"requirements.txt ({lock}), installed "
            + ("in a build stage" if app.docker else "by the Hub when it builds the Space"),
            ("requirements.txt", None),
        )
        flags = " --require-hashes" if hashes else ""
        return Dependencies(named, [f"{pip}{flags} -r requirements.txt"], copies)
    declared = [d for d in project.get("dependencies", []) if isinstance(d, str)]
    names = _requirement_names(declared)
    if "uv.lock" in files and "pyproject.toml" in files:
        app.note(
            DETECTED,
            "dependencies",
            "pyproject.toml locked by uv.lock: the build installs the lock, hash-checked",
            ("uv.lock", None),
        )
        return Dependencies(
            names,
            [
                f"python3 -m venv /opt/tools && /opt/tools/bin/pip install {UV}",
                "/opt/tools/bin/uv export --frozen --no-dev --no-emit-project -o /tmp/lock.txt",
                f"{pip} --require-hashes --no-deps -r /tmp/lock.txt",
            ],
            ["pyproject.toml", "uv.lock"],
        )
    poetry = pyproject_data.get("tool", {}).get("poetry", {}) if isinstance(pyproject_data.get("tool"), dict) else {}
    if "poetry.lock" in files and "pyproject.toml" in files:
        names |= {_normal(n) for n in (poetry.get("dependencies") or {}) if n != "python"}
        app.note(
            DETECTED,
            "dependencies",
            "pyproject.toml locked by poetry.lock: the build installs the lock, hash-checked",
            ("poetry.lock", None),
        )
        return Dependencies(
            names,
            [
                f"python3 -m venv /opt/tools && /opt/tools/bin/pip install {' '.join(POETRY)}",
                "/opt/tools/bin/poetry export --only main --format requirements.txt --output /tmp/lock.txt",
                f"{pip} --require-hashes --no-deps -r /tmp/lock.txt",
            ],
            ["pyproject.toml", "poetry.lock"],
        )
    if declared:
        line = _line(files["pyproject.toml"], r"^dependencies")
        app.note(
            DETECTED,
            "dependencies",
            f"pyproject.toml [project] dependencies ({', '.join(sorted(names))}), no lock: installed as declared "
            "(the project itself is not built: the app runs from its folder)",
            ("pyproject.toml", line),
        )
        script = (
            'python3 -c \'import tomllib; print("\\n".join(tomllib.load(open("pyproject.toml", "rb"))'
            '["project"]["dependencies"]))\' > /tmp/requirements.txt'
        )
        return Dependencies(names, [script, f"{pip} -r /tmp/requirements.txt"], ["pyproject.toml"])
    # No manifest: what the code imports, less the standard library and the app's own modules.
    local = {m.path.split("/")[0].removesuffix(".py") for m in modules}
    imported = set().union(*(m.imports() for m in modules)) if modules else set()
    third = sorted(
        _DISTRIBUTIONS.get(name, name) for name in imported - local - set(sys.stdlib_module_names) - {"__future__"}
    )
    if third:
        app.note(
            UNKNOWN,
            "dependencies",
            f"no requirements.txt or pyproject.toml: the image installs what the code imports ({', '.join(third)}), "
            "unpinned; add a requirements.txt to pin them",
        )
    else:
        app.note(UNKNOWN, "dependencies", "no requirements.txt or pyproject.toml, and no third-party import")
    return Dependencies({_normal(n) for n in third}, [f"{pip} {' '.join(third)}"] if third else [], [])


def _line(file: Path, pattern: str) -> int | None:
    text = file.read_text(errors="replace")
    match = re.search(pattern, text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


# --- the frameworks --------------------------------------------------------------------------------


def detect(root: Path, files: dict[str, Path], *, docker: bool = False) -> App | None:
    modules = _modules(files)
    if not modules:
        return None
    for find in (_django, _gradio, _streamlit, _asgi, _flask):
        app = find(root, modules, docker)
        if app is not None:
            _finish(app, files, modules)
            return app
    return None


def _wanted_python(files: dict[str, Path]) -> tuple[tuple[int, int], str, int | None] | None:
    """The Python the app says it is written for: (minor version, file, line); None if it says none.

    In this order: `.python-version` (pyenv, uv), `runtime.txt` (`python-3.11.9`), the header pip-compile
    writes into requirements.txt (`with Python 3.11`: its pins were resolved there), and a
    `requires-python` that leaves out the default image's Python (the newest one it admits)."""
    found = [
        (".python-version", r"^\s*(?:cpython-)?(3)\.(\d+)"),
        ("runtime.txt", r"^\s*python-(3)\.(\d+)"),
        ("requirements.txt", r"^#.*\bpip-compile with Python (3)\.(\d+)"),
    ]
    for name, pattern in found:
        if name in files:
            text = files[name].read_text(errors="replace")
            match = re.search(pattern, text, re.MULTILINE | re.IGNORECASE)
            if match:
                return (int(match[1]), int(match[2])), name, text.count("\n", 0, match.start()) + 1
    if "pyproject.toml" in files:
        try:
            requires = tomllib.loads(files["pyproject.toml"].read_text(errors="replace"))["project"]["requires-python"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            return None
        if isinstance(requires, str) and _python_ok(requires) is False:
            admitted = [v for v in TRIXIE_PYTHONS if _python_ok(requires, v)]
            if admitted:
                return admitted[-1], "pyproject.toml", _line(files["pyproject.toml"], r"^requires-python")
    return None


def _python(app: App, files: dict[str, Path]) -> None:
    """The image's Python: the one the app says it wants, where an official slim-trixie image has it."""
    wanted = _wanted_python(files)
    if wanted is None or wanted[0] == SHIPPED_PYTHON:
        return
    version, name, line = wanted
    said = ".".join(map(str, version))
    if not app.docker:  # sdk: gradio: the Hub's own image, whose Python the card chooses
        app.card_extra["python_version"] = said
        app.note(DETECTED, "python", f"{said}, as {name} says: the card's python_version", (name, line))
    elif version in TRIXIE_PYTHONS:
        app.python = said
        app.note(DETECTED, "python", f"{said}, as {name} says: the image is python:{said}-slim-trixie", (name, line))
    else:
        shipped = ".".join(map(str, SHIPPED_PYTHON))
        app.note(
            UNKNOWN,
            "python",
            f"{name} says Python {said}, which has no official slim-trixie image: the image runs {shipped}, "
            "where its pins may not install",
            (name, line),
        )


def _finish(app: App, files: dict[str, Path], modules: list[Module]) -> None:
    """What every Python app gets: its Python, its dependencies, the server it lacks, what it writes."""
    _python(app, files)
    deps = _dependencies(app, files, modules)
    app.install, app.install_files = deps.install, deps.files
    needed = {
        "flask": [GUNICORN], "django": [GUNICORN], "fastapi": [UVICORN], "starlette": [UVICORN],
        "streamlit": [STREAMLIT], "gradio": [],
    }[app.framework]  # fmt: skip
    if app.framework == "django" and "whitenoise.middleware.WhiteNoiseMiddleware" in "".join(app.files.values()):
        needed = [*needed, WHITENOISE]
    for package in needed:
        name = _normal(package.split("==")[0])
        if name in deps.names or (name == "uvicorn" and {"fastapi-cli", "fastapi[standard]"} & deps.names):
            continue
        if not deps.install and name == "streamlit":  # installed from the imports already, unpinned
            continue
        app.extra_packages.append(package)
    if app.extra_packages:
        app.note(
            HANDLED,
            "server",
            f"the app's manifest lacks {', '.join(app.extra_packages)}: the image installs "
            f"{'them' if len(app.extra_packages) > 1 else 'it'} "
            "(its own files are not changed)",
        )
    _writes(app, modules)
    if app.framework in ("flask", "django", "fastapi", "starlette"):  # gunicorn and uvicorn read it
        app.env.setdefault("WEB_CONCURRENCY", "2")
    if app.docker:
        app.emoji = "🐍"


_WRITE_CALLS = re.compile(
    r"(os\.makedirs|os\.mkdir|\.mkdir\(|sqlite3\.connect|open\([^)]*['\"][wa]b?\+?['\"]|\.write_text\(|"
    r"\.write_bytes\(|instance_relative_config\s*=\s*True|shutil\.copy)"
)


def _writes(app: App, modules: list[Module]) -> None:
    for module in modules:
        for match in _WRITE_CALLS.finditer(module.text):
            line = module.text.count("\n", 0, match.start()) + 1
            code = module.text.splitlines()[line - 1].strip()
            if "instance_relative_config" in match.group(0) or "instance_path" in code:
                where = f"{posixpath.dirname(module.path) or '.'}/../instance" if "/" in module.path else "instance"
                text = f"writes its instance folder ({posixpath.normpath(where)}/) at start"
            else:
                text = f"writes at run time: `{code[:90]}`"
            app.note(
                DETECTED,
                "writes",
                text + ": /app and HOME belong to uid 1000, the user it runs as",
                (module.path, line),
            )
            break


def _gunicorn(app: App, target: str) -> None:
    app.command = [
        "gunicorn", "--bind", f"0.0.0.0:{app.port}", "--worker-class", "gthread", "--threads", "8",
        "--forwarded-allow-ips", "*", "--graceful-timeout", "8", "--worker-tmp-dir", "/dev/shm",  # noqa: S108 (in the image)
        "--access-logfile", "-", target,
    ]  # fmt: skip
    app.note(
        DETECTED,
        "server",
        f"gunicorn, gthread workers (WEB_CONCURRENCY, 2 by default), serving {target} on "
        f"0.0.0.0:{app.port}; never the development server",
    )


def _run_call(module: Module, receivers: set[str]) -> int | None:
    """The line of the app's own start: `RECEIVER.run(...)` for a receiver named (the app's variable,
    `uvicorn`), or any `.run(...)` in the module's `if __name__ == "__main__":` block. Not another
    object's `run` (a Celery task's `self.run(...)`, a thread's)."""
    main = [
        node
        for node in module.tree.body
        if isinstance(node, ast.If) and re.fullmatch(r"__name__ == ['\"]__main__['\"]", ast.unparse(node.test))
    ]
    runs = [
        node
        for node in ast.walk(module.tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run"
    ]
    in_main = {id(node) for block in main for node in ast.walk(block)}
    lines = [n.lineno for n in runs if ast.unparse(n.func.value) in receivers or id(n) in in_main]
    return min(lines, default=None)


def _dev_server_port(app: App, module: Module, receivers: set[str]) -> None:
    """Say what the app's own start (its development server) would have used, and that it is not used."""
    line = _run_call(module, receivers)
    what = "Flask's development server" if app.framework == "flask" else "a start for local runs"
    if line is not None:
        app.note(
            DETECTED,
            "port",
            f"{app.port} (app_port): the app's own `.run(...)` ({what}) is not what the image runs",
            (module.path, line),
        )
    else:
        app.note(DETECTED, "port", f"{app.port} (app_port): the server the image adds listens there")


def _flask(root: Path, modules: list[Module], docker: bool) -> App | None:
    for module in modules:
        if "flask" not in module.imports():
            continue
        found = _module_assign(module, "Flask")
        factory = _module_def(module, "create_app")
        if found is None and factory is None:
            continue
        app = App(root, "python", "flask")
        if found is not None:
            target, line = f"{module.name}:{found[0]}", found[1]
            app.note(DETECTED, "framework", f"Flask: `{found[0]} = Flask(...)`", (module.path, line))
        else:
            target, line = f"{module.name}:create_app()", factory
            app.note(DETECTED, "framework", "Flask: an application factory `create_app()`", (module.path, line))
        app.note(DETECTED, "entry point", target, (module.path, line))
        _dev_server_port(app, module, {found[0]} if found is not None else set())
        _flask_commands(app, module.name.split(".")[0], modules)
        _gunicorn(app, _framable(app, modules, target, wsgi=True))
        return app
    return None


_SETUP_COMMAND = re.compile(
    r"""(?:@click\.command|\.cli\.command)\(\s*['"]((?:init|create|setup)[-_]?(?:db|database)|initdb)['"]"""
)


def _flask_commands(app: App, package: str, modules: list[Module]) -> None:
    """A Flask CLI command that sets the database up (`flask init-db`): run once, at build time."""
    for module in modules:
        match = _SETUP_COMMAND.search(module.text)
        if match and module.name.split(".")[0] == package:
            name = match.group(1)
            line = module.text.count("\n", 0, match.start()) + 1
            app.build_steps.append(f"flask --app {package} {name}")
            app.note(
                HANDLED,
                "first run",
                f"`flask --app {package} {name}` sets the app's database up: the image runs "
                "it at build time, as uid 1000, so the app starts with an empty database (the Space's disk is new "
                "at every restart anyway; mount a volume to keep data)",
                (module.path, line),
            )
            return


def _asgi(root: Path, modules: list[Module], docker: bool) -> App | None:
    for framework, call in (("fastapi", "FastAPI"), ("starlette", "Starlette")):
        for module in modules:
            if framework not in module.imports():
                continue
            found = _module_assign(module, call)
            if found is None:
                continue
            app = App(root, "python", framework)
            target = f"{module.name}:{found[0]}"
            app.note(DETECTED, "framework", f"{call}: `{found[0]} = {call}(...)`", (module.path, found[1]))
            app.note(DETECTED, "entry point", target, (module.path, found[1]))
            if module.line_of(r"uvicorn\.run\("):
                _dev_server_port(app, module, {"uvicorn"})
            else:
                app.note(DETECTED, "port", f"{app.port} (app_port): the code names none; uvicorn listens there")
            if framework == "fastapi":  # FastAPI routes answer HEAD with 405; the platform probes HEAD /
                app.note(
                    HANDLED,
                    "HEAD /",
                    "FastAPI answers HEAD with 405 (its routes list GET only) and the platform "
                    "probes HEAD /: hfspace_asgi.py answers HEAD as GET without a body",
                )
            target = _framable(app, modules, target, wsgi=False, head=framework == "fastapi")
            app.command = [
                "uvicorn", target, "--host", "0.0.0.0", "--port", str(app.port), "--proxy-headers",
                "--forwarded-allow-ips", "*", "--timeout-graceful-shutdown", "8",
            ]  # fmt: skip
            app.note(
                DETECTED,
                "server",
                f"uvicorn (WEB_CONCURRENCY workers, 2 by default), serving {target} on 0.0.0.0:{app.port}",
            )
            return app
    return None


def _framable(app: App, modules: list[Module], target: str, *, wsgi: bool, head: bool = False) -> str:
    """The target the server serves: the app itself, or a wrapper when the app forbids the Space
    page's iframe (X-Frame-Options, frame-ancestors) or (ASGI) answers HEAD with 405."""
    from hfspace.init import files
    from hfspace.rules.listening import blocks_embedding
    from hfspace.space.writes import Code

    blocked = None
    for module in modules:
        found = blocks_embedding(Code(module.path, module.path, "py", module.text))
        if found:
            blocked = (module.path, found)
            break
    if blocked:
        path, (line, what) = blocked
        app.note(
            HANDLED,
            "embedding",
            f"{what} forbids the Space page's iframe: "
            f"{'hfspace_wsgi.py' if wsgi else 'hfspace_asgi.py'} drops X-Frame-Options and lets "
            "https://huggingface.co in frame-ancestors",
            (path, line),
        )
    if not blocked and not head:
        return target
    name = "hfspace_wsgi" if wsgi else "hfspace_asgi"
    app.files[f"{name}.py"] = files.python_wrapper(target, wsgi=wsgi, head=head, framable=bool(blocked))
    return f"{name}:app"


def _streamlit(root: Path, modules: list[Module], docker: bool) -> App | None:
    users = [m for m in modules if "streamlit" in m.imports()]
    if not users:
        return None
    imported = {name for m in modules for name in _local_imports(m)}
    preferred = ("streamlit_app.py", "app.py", "main.py", "Home.py", "Hello.py")
    main = next((m for name in preferred for m in users if m.path == name), None)
    main = main or next((m for m in users if m.name not in imported and "/" not in m.path), users[0])
    app = App(root, "python", "streamlit")
    app.note(DETECTED, "framework", "Streamlit", (main.path, main.line_of(r"^import streamlit|^from streamlit")))
    app.note(DETECTED, "entry point", f"streamlit run {main.path}", (main.path, None))
    port, at = _streamlit_config_port(root)
    if port is not None:
        app.port = port
        app.note(DETECTED, "port", f"{port}, set by the app's own config", (".streamlit/config.toml", at))
    else:
        app.note(DETECTED, "port", f"{app.port} (app_port), given to streamlit with --server.port")
    given_port = [] if port is not None else [f"--server.port={app.port}"]
    app.command = ["streamlit", "run", main.path, "--server.address=0.0.0.0", *given_port, "--server.headless=true"]
    app.env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return app


def _local_imports(module: Module) -> set[str]:
    found = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _streamlit_config_port(root: Path) -> tuple[int | None, int | None]:
    config = root / ".streamlit" / "config.toml"
    if not config.is_file():
        return None, None
    try:
        port = tomllib.loads(config.read_text(errors="replace")).get("server", {}).get("port")
    except (tomllib.TOMLDecodeError, AttributeError):
        return None, None
    return (port, _line(config, r"^\s*port\s*=")) if isinstance(port, int) else (None, None)


def _gradio(root: Path, modules: list[Module], docker: bool) -> App | None:
    main = next((m for m in modules if "gradio" in m.imports() and m.line_of(r"\.launch\(") is not None), None)
    if main is None:
        return None
    line = main.line_of(r"\.launch\(")
    if not docker:
        app = App(root, "gradio", "gradio", docker=False)
        app.card_extra = {"sdk": "gradio", "app_file": main.path}
        app.emoji = "🤗"
        app.note(DETECTED, "framework", "Gradio", (main.path, line))
        app.note(
            HANDLED,
            "sdk",
            "`sdk: gradio` is the native choice for a Gradio app: the Hub installs "
            "requirements.txt and runs app_file itself. `hfspace init --docker` writes a Docker Space instead",
        )
        return app
    app = App(root, "python", "gradio")
    app.note(DETECTED, "framework", "Gradio, as a Docker Space (--docker)", (main.path, line))
    app.note(DETECTED, "entry point", f"python {main.path}", (main.path, line))
    app.command = ["python", main.path]
    if not re.search(r"signal\.signal\(\s*(?:signal\.)?SIGTERM", main.text):
        from hfspace.init import files

        app.files["hfspace_main.py"] = files.python_main(main.path)
        app.command = ["python", "hfspace_main.py"]
        app.note(
            HANDLED,
            "stop",
            f"{main.path} sets no SIGTERM handler, and python as PID 1 ignores the signal (every restart would "
            "wait 10 s for the kill): hfspace_main.py runs it and takes SIGTERM as Ctrl-C, which closes Gradio",
            (main.path, None),
        )
    app.env.update(GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(app.port))
    launch = main.text.splitlines()[line - 1]
    if "server_name" in launch or "server_port" in launch:
        app.note(
            NOT_FIXED,
            "port",
            "`.launch(...)` names its own server_name/server_port, which win over "
            "GRADIO_SERVER_NAME/PORT: make them 0.0.0.0 and 7860",
            (main.path, line),
        )
    else:
        app.note(DETECTED, "port", f"{app.port}: GRADIO_SERVER_NAME=0.0.0.0 and GRADIO_SERVER_PORT in the image")
    return app


# --- Django ----------------------------------------------------------------------------------------


def _django(root: Path, modules: list[Module], docker: bool) -> App | None:
    candidates = []
    for module in modules:
        values = _settings_values(module)
        if "INSTALLED_APPS" in values and "ROOT_URLCONF" in values:
            candidates.append((module, values))
    if not candidates:
        return None
    named = {
        m.group(1) for mod in modules for m in re.finditer(r"DJANGO_SETTINGS_MODULE['\"]\s*,\s*['\"]([\w.]+)", mod.text)
    }
    settings, values = next(((m, v) for m, v in candidates if m.name in named), candidates[0])
    source = dict.fromkeys(values, settings)  # the module each setting is read from
    layered = _layered_settings(modules, candidates, named)
    if layered is not None:  # settings/dev.py doing `from .base import *` and overriding a few
        settings, values, source = layered
    app = App(root, "python", "django")
    app.note(
        DETECTED,
        "framework",
        f"Django: settings {settings.name}",
        (source["INSTALLED_APPS"].path, values["INSTALLED_APPS"][1]),
    )
    wsgi_value, wsgi_line = values.get("WSGI_APPLICATION", (None, None))
    if isinstance(wsgi_value, str) and "." in wsgi_value:
        module_name, _, attr = wsgi_value.rpartition(".")
        target, where = f"{module_name}:{attr}", (source["WSGI_APPLICATION"].path, wsgi_line)
    else:
        wsgi = next((m for m in modules if "get_wsgi_application" in m.text and m.path.endswith("wsgi.py")), None)
        if wsgi is None:
            app.note(
                NOT_FIXED,
                "entry point",
                "no WSGI_APPLICATION and no wsgi.py: add one (`django-admin startproject` writes it)",
                (settings.path, None),
            )
            return app
        found = _module_assign(wsgi, "get_wsgi_application")
        target, where = f"{wsgi.name}:{found[0] if found else 'application'}", (wsgi.path, found[1] if found else None)
    app.note(DETECTED, "entry point", f"{target} (WSGI)", where)
    if "manage.py" not in {m.path for m in modules}:
        app.note(DETECTED, "entry point", "no manage.py: the image runs Django's commands as `python -m django`")
    wsgi_file = target.split(":")[0].replace(".", "/") + ".py"
    forced = next(
        (m for m in modules if m.path == wsgi_file and re.search(r"os\.environ\[['\"]DJANGO_SETTINGS_MODULE", m.text)),
        None,
    )
    if forced:
        app.note(
            NOT_FIXED,
            "settings",
            "the WSGI module sets DJANGO_SETTINGS_MODULE itself (not setdefault), so "
            "hfspace_settings.py is not used: change it to os.environ.setdefault",
            (forced.path, forced.line_of("DJANGO_SETTINGS_MODULE")),
        )
    _django_settings(app, settings, values, source)
    _django_root(app, modules, values.get("ROOT_URLCONF", (None, None))[0])
    app.env["DJANGO_SETTINGS_MODULE"] = "hfspace_settings"
    app.port = 7860
    _gunicorn(app, target)
    app.note(DETECTED, "port", f"{app.port} (app_port): gunicorn listens there")
    return app


def _routes_root(call: ast.expr) -> bool | None:
    """Whether one `urlpatterns` entry routes `/`: `path("", ...)`, `re_path(r"^$", ...)`; None when it
    cannot be told (a route that is not a literal, `i18n_patterns`, `static(...)`, ...)."""
    if not (isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant)):
        return None
    route, kind = call.args[0].value, ast.unparse(call.func).split(".")[-1]
    if not isinstance(route, str) or kind not in ("path", "re_path", "url"):
        return None
    if kind == "path":
        return route == ""
    try:
        return re.match(route, "") is not None
    except re.error:
        return None


def _django_root(app: App, modules: list[Module], urlconf: object) -> None:
    """A URLconf that routes nothing at `/` (what `django-admin startproject` writes: `admin/` only).
    Django answers / there with its welcome page only with DEBUG on; off, / is a 404, and the Space's
    proxy waits for a 200 on / before it calls the Space running."""
    urls = next((m for m in modules if m.name == urlconf), None) if isinstance(urlconf, str) else None
    if urls is None:
        return
    entries, line = [], None
    for node in urls.tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id == "urlpatterns"):
            continue
        if not isinstance(value, ast.List):
            return  # built some other way (urlpatterns + [...], i18n_patterns): cannot be told
        entries += value.elts
        line = line or node.lineno
    said = [_routes_root(entry) for entry in entries]
    if line is None or None in said or any(said):
        return
    app.note(
        NOT_FIXED,
        "GET /",
        f"{urls.path} routes nothing at / (Django's welcome page shows only with DEBUG on): / answers 404, and "
        "the Space's proxy waits for a 200 on / before the Space runs: route '' to a page (or a RedirectView)",
        (urls.path, line),
    )


_ENGINE = re.compile(r"""["']ENGINE["']\s*:\s*["']([\w.]+)["']""")


def _layered_settings(
    modules: list[Module], candidates: list[tuple[Module, dict]], named: set[str]
) -> tuple[Module, dict, dict[str, Module]] | None:
    """The settings module manage.py or wsgi.py names when it is not a whole settings module itself
    but star-imports one (`settings/dev.py`: `from .base import *`, then DEBUG, SECRET_KEY, ...):
    (that module, the merged settings, the module each setting comes from); None otherwise."""
    by_name = {module.name: module for module in modules}
    whole = {module.name: values for module, values in candidates}
    for name in sorted(named):
        module = by_name.get(name)
        if module is None or name in whole:
            continue
        for node in module.tree.body:
            if not (isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)):
                continue
            parts = module.name.split(".")[: None if module.path.endswith("__init__.py") else -1]
            parts = parts[: len(parts) - (node.level - 1)] if node.level else []
            base = ".".join([*parts, *([node.module] if node.module else [])])
            if base in whole:
                own = _settings_values(module)
                source = {**dict.fromkeys(whole[base], by_name[base]), **dict.fromkeys(own, module)}
                return module, {**whole[base], **own}, source
    return None


def _django_settings(app: App, settings: Module, values: dict, source: dict[str, Module]) -> None:
    """Notes and adapters from the settings; `source` says which module each value is read from."""
    from hfspace.init import files

    def at(name: str) -> tuple[str, int | None]:
        return source.get(name, settings).path, values.get(name, (None, None))[1]

    hosts = values.get("ALLOWED_HOSTS", ([], None))[0]
    if hosts is ... or not isinstance(hosts, list | tuple):
        app.note(
            UNKNOWN,
            "hosts",
            "ALLOWED_HOSTS is computed: hfspace_settings.py adds .hf.space and SPACE_HOST to it",
            at("ALLOWED_HOSTS"),
        )
    elif "*" in hosts or ".hf.space" in hosts:
        app.note(DETECTED, "hosts", f"ALLOWED_HOSTS {list(hosts)} admits the Space's host", at("ALLOWED_HOSTS"))
    else:
        app.note(
            HANDLED,
            "hosts",
            f"ALLOWED_HOSTS {list(hosts)} refuses the Space's host (OWNER-NAME.hf.space): "
            "hfspace_settings.py adds .hf.space, SPACE_HOST and localhost",
            at("ALLOWED_HOSTS"),
        )
    middleware, middleware_line = values.get("MIDDLEWARE", ([], None))
    if isinstance(middleware, list | tuple) and "django.middleware.clickjacking.XFrameOptionsMiddleware" in middleware:
        module = source.get("MIDDLEWARE", settings)
        line = module.line_of(r"XFrameOptionsMiddleware") or middleware_line
        app.note(
            HANDLED,
            "embedding",
            "XFrameOptionsMiddleware sends X-Frame-Options: DENY, which the Space page's "
            "iframe needs gone: hfspace_settings.py removes it",
            (module.path, line),
        )
    installed, _ = values.get("INSTALLED_APPS", ([], None))
    static = isinstance(installed, list | tuple) and "django.contrib.staticfiles" in installed
    if static:
        if "STATIC_ROOT" not in values:
            text = "no STATIC_ROOT: hfspace_settings.py sets one, the image runs collectstatic and WhiteNoise serves it"
        else:
            text = "the image runs collectstatic into STATIC_ROOT and WhiteNoise serves it (gunicorn serves no files)"
        app.note(HANDLED, "static files", text, at("STATIC_ROOT" if "STATIC_ROOT" in values else "STATIC_URL"))
        app.build_steps.append("python -m django collectstatic --noinput")
    if values.get("DEBUG", (None, None))[0] is True:
        app.note(
            HANDLED,
            "debug",
            "DEBUG = True shows tracebacks to anyone: hfspace_settings.py turns it off "
            "(DJANGO_DEBUG=1 as a Space variable turns it back on)",
            at("DEBUG"),
        )
    if isinstance(values.get("SECRET_KEY", (None, None))[0], str):
        app.note(
            NOT_FIXED,
            "secret",
            "SECRET_KEY is written in the code: set a Space secret DJANGO_SECRET_KEY, "
            "which hfspace_settings.py reads first",
            at("SECRET_KEY"),
        )
    databases = values.get("DATABASES", (None, None))[0]
    if isinstance(databases, dict):
        engines = [d.get("ENGINE", "") for d in databases.values() if isinstance(d, dict)]
    elif databases is ...:  # computed (`"NAME": BASE_DIR / "db.sqlite3"`): the ENGINE strings it names
        engines = _ENGINE.findall(source.get("DATABASES", settings).text)
    else:
        engines = []
    if any("sqlite3" in engine for engine in engines):
        app.build_steps.append("python -m django migrate --noinput")
        app.note(
            HANDLED,
            "first run",
            "SQLite database: the image runs `migrate` at build time as uid 1000 (the "
            "Space's disk is new at every restart: mount a volume to keep data)",
            at("DATABASES"),
        )
    elif engines:
        app.note(
            UNKNOWN,
            "database",
            f"database engine {engines[0]}: give its address and password as Space secrets",
            at("DATABASES"),
        )
    app.files["hfspace_settings.py"] = files.django_settings(settings.name, static=static)

"""Who the container runs as, what that user may write in the final image, and where the app writes.

The platform runs the container as the image's USER, root when there is none. The Hub's
docs say "uid 1000", and HF_SPACES.md notes that community reports say "whatever USER says";
the public Spaces in tests/corpus settle it for today's platform: Spaces without a USER write
into root-owned folders at start and run (their Hub logs show it). So a write fails only
for a non-root USER, into what the build did not give it: a folder made by WORKDIR or a
`mkdir` before `USER`, files copied without `--chown`, a home made for another uid, HOME=/
for a USER without a passwd entry. BuildKit makes a WORKDIR (and a RUN's `mkdir`) as the
current USER: checked with a real build.

The app's writes are read from the code the command runs and what it imports (Python), its
`require`/`import`s (Node), and the shell script it starts: `open(p, "w")`, `os.makedirs`,
`Path.mkdir`/`write_text`, `sqlite3.connect`, `hf_hub_download`/`snapshot_download` (into
HF_HOME, else ~/.cache/huggingface), `fs.writeFileSync`/`mkdirSync`, `new Database(p)`,
and a script's `mkdir`, `> file`, `sed -i`, `touch`. A path is followed through literals,
`os.path.join`, `Path(...) / ...`, `__file__`/`__dirname`, assigned names and the image's
ENV; a relative path is the WORKDIR's. What cannot be followed is left out.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hfspace.space import images
from hfspace.space.accounts import Accounts, run_segments
from hfspace.space.code import parse_python
from hfspace.space.dockerfile import Dockerfile, Instruction
from hfspace.space.words import expand, split

ALWAYS_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108 (paths in the image, not used here)


@dataclass(frozen=True)
class Grant:
    """A path, who owns it (None: unknown), whether anyone may write it, and the instruction that made it so."""

    path: str
    owner: int | None
    open_to_all: bool
    at: Instruction | None
    how: str  # "WORKDIR made as root", "COPY without --chown", "chmod 777", ...


class Ownership:
    """Which paths of the final image the container's user can write at run time."""

    def __init__(self, grants: list[Grant], known_base: bool, uid: int | None, user_at: Instruction | None) -> None:
        self.grants = grants
        self.known_base = known_base
        self.uid = uid  # the user the container runs as: its USER (None when it cannot be told), root without one
        self.user_at = user_at

    def decided_by(self, path: str) -> Grant | None:
        """The last grant, in build order, about `path` or a folder above it (a later `chown -R`
        of a parent overrides an earlier `mkdir` inside it); None when the Dockerfile says nothing."""
        found = None
        for grant in self.grants:
            if path == grant.path or path.startswith(grant.path.rstrip("/") + "/"):
                found = grant
        return found

    def made(self, path: str) -> bool:
        """Whether the build itself made this very path (a folder `mkdir -p` then finds in place)."""
        return any(grant.path == path for grant in self.grants)

    def writable(self, path: str) -> bool | None:
        """True, False, or None when it cannot be told (an unknown user or base image)."""
        if self.uid == 0 or any(path == root or path.startswith(root + "/") for root in ALWAYS_WRITABLE):
            return True
        if self.uid is None:
            return None
        grant = self.decided_by(path)
        if grant is not None:
            if grant.open_to_all:
                return True
            return None if grant.owner is None else grant.owner == self.uid
        return False if self.known_base else None


def ownership(dockerfile: Dockerfile, accounts: Accounts) -> Ownership:
    base_users = [a for a in accounts.users.values() if a.at is None and a.home]
    grants: list[Grant] = [Grant(a.home, a.uid, False, None, f"the home of {a.name}") for a in base_users]
    uid: int | None = 0
    workdir = "/"
    for stage in dockerfile.final.chain():
        for ins in stage.instructions:
            if ins.name == "USER":
                uid = accounts.uid_of(stage.expand(ins, ins.value.strip()))
            elif ins.name == "WORKDIR":
                value = stage.expand(ins, ins.value.strip())
                if value is None:
                    continue
                workdir = posixpath.normpath(posixpath.join(workdir, value))
                if not any(grant.path == workdir for grant in grants):  # BuildKit makes it as the current user
                    grants.append(Grant(workdir, uid, False, ins, f"WORKDIR made as {_who(uid)}"))
            elif ins.name in ("COPY", "ADD"):
                for copy in (c for c in stage.copies if c.instruction is ins and not c.mount):
                    owner = accounts.uid_of(copy.chown) if copy.chown else 0
                    how = f"{ins.name} --chown={copy.chown}" if copy.chown else f"{ins.name} without --chown"
                    grants.append(Grant(copy.dest.rstrip("/") or "/", owner, False, ins, how))
            elif ins.name == "RUN":
                for account in accounts.users.values():  # the homes this RUN's useradd made
                    if account.at is ins and account.home:
                        how = f"the home of {account.name} (uid {account.uid})"
                        grants.append(Grant(account.home, account.uid, False, ins, how))
                grants.extend(_run_grants(stage, ins, uid, accounts, workdir))
    config = dockerfile.config
    runtime = accounts.uid_of(config.user) if config.user_at is not None else 0
    return Ownership(grants, images.known(config.image) is not None, runtime, config.user_at)


def _who(uid: int | None) -> str:
    return "root" if uid == 0 else f"uid {uid}" if uid is not None else "an unknown user"


def _opens(mode: str) -> bool:
    """Whether a chmod mode lets every user write (777, 666, a+w, o+w, +w)."""
    if re.fullmatch(r"0?[0-7]?[0-7][0-7][2367]", mode):
        return True
    symbolic = re.fullmatch(r"([augo]*)\+[rwxX]*w[rwxX]*", mode)
    return bool(symbolic) and (symbolic.group(1) == "" or any(c in symbolic.group(1) for c in "ao"))


def _run_grants(stage, ins: Instruction, uid: int | None, accounts: Accounts, workdir: str) -> Iterator[Grant]:
    for words in run_segments(ins):
        program = posixpath.basename(words[0])
        targets = [w for w in words[1:] if not w.startswith("-")]
        if program == "mkdir":
            for target in targets:
                path = _absolute(stage, ins, target, workdir)
                if path:
                    yield Grant(path, uid, False, ins, f"mkdir as {_who(uid)}")
        elif program == "chmod" and targets:
            mode, *paths = targets
            if re.fullmatch(r"0?[0-7]?[0-7][0-7][2367]|[augo]*\+[rwxX]*w[rwxX]*", mode) and not mode.startswith(
                ("u+", "g+")
            ):
                for target in paths:
                    path = _absolute(stage, ins, target, workdir)
                    if path:
                        yield Grant(path, None, True, ins, f"chmod {mode}")
        elif program == "chown" and targets:
            owner, *paths = targets
            name = owner.split(":")[0]
            to = int(name) if name.isdigit() else accounts.uid_of(name)
            for target in paths:
                path = _absolute(stage, ins, target, workdir)
                if path:
                    yield Grant(path, to, False, ins, f"chown {owner}")


def _absolute(stage, ins: Instruction, word: str, workdir: str) -> str | None:
    value = expand(word, stage.scope(ins), missing_known=True) if "$" in word else word
    if not value or any(c in value for c in "*?[{"):
        return None
    return posixpath.normpath(posixpath.join(workdir, value))


# --- where the app writes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    path: str  # absolute, in the image
    file: str  # the Space file whose code writes it
    line: int
    what: str  # "open(..., 'w')", "os.makedirs", ...


_PY_WRITERS = {
    "os.makedirs": 0, "os.mkdir": 0, "makedirs": 0, "sqlite3.connect": 0, "shutil.copy": 1, "shutil.copyfile": 1,
    "shutil.copy2": 1, "shutil.move": 1, "logging.FileHandler": 0,
}  # fmt: skip
_PATH_METHODS = ("mkdir", "write_text", "write_bytes", "touch")
_HF_DOWNLOADS = ("hf_hub_download", "snapshot_download")


class _Unknown(Exception):
    pass


class _PyPaths:
    """Evaluates path expressions of one Python file, as they are in the image."""

    def __init__(self, tree: ast.Module, image_path: str, workdir: str, env: dict[str, str | None]) -> None:
        self.image_path, self.workdir, self.env = image_path, workdir, env
        self.names: dict[str, ast.AST] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.names.setdefault(node.targets[0].id, node.value)

    def value(self, node: ast.AST, depth: int = 0):
        if depth > 15:
            raise _Unknown
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return self.image_path
            if node.id in self.names:
                return self.value(self.names[node.id], depth + 1)
            raise _Unknown
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path(a) / "b"
            return posixpath.join(self.value(node.left, depth + 1), self.value(node.right, depth + 1))
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            return posixpath.dirname(self.value(node.value, depth + 1))
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            args = node.args
            if func in ("Path", "pathlib.Path", "os.path.abspath", "os.path.realpath", "str") and len(args) == 1:
                return self.value(args[0], depth + 1)
            if func.endswith(("resolve", "absolute", "expanduser")) and isinstance(node.func, ast.Attribute):
                return self.value(node.func.value, depth + 1)
            if func == "os.path.join" and args:
                return posixpath.join(*(self.value(arg, depth + 1) for arg in args))
            if func == "os.path.dirname" and len(args) == 1:
                return posixpath.dirname(self.value(args[0], depth + 1))
            if func in ("os.getenv", "os.environ.get") and args:
                key = self.value(args[0], depth + 1)
                if key in self.env:
                    if self.env[key] is None:
                        raise _Unknown
                    return self.env[key]
                if len(args) > 1:
                    return self.value(args[1], depth + 1)
        raise _Unknown

    def path(self, node: ast.AST) -> str | None:
        try:
            value = self.value(node)
        except (_Unknown, TypeError):
            return None
        if not value or value == ":memory:" or "://" in value:
            return None
        return posixpath.normpath(posixpath.join(self.workdir, value))


def _py_writes(text: str, file: str, image_path: str, workdir: str, env, home: str | None) -> Iterator[Write]:
    tree = parse_python(text)
    if tree is None:
        return
    paths = _PyPaths(tree, image_path, workdir, env)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = ast.unparse(node.func)
        target = None
        if func in ("open", "io.open") and node.args:
            mode = (
                node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and set(mode.value) & set("wax+"):
                target = paths.path(node.args[0])
        elif func in _PY_WRITERS and len(node.args) > _PY_WRITERS[func]:
            target = paths.path(node.args[_PY_WRITERS[func]])
        elif isinstance(node.func, ast.Attribute) and node.func.attr in _PATH_METHODS:
            target = paths.path(node.func.value)
        elif func.split(".")[-1] in _HF_DOWNLOADS:
            given = {k.arg: k.value for k in node.keywords}
            chosen = given.get("local_dir") or given.get("cache_dir")
            if chosen is not None:
                target = paths.path(chosen)
            else:
                cache = (
                    env.get("HF_HUB_CACHE") or env.get("HF_HOME") or (f"{home}/.cache/huggingface" if home else None)
                )
                target = posixpath.normpath(cache) if cache else None
        if target:
            yield Write(target, file, node.lineno, f"{func}()")


_JS_WRITERS = re.compile(
    r"(?:fs\.|fsp\.|promises\.)?(writeFileSync|appendFileSync|mkdirSync|writeFile|appendFile|mkdir|createWriteStream)"
    r"\(\s*([^,)]+)|new\s+(?:sqlite3\.)?Database\(\s*([^,)]+)"
)


def _js_path(expr: str, text: str, image_path: str, workdir: str, depth: int = 0) -> str | None:
    expr = expr.strip()
    if depth > 8:
        return None
    literal = re.fullmatch(r"""['"`]([^'"`$]*)['"`]""", expr)
    if literal:
        return posixpath.normpath(posixpath.join(workdir, literal.group(1))) if literal.group(1) != ":memory:" else None
    joined = re.fullmatch(r"path\.(?:join|resolve)\((.*)\)", expr)
    if joined:
        parts = [p.strip() for p in joined.group(1).split(",")]
        resolved = []
        for part in parts:
            if part == "__dirname":
                resolved.append(posixpath.dirname(image_path))
            else:
                value = _js_path(part, text, image_path, "", depth + 1)
                if value is None:
                    return None
                resolved.append(value)
        return posixpath.normpath(posixpath.join(workdir, *resolved))
    if re.fullmatch(r"[A-Za-z_$][\w$]*", expr):
        assigned = re.findall(rf"(?:const|let|var)\s+{re.escape(expr)}\s*=\s*([^;\n]+)", text)
        if assigned:
            return _js_path(assigned[-1], text, image_path, workdir, depth + 1)
    return None


def _js_writes(text: str, file: str, image_path: str, workdir: str) -> Iterator[Write]:
    for match in _JS_WRITERS.finditer(text):
        expr = match.group(2) or match.group(3)
        path = _js_path(expr, text, image_path, workdir)
        if path:
            yield Write(path, file, text.count("\n", 0, match.start()) + 1, f"{match.group(1) or 'new Database'}()")


_SH_REDIRECT = re.compile(r"(?<![0-9&<])>>?\s*(\"[^\"]+\"|'[^']+'|[^\s;&|]+)")


def _sh_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, logical line): continuation lines joined, comments dropped."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


_SH_ASSIGN = re.compile(r"^\s*(?:export\s+|readonly\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$")


def _sh_writes(text: str, file: str, workdir: str, env, made: Callable[[str], bool]) -> Iterator[Write]:
    env = dict(env)
    for number, line in _sh_lines(text):
        assigned = _SH_ASSIGN.match(line)
        if assigned:
            env[assigned.group(1)] = expand(assigned.group(2), env, missing_known=True)
            continue
        targets: list[tuple[str, str]] = []
        for match in _SH_REDIRECT.finditer(line):
            targets.append((match.group(1), "> redirection"))
        words = split(line) or []
        if words and words[0] in ("mkdir", "touch"):
            plain = [w for w in words[1:] if not w.startswith("-")]
            targets += [(w, words[0]) for w in plain]
        if words and words[0] == "sed" and any(w.startswith("-i") for w in words):
            targets += [(words[-1], "sed -i")]
        for word, what in targets:
            value = expand(word, env, missing_known=True)
            if not value or value.startswith("/dev/") or any(c in value for c in "*?$`(<"):
                continue
            path = posixpath.normpath(posixpath.join(workdir, value))
            if what == "mkdir" and made(path):
                continue  # `mkdir -p` of a folder the build made succeeds, whoever owns it
            yield Write(path, file, number, what)


@dataclass(frozen=True)
class Code:
    """A file of the app's own code that the command runs, or that code imports."""

    image_path: str
    file: str  # the Space file it comes from
    kind: str  # "py", "js" or "sh"
    text: str


def app_code(entry_files: list[tuple[str, str]], read: Callable[[str], tuple[str, str] | None]) -> list[Code]:
    """The code the command runs (`entry_files`: [(image path, kind)]), and the Python and Node files
    of the Space it imports, transitively."""
    seen: set[str] = set()
    found: list[Code] = []
    queue = list(entry_files)
    while queue and len(seen) < 60:
        image_path, kind = queue.pop(0)
        if image_path in seen:
            continue
        seen.add(image_path)
        located = read(image_path)
        if located is None:
            continue
        file, text = located
        found.append(Code(image_path, file, kind, text))
        if kind == "py":
            queue += [(path, "py") for path in _py_imports(text, image_path)]
        elif kind == "js":
            queue += [(path, "js") for path in _js_imports(text, image_path)]
    return found


def app_writes(
    code: list[Code],
    workdir: str,
    env: dict[str, str | None],
    home: str | None,
    made: Callable[[str], bool] = lambda path: False,
) -> list[Write]:
    """Where that code writes when it runs."""
    found: list[Write] = []
    for item in code:
        if item.kind == "py":
            found += _py_writes(item.text, item.file, item.image_path, workdir, env, home)
        elif item.kind == "js":
            found += _js_writes(item.text, item.file, item.image_path, workdir)
        else:
            found += _sh_writes(item.text, item.file, workdir, env, made)
    return found


def _py_imports(text: str, image_path: str) -> Iterator[str]:
    tree = parse_python(text)
    if tree is None:
        return
    here = posixpath.dirname(image_path)
    for node in ast.walk(tree):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [("." * node.level) + node.module]
        for module in modules:
            relative = module.lstrip(".").replace(".", "/")
            yield posixpath.join(here, relative + ".py")
            yield posixpath.join(here, relative, "__init__.py")


def _js_imports(text: str, image_path: str) -> Iterator[str]:
    here = posixpath.dirname(image_path)
    for match in re.finditer(r"""(?:require\(|from\s+|import\s*\()\s*['"](\.{1,2}/[^'"]+)['"]""", text):
        target = posixpath.normpath(posixpath.join(here, match.group(1)))
        yield target if posixpath.splitext(target)[1] else target + ".js"


def entry_files(words: list[str], workdir: str) -> list[tuple[str, str]]:
    """The code files a command runs, as (image path, kind): `python app.py`, `python -m pkg`,
    `uvicorn pkg.main:app`, `streamlit run app.py`, `node server.js`, `./start.sh`."""
    found: list[tuple[str, str]] = []

    def at(path: str) -> str:
        return posixpath.normpath(posixpath.join(workdir, path))

    for index, word in enumerate(words):
        name = posixpath.basename(word)
        rest = [w for w in words[index + 1 :] if not w.startswith("-")]
        if re.fullmatch(r"python[\d.]*", name):
            if index + 2 < len(words) and words[index + 1] == "-m" and words[index + 2] not in _SERVER_MODULES:
                found.append((at(words[index + 2].replace(".", "/") + "/__main__.py"), "py"))
                found.append((at(words[index + 2].replace(".", "/") + ".py"), "py"))
            elif rest and rest[0].endswith(".py"):
                found.append((at(rest[0]), "py"))
        elif name in _SERVER_MODULES:
            spec = next((w for w in rest if ":" in w and not w.startswith(("0.0.0.0", "127.", "["))), None)
            if spec:
                module = spec.split(":")[0].replace(".", "/")
                found.append((at(module + ".py"), "py"))
                found.append((at(module + "/__init__.py"), "py"))
        elif name == "streamlit" and "run" in rest:
            script = rest[rest.index("run") + 1] if len(rest) > rest.index("run") + 1 else None
            if script:
                found.append((at(script), "py"))
        elif name == "node" and rest:
            found.append((at(rest[0]) if posixpath.splitext(rest[0])[1] else at(rest[0] + ".js"), "js"))
            preloads = [w.partition("=")[2] for w in words[index + 1 :] if w.startswith(("--require=", "-r="))]
            found += [(at(preload), "js") for preload in preloads]  # run before the app, in its process
        elif word.endswith(".sh") and (index == 0 or posixpath.basename(words[index - 1]) in ("sh", "bash")):
            found.append((at(word), "sh"))
    return found


_SERVER_MODULES = ("uvicorn", "gunicorn", "hypercorn")

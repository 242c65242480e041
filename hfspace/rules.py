"""`hfspace validate`: the rules a Space folder is held to, each a small function over the Space.

Every finding is `path:line: severity rule-id message` plus a one-line fix. Rule ids are stable.

Space card (README.md front matter)
- card-missing            error    no README.md with YAML front matter at the folder root
- card-yaml               error    the front matter is not valid YAML, or not a mapping
- card-misplaced          error    a README.md with a Space card sits below the root (and the root has none)
- card-sdk                error    `sdk` missing or not one of gradio, docker, static
- card-unknown-key        warning  a key the Hub does not know (typo, or a key of another repo type)
- card-color              error    colorFrom/colorTo not one of the eight allowed colours
- card-app-port           error    app_port not an integer 1-65535
- card-app-port-unused    warning  app_port on a Space that is not `sdk: docker` (ignored there)
- card-startup-timeout    error    startup_duration_timeout not a duration such as 30m, 1h, 90s, 1h30m
- card-custom-headers     error    custom_headers other than the three COOP/COEP/CORP headers or their values
- card-short-description  warning  short_description longer than 60 characters (cut on the thumbnail)
- card-hardware           error    suggested_hardware not a known hardware flavour
- card-base-path          error    base_path not starting with `/`
- card-emoji              error    emoji not made of emoji only
Files the platform needs
- docker-missing          error    `sdk: docker` without a file named exactly `Dockerfile` at the root
- static-app-file         error    `sdk: static` without its app_file (default index.html)
- dockerfile-parse        error    the Dockerfile cannot be read, or has no FROM
Listening
- port-mismatch           error    the port the image listens on by default is not app_port
- bind-localhost          error    the server binds 127.0.0.1/localhost, unreachable from the proxy
- flask-dev-server        error    the command is Flask's development server
User and files
- docker-user             error    the final stage's USER is not uid 1000 (the uid the platform runs as)
- docker-no-user          warning  the final stage sets no USER: what it creates belongs to root
- docker-useradd-node     error    useradd/groupadd with id 1000 on a node base, which already has uid 1000
- docker-copy-chown       warning  COPY/ADD into the app's WORKDIR without --chown (files stay root's, read-only)
- docker-chown-recursive  warning  `chown -R` in a RUN (duplicates every file into a new layer)
Image hygiene
- docker-base-unpinned    warning  a base image without a tag, or `latest` (after resolving ARG defaults)
- docker-shell-form       warning  shell-form CMD/ENTRYPOINT
- docker-npm-start        warning  `npm start`/`npm run` as the command
- docker-npm-install      warning  `npm install` in a RUN instead of `npm ci`
Secrets
- docker-secret           error    ENV/ARG with a secret-like name and a value (baked into the image)
- docker-build-arg-secret warning  ARG with a secret-like name (build args land in the image history)
- docker-env-copied       error    a `.env` exists and a COPY/ADD brings it into the image
- dockerignore-env        warning  `COPY .` (or similar) and `.dockerignore` does not exclude `.env`
Upload
- gitignore-drops         error    the folder's .gitignore drops a file the image (or static app) needs
- gitignore-env           error    a `.env` exists and the folder's .gitignore does not keep it out of the upload
- file-large              warning  a file over 10 MB (goes through LFS/Xet; the client handles it)
- space-too-large         error    the upload is over 1 GB (the Hub refuses such repos)
Health
- healthcheck-missing     warning  no HEALTHCHECK in the final stage
- healthcheck-port        error    the HEALTHCHECK probes a port other than app_port

Severity decisions: shell-form CMD, `npm start` and `npm install` are warnings, not errors: the Space
still builds and serves; the cost is a lost SIGTERM (a 10 s kill on every restart) or an unlocked
install. `.env`: an error when a `.env` exists and would land in the image (a leak today), a warning when
none exists yet but `COPY .` would take the next one. HEALTHCHECK findings: the platform does not use
Docker's HEALTHCHECK, so a missing one only warns; one aimed at the wrong port is an error because it
marks a healthy container unhealthy wherever Docker runs it.

Server defaults used when the command does not say: gunicorn binds 127.0.0.1:8000 unless `PORT` is set
(then 0.0.0.0:$PORT); uvicorn 127.0.0.1:8000; `flask run` 127.0.0.1:5000; streamlit port 8501. A value
that cannot be evaluated statically (a gunicorn.conf.py `bind` computed from the environment, a build
argument without a default) is unknown and yields no finding.

HF_SPACES.md rules not implemented, and why:
- Dev Mode's wishes (code in /app, bash/curl/git in the image): optional feature, not a failure.
- Outbound ports 80/443/8080 only, iframe headers (X-Frame-Options/CSP), X-Forwarded-Proto, `HEAD /`
  answering 200: runtime behaviour of the app, checked by `hfspace check` against a running server.
- Types of the other card keys (pinned, tags, license ids, hf_oauth_*, preload_from_hub): the Hub
  validates them on push with a clear message; no local trap hides there.
- Nested .gitignore files: only the folder's own root .gitignore is applied.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dockerfile_parse.util import extract_key_values

from hfspace.errors import HfspaceError
from hfspace.spaces import Instruction, Space, arg_pairs, load, parse_duration

ERROR = "error"
WARNING = "warning"

SDKS = ("gradio", "docker", "static")
KNOWN_KEYS = {
    "title", "emoji", "colorFrom", "colorTo", "sdk", "app_port", "base_path", "fullWidth", "header",
    "short_description", "pinned", "license", "tags", "models", "datasets", "thumbnail", "suggested_hardware",
    "suggested_storage", "startup_duration_timeout", "custom_headers", "disable_embedding", "hf_oauth",
    "hf_oauth_scopes", "hf_oauth_expiration_minutes", "preload_from_hub", "python_version", "sdk_version",
    "app_file", "app_build_command",
    "duplicated_from",  # written by the Hub itself when a Space is duplicated
}  # fmt: skip
COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
HARDWARE = (
    "cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "l4x4", "l40sx1", "l40sx4", "l40sx8",
    "a10g-small", "a10g-large", "a10g-largex2", "a10g-largex4", "a100-large", "a100x4", "a100x8",
)  # fmt: skip
CUSTOM_HEADERS = {
    "cross-origin-embedder-policy": ("unsafe-none", "require-corp", "credentialless"),
    "cross-origin-opener-policy": ("same-origin", "same-origin-allow-popups", "unsafe-none"),
    "cross-origin-resource-policy": ("same-site", "same-origin", "cross-origin"),
}
SHORT_DESCRIPTION_MAX = 60
LARGE_FILE = 10 * 1024 * 1024
TOO_LARGE = 1024 * 1024 * 1024
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "ip6-localhost")
# Name parts that make an ENV/ARG a secret; whole parts, so TOKENIZERS_PARALLELISM is not one.
_SECRET_PARTS = {"TOKEN", "TOKENS", "SECRET", "SECRETS", "KEY", "KEYS", "APIKEY", "PASSWORD", "PASSWD",
                 "PASSPHRASE", "CREDENTIAL", "CREDENTIALS"}  # fmt: skip
# Where a secret is, not what it is: SSL_KEY_FILE=/run/secrets/key is the right pattern.
_SECRET_LOCATION = ("_FILE", "_PATH", "_DIR")
# Local settings files that hold secrets; the templates next to them do not.
_ENV_TEMPLATES = {".env.example", ".env.sample", ".env.template", ".env.dist"}


@dataclass(frozen=True)
class Finding:
    path: str  # as displayed: the folder as given, then the file inside it
    line: int
    severity: str
    rule: str
    message: str
    fix: str

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("path", "line", "severity", "rule", "message", "fix")}


@dataclass(frozen=True)
class Hit:
    """What a rule function yields: a file inside the Space, a line, what is wrong, how to fix it."""

    file: str
    line: int
    message: str
    fix: str


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    check: Callable[[Context], Iterable[Hit]]


RULES: list[Rule] = []


def rule(rule_id: str, severity: str):
    def register(check: Callable[[Context], Iterable[Hit]]):
        RULES.append(Rule(rule_id, severity, check))
        return check

    return register


@dataclass
class Report:
    folder: str  # as given on the command line
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    def as_dict(self) -> dict:
        return {"folder": self.folder, "errors": self.errors, "warnings": self.warnings}


def validate(path: str | os.PathLike) -> Report:
    """Validate one Space folder. Raises HfspaceError (exit code 2) when it is not a folder."""
    given = os.fspath(path)
    if not Path(given).is_dir():
        raise HfspaceError(
            f"{given} is not a folder", hint="pass the folder that holds the Space's README.md", exit_code=2
        )
    return validate_space(load(given), given)


def validate_space(space: Space, shown_as: str) -> Report:
    """Validate a Space already read; finding paths start with `shown_as` (the folder as the user named it)."""
    context = Context(space)
    report = Report(folder=shown_as)
    for entry in RULES:
        for hit in entry.check(context):
            shown = (Path(shown_as) / hit.file).as_posix()
            report.findings.append(Finding(shown, hit.line, entry.severity, entry.id, hit.message, hit.fix))
    report.findings.sort(key=lambda f: (f.path, f.line, f.rule))
    return report


# --- reading what the rules share --------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:\{(\w+)(?:(:?[-+])([^}]*))?\}|(\w+))")


def expand(text: str, env: dict[str, str | None]) -> str | None:
    """Docker-style `$VAR`, `${VAR}`, `${VAR:-default}` substitution; None when a variable is unknown."""
    unknown = False

    def substitute(match: re.Match) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(4)
        op, word = match.group(2), match.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            use_default = not value if op == ":-" else value is None
            if use_default:
                word = expand(word or "", env)
                unknown = unknown or word is None
                return word or ""
            return value or ""
        if op in (":+", "+"):
            return (word or "") if (value if op == ":+" else value is not None) else ""
        if value is None:
            unknown = True
            return ""
        return value

    result = _VAR.sub(substitute, text)
    return None if unknown else result


def _words(value: str) -> list[str]:
    try:
        return shlex.split(value, comments=False)
    except ValueError:
        return value.split()


def _exec_form(value: str) -> list[str] | None:
    """The argv of an exec-form (JSON array) CMD/ENTRYPOINT, None for shell form."""
    text = value.strip()
    if not text.startswith("["):
        return None
    try:
        argv = json.loads(text)
    except ValueError:
        return None
    return argv if isinstance(argv, list) and all(isinstance(a, str) for a in argv) else None


def _docker_glob(pattern: str) -> re.Pattern:
    """A .dockerignore / COPY source pattern (Go filepath.Match plus `**`) as a regex over a POSIX path."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _clean(pattern: str) -> str:
    cleaned = os.path.normpath(pattern.strip().lstrip("/")).replace(os.sep, "/")
    return "" if cleaned == "." else cleaned


def _self_or_parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        yield "/".join(parts[:end])


def dockerignored(path: str, patterns: list[str] | None) -> bool:
    """Whether Docker leaves `path` out of the build context (last matching pattern wins, parents count)."""
    excluded = False
    for raw in patterns or []:
        negate = raw.startswith("!")
        pattern = _clean(raw[1:] if negate else raw)
        if not pattern:
            continue
        regex = _docker_glob(pattern)
        if any(regex.match(p) for p in _self_or_parents(path)):
            excluded = not negate
    return excluded


def _secret_name(name: str) -> bool:
    upper = name.upper()
    if upper.endswith(_SECRET_LOCATION):
        return False
    parts = set(re.split(r"[^A-Z0-9]+", upper))
    return bool(parts & _SECRET_PARTS) or upper.endswith(("TOKEN", "SECRET", "PASSWORD", "APIKEY"))


@dataclass
class Stage:
    index: int
    from_line: Instruction
    image: str | None  # the base, ARG defaults resolved; None when it cannot be resolved
    image_arg: Instruction | None  # the global ARG the base came from
    alias: str | None
    parent: Stage | None  # the earlier stage this one builds FROM
    instructions: list[Instruction]

    def chain(self) -> list[Stage]:
        """This stage and the stages it builds on, oldest first."""
        return ([*self.parent.chain()] if self.parent else []) + [self]

    def root_image(self) -> str | None:
        return self.parent.root_image() if self.parent else self.image


@dataclass
class Listen:
    host: str | None = None
    host_at: tuple[str, int] | None = None  # (file in the Space, line)
    port: int | None = None
    port_at: tuple[str, int] | None = None
    explicit_port: bool = False


class Context:
    """The Space plus what several rules derive from it (the stages, the command, the ignore sets)."""

    def __init__(self, space: Space) -> None:
        self.space = space

    # ---- card
    @property
    def card(self) -> dict:
        return self.space.card.data if self.space.card else {}

    def card_line(self, key: str) -> int:
        return self.space.card.line(key) if self.space.card else 1

    @property
    def docker(self) -> bool:
        """Whether the Docker rules apply: `sdk: docker`, or no readable sdk and a Dockerfile."""
        return self.space.sdk == "docker" or (self.space.sdk not in SDKS and self.space.dockerfile_path is not None)

    # ---- Dockerfile
    @cached_property
    def global_args(self) -> dict[str, tuple[str | None, Instruction]]:
        found = {}
        for ins in self.space.instructions:
            if ins.instruction == "FROM":
                break
            if ins.instruction == "ARG":
                for name, value in arg_pairs(ins.value):
                    found[name] = (value, ins)
        return found

    @cached_property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        for ins in self.space.instructions:
            if ins.instruction == "FROM":
                words = [w for w in ins.value.split() if not w.startswith("--")]
                ref = words[0] if words else ""
                alias = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
                parent = next((s for s in stages if s.alias and s.alias == ref.lower()), None)
                arg = next((self.global_args[n][1] for n in _var_names(ref) if n in self.global_args), None)
                args = {n: v for n, (v, _) in self.global_args.items()}
                image = None if parent else expand(ref, args)
                stages.append(Stage(len(stages), ins, image, arg, alias, parent, []))
            elif stages:
                stages[-1].instructions.append(ins)
        return stages

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def final_chain(self) -> list[Instruction]:
        """The final stage's instructions, those of the stages it builds on first."""
        return [ins for stage in (self.final.chain() if self.final else []) for ins in stage.instructions]

    @cached_property
    def env(self) -> dict[str, str | None]:
        """ENV and ARG values in effect at the end of the final stage (None: a build arg without a default)."""
        env: dict[str, str | None] = {}
        for ins in self.final_chain():
            if ins.instruction == "ARG":
                for name, value in arg_pairs(ins.value):
                    default = value if value is not None else self.global_args.get(name, (None,))[0]
                    env[name] = None if default is None else expand(default, env)
            elif ins.instruction == "ENV":
                for name, value in _env_pairs(ins.value):
                    env[name] = expand(value, env)
        return env

    def env_line(self, name: str) -> int | None:
        line = None
        for ins in self.final_chain():
            if ins.instruction == "ENV" and any(n == name for n, _ in _env_pairs(ins.value)):
                line = ins.line
        return line

    def last(self, name: str) -> Instruction | None:
        found = [i for i in self.final_chain() if i.instruction == name]
        return found[-1] if found else None

    @cached_property
    def command(self) -> tuple[list[str], Instruction | None]:
        """The words of what the container runs (ENTRYPOINT then CMD), shells unwrapped, and its instruction."""
        entry, cmd = self.last("ENTRYPOINT"), self.last("CMD")
        words = self.space.command() or []  # as Docker combines them (and as `hfspace up` runs it)
        if len(words) >= 3 and Path(words[0]).name in ("sh", "bash", "dash") and words[1] in ("-c", "-ec", "-lc"):
            words = _words(words[2]) + words[3:]
        words = [w for w in words if w not in ("exec", "&&", ";")]
        return words, cmd or entry

    @cached_property
    def workdir(self) -> str | None:
        ins = self.last("WORKDIR")
        return expand(ins.value.strip(), self.env) if ins else None

    def space_file(self, path: str) -> Path | None:
        """A path as the image sees it (maybe absolute under WORKDIR), mapped back to a file in the Space."""
        relative = path.strip()
        workdir = (self.workdir or "").rstrip("/")
        if workdir and relative.startswith(workdir + "/"):
            relative = relative[len(workdir) + 1 :]
        candidate = self.space.root / os.path.normpath(relative.lstrip("/"))
        if candidate.is_file():
            return candidate
        by_name = self.space.root / Path(relative).name
        return by_name if by_name.is_file() else None

    @cached_property
    def copies(self) -> list[tuple[Instruction, list[str], str, dict[str, str]]]:
        """Every COPY/ADD from the build context: (instruction, sources, destination, flags)."""
        found = []
        for ins in self.space.instructions:
            if ins.instruction not in ("COPY", "ADD"):
                continue
            words = _exec_form(ins.value) or _words(ins.value)
            flags = {}
            while words and words[0].startswith("--"):
                name, _, value = words.pop(0)[2:].partition("=")
                flags[name] = value
            if "from" in flags or len(words) < 2:
                continue
            sources = [w for w in words[:-1] if "://" not in w]
            found.append((ins, sources, words[-1], flags))
        return found

    def copied(self, path: str) -> bool:
        """Whether some COPY/ADD from the build context takes `path` (before .dockerignore)."""
        for _, sources, _, _ in self.copies:
            for source in sources:
                pattern = _clean(source)
                if not pattern:
                    return True
                regex = _docker_glob(pattern)
                if any(regex.match(p) for p in _self_or_parents(path)):
                    return True
        return False

    def needed_files(self) -> list[str]:
        """Files the build needs from the folder: copied into the image and sent by .dockerignore."""
        ignore = self.space.dockerignore
        return [f for f in self.space.files if self.copied(f) and not dockerignored(f, ignore)]

    @cached_property
    def git_ignored(self) -> dict[str, tuple[int, str]]:
        """Files the folder's .gitignore drops from the upload: path -> (.gitignore line, pattern)."""
        if not self.space.gitignore or not self.space.files:
            return {}
        return _check_ignore(self.space.root / ".gitignore", [*self.space.files, ".env"])

    @cached_property
    def listen(self) -> Listen:
        return _listen(self)


def _var_names(text: str) -> list[str]:
    return [m.group(1) or m.group(4) for m in _VAR.finditer(text)]


def _env_pairs(value: str) -> list[tuple[str, str]]:
    try:
        return extract_key_values(False, {}, {}, value)
    except (ValueError, IndexError):
        return []


def _check_ignore(gitignore: Path, paths: list[str]) -> dict[str, tuple[int, str]]:
    """Ask git itself which paths the .gitignore matches (negations and directory rules included)."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    with tempfile.TemporaryDirectory(prefix="hfspace-gitignore-") as tmp:
        try:
            subprocess.run(["git", "init", "-q", tmp], check=True, env=env, capture_output=True, timeout=30)  # noqa: S603, S607
            Path(tmp, ".gitignore").write_bytes(gitignore.read_bytes())
            done = subprocess.run(  # noqa: S603
                ["git", "-C", tmp, "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],  # noqa: S607
                input="\0".join(paths) + "\0",
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            return {}
    fields = done.stdout.split("\0")
    ignored = {}
    for source, line, pattern, path in zip(fields[0::4], fields[1::4], fields[2::4], fields[3::4], strict=False):
        if source and pattern and not pattern.startswith("!"):
            ignored[path] = (int(line), pattern)
    return ignored


# --- listening: which host and port the image serves on by default ---------------------------------------

_PORT_OPTIONS = ("--port", "-p", "--server.port", "--http-port")
_HOST_OPTIONS = ("--host", "--server.address", "--address")
_BIND_OPTIONS = ("-b", "--bind")


def _option(words: list[str], names: tuple[str, ...]) -> str | None:
    value = None
    for index, word in enumerate(words):
        name, eq, inline = word.partition("=")
        if name in names:
            if eq:
                value = inline
            elif index + 1 < len(words):
                value = words[index + 1]
    return value


def _program(words: list[str]) -> str | None:
    for index, word in enumerate(words):
        name = Path(word).name
        if re.fullmatch(r"python[\d.]*", name) and index + 2 < len(words) and words[index + 1] == "-m":
            return words[index + 2]
        if name in ("gunicorn", "uvicorn", "flask", "streamlit", "hypercorn"):
            return name
    return None


def _split_bind(bind: str) -> tuple[str | None, str | None]:
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


def _port(text: str | None, env: dict) -> int | None:
    value = expand(text, env) if text is not None else None
    return int(value) if value and value.isdigit() else None


def _gunicorn_config_bind(context: Context, words: list[str]) -> tuple[str | None, int, Path] | None:
    """`bind` from the gunicorn config the command uses: (value or None when computed, line, file); None if unset."""
    name = _option(words, ("-c", "--config")) or "gunicorn.conf.py"
    if name.startswith("python:"):
        return None
    path = context.space_file(name)
    if path is None:
        return None
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "bind" for t in targets):
            value = node.value
            if isinstance(value, (ast.List, ast.Tuple)) and value.elts:
                value = value.elts[0]
            literal = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
            return literal, node.lineno, path
    return None


def _listen(context: Context) -> Listen:
    words, ins = context.command
    env = context.env
    listen = Listen()
    if not words or ins is None:
        return listen
    at = ("Dockerfile", ins.line)
    program = _program(words)

    def set_host(host: str | None, where: tuple[str, int]) -> None:
        if listen.host is None and host is not None:
            value = expand(host, env)
            if value is not None:
                listen.host, listen.host_at = value, where

    def set_port(port: str | int | None, where: tuple[str, int], explicit: bool = True) -> None:
        if listen.port is None and port is not None:
            value = port if isinstance(port, int) else _port(port, env)
            if value is not None:
                listen.port, listen.port_at, listen.explicit_port = value, where, explicit

    bind = _option(words, _BIND_OPTIONS)
    if bind is not None:
        host, port = _split_bind(bind)
        set_host(host, at)
        set_port(port, at)
    set_host(_option(words, _HOST_OPTIONS), at)
    set_port(_option(words, _PORT_OPTIONS), at)
    if program == "http.server":
        after = words[words.index("http.server") + 1 :]
        positional = [w for i, w in enumerate(after) if not w.startswith("-") and (i == 0 or after[i - 1] != "--bind")]
        set_port(positional[0] if positional else "8000", at)

    def env_default(name: str, fallback: str | None) -> tuple[str | None, tuple[str, int]]:
        if name in env:
            return env[name], ("Dockerfile", context.env_line(name) or ins.line)
        return fallback, at

    if program == "gunicorn":
        extra = env.get("GUNICORN_CMD_ARGS")
        if extra:
            host, port = _split_bind(_option(_words(extra), _BIND_OPTIONS) or "")
            where = ("Dockerfile", context.env_line("GUNICORN_CMD_ARGS") or ins.line)
            set_host(host, where)
            set_port(port, where)
        configured = _gunicorn_config_bind(context, words)
        if configured is not None:
            literal, line, path = configured
            if literal is None:  # computed at start-up: unknown, except through PORT below
                set_port(*env_default("PORT", None), explicit=False)
                return listen
            host, port = _split_bind(literal)
            where = (path.relative_to(context.space.root).as_posix(), line)
            set_host(host, where)
            set_port(port or "8000", where)
        if "PORT" in env:  # gunicorn's own default: 0.0.0.0:$PORT when PORT is set
            set_host("0.0.0.0", ("Dockerfile", context.env_line("PORT") or ins.line))
            set_port(*env_default("PORT", None))
        set_host("127.0.0.1", at)
        set_port("8000", at)
    elif program == "uvicorn":
        set_host(*env_default("UVICORN_HOST", "127.0.0.1"))
        set_port(*env_default("UVICORN_PORT", "8000"))
    elif program == "flask":
        set_host(*env_default("FLASK_RUN_HOST", "127.0.0.1"))
        set_port(*env_default("FLASK_RUN_PORT", "5000"))
    elif program == "streamlit":
        set_port(*env_default("STREAMLIT_SERVER_PORT", "8501"))
    else:  # an app that reads its own configuration: the usual HOST and PORT
        if "HOST" in env:
            set_host(*env_default("HOST", None))
        if "PORT" in env:
            set_port(*env_default("PORT", None), explicit=False)
    return listen


# --- the Space card ---------------------------------------------------------------------------------------


def _nested_cards(context: Context) -> list[str]:
    found = []
    for path in context.space.files:
        if "/" in path and Path(path).name.lower() == "readme.md":
            text = (context.space.root / path).read_text(errors="replace")
            if text.startswith("---") and re.search(r"(?m)^sdk\s*:", text.split("\n---", 1)[0]):
                found.append(path)
    return found


@rule("card-missing", ERROR)
def card_missing(context: Context) -> Iterator[Hit]:
    space = context.space
    if space.card is None and not _is_yaml_error(space) and not _nested_cards(context):
        yield Hit(
            "README.md",
            1,
            space.card_error or "no Space card",
            "start README.md with a `---` block holding at least `sdk: docker` (or static)",
        )


def _is_yaml_error(space: Space) -> bool:
    return bool(space.card_error) and space.card_error.startswith("front matter is not")


@rule("card-yaml", ERROR)
def card_yaml(context: Context) -> Iterator[Hit]:
    space = context.space
    if _is_yaml_error(space):
        yield Hit(
            "README.md",
            space.card_error_line,
            space.card_error,
            "fix the YAML between the two `---` lines (key: value, one per line)",
        )


@rule("card-misplaced", ERROR)
def card_misplaced(context: Context) -> Iterator[Hit]:
    if context.space.card is not None or _is_yaml_error(context.space):
        return
    for path in _nested_cards(context):
        yield Hit(
            path,
            1,
            "this README.md holds a Space card, but the Hub only reads the one at the Space root",
            "move it to the folder root",
        )


@rule("card-sdk", ERROR)
def card_sdk(context: Context) -> Iterator[Hit]:
    if context.space.card is None:
        return
    sdk = context.card.get("sdk")
    if sdk is None:
        yield Hit(
            "README.md", context.card_line("sdk"), "the card has no `sdk`", "add `sdk: docker` (or gradio, static)"
        )
    elif sdk not in SDKS:
        yield Hit(
            "README.md",
            context.card_line("sdk"),
            f"sdk `{sdk}` is not one of {', '.join(SDKS)}",
            "use `sdk: docker` (Streamlit runs as a Docker Space now)",
        )


@rule("card-unknown-key", WARNING)
def card_unknown_key(context: Context) -> Iterator[Hit]:
    for key in context.card:
        if str(key) not in KNOWN_KEYS:
            close = [k for k in KNOWN_KEYS if k.lower() == str(key).lower().replace("-", "_")]
            fix = (
                f"rename it to `{close[0]}`"
                if close
                else "remove it, or check the spelling against the Spaces config reference"
            )
            yield Hit("README.md", context.card_line(str(key)), f"unknown card key `{key}`", fix)


@rule("card-color", ERROR)
def card_color(context: Context) -> Iterator[Hit]:
    for key in ("colorFrom", "colorTo"):
        if key in context.card and context.card[key] not in COLORS:
            yield Hit(
                "README.md",
                context.card_line(key),
                f"{key} `{context.card[key]}` is not an allowed colour",
                f"use one of {', '.join(COLORS)}",
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@rule("card-app-port", ERROR)
def card_app_port(context: Context) -> Iterator[Hit]:
    if "app_port" in context.card:
        value = context.card["app_port"]
        if not (_is_int(value) and 1 <= value <= 65535):
            yield Hit(
                "README.md",
                context.card_line("app_port"),
                f"app_port `{value}` is not an integer from 1 to 65535",
                "set `app_port: 7860` (unquoted), the port the app listens on",
            )


@rule("card-app-port-unused", WARNING)
def card_app_port_unused(context: Context) -> Iterator[Hit]:
    sdk = context.space.sdk
    if "app_port" in context.card and sdk in SDKS and sdk != "docker":
        yield Hit(
            "README.md",
            context.card_line("app_port"),
            f"app_port only applies to Docker Spaces; this one is `sdk: {sdk}`",
            "remove app_port",
        )


@rule("card-startup-timeout", ERROR)
def card_startup_timeout(context: Context) -> Iterator[Hit]:
    if "startup_duration_timeout" in context.card:
        value = context.card["startup_duration_timeout"]
        if not (isinstance(value, str) and parse_duration(value)):
            yield Hit(
                "README.md",
                context.card_line("startup_duration_timeout"),
                f"startup_duration_timeout `{value}` is not a duration",
                "write it as a number and a unit, such as `30m` or `1h`",
            )


@rule("card-custom-headers", ERROR)
def card_custom_headers(context: Context) -> Iterator[Hit]:
    if "custom_headers" not in context.card:
        return
    line = context.card_line("custom_headers")
    headers = context.card["custom_headers"]
    if not isinstance(headers, dict):
        yield Hit(
            "README.md",
            line,
            "custom_headers is not a mapping of header names to values",
            "write one `header-name: value` per line under custom_headers",
        )
        return
    for name, value in headers.items():
        allowed = CUSTOM_HEADERS.get(str(name))
        if allowed is None:
            hint = " (CORS headers must come from the app itself)" if "access-control" in str(name).lower() else ""
            fix = (
                f"use the lowercase name `{str(name).lower()}`"
                if str(name).lower() in CUSTOM_HEADERS
                else f"remove it{hint}; only {', '.join(CUSTOM_HEADERS)} can be set"
            )
            yield Hit("README.md", line, f"custom_headers cannot set `{name}`", fix)
        elif value not in allowed:
            yield Hit(
                "README.md",
                line,
                f"custom_headers `{name}: {value}` is not an allowed value",
                f"use one of {', '.join(allowed)}",
            )


@rule("card-short-description", WARNING)
def card_short_description(context: Context) -> Iterator[Hit]:
    value = context.card.get("short_description")
    if value is not None and len(str(value)) > SHORT_DESCRIPTION_MAX:
        yield Hit(
            "README.md",
            context.card_line("short_description"),
            f"short_description has {len(str(value))} characters; the thumbnail shows about {SHORT_DESCRIPTION_MAX}",
            f"shorten it to {SHORT_DESCRIPTION_MAX} characters or fewer",
        )


@rule("card-hardware", ERROR)
def card_hardware(context: Context) -> Iterator[Hit]:
    if "suggested_hardware" in context.card and context.card["suggested_hardware"] not in HARDWARE:
        yield Hit(
            "README.md",
            context.card_line("suggested_hardware"),
            f"suggested_hardware `{context.card['suggested_hardware']}` is not a known hardware flavour",
            "use one such as cpu-basic, cpu-upgrade, t4-small, l4x1, a10g-small",
        )


@rule("card-base-path", ERROR)
def card_base_path(context: Context) -> Iterator[Hit]:
    value = context.card.get("base_path")
    if "base_path" in context.card and not (isinstance(value, str) and value.startswith("/")):
        yield Hit(
            "README.md",
            context.card_line("base_path"),
            f"base_path `{value}` does not start with `/`",
            f"write it as `/{str(value).lstrip('/')}`",
        )


def _emoji_only(text: str) -> bool:
    joiners = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}
    has_symbol = False
    for char in text:
        category = unicodedata.category(char)
        if category == "So":
            has_symbol = True
        elif not (char in joiners or category in ("Sk", "Mn", "Me") or 0xE0020 <= ord(char) <= 0xE007F):
            return False
    return has_symbol


@rule("card-emoji", ERROR)
def card_emoji(context: Context) -> Iterator[Hit]:
    if "emoji" in context.card:
        value = context.card["emoji"]
        if not (isinstance(value, str) and _emoji_only(value.strip())):
            yield Hit(
                "README.md",
                context.card_line("emoji"),
                f"emoji `{value}` is not an emoji",
                "use a single emoji, such as 🚀",
            )


# --- the files the platform needs -------------------------------------------------------------------------


@rule("docker-missing", ERROR)
def docker_missing(context: Context) -> Iterator[Hit]:
    if context.space.sdk != "docker" or context.space.dockerfile_path is not None:
        return
    near = [
        f
        for f in context.space.files
        if Path(f).name.lower().startswith("dockerfile") or f.lower().endswith(".dockerfile")
    ]
    fix = (
        f"rename `{near[0]}` to `Dockerfile` at the folder root (exact name, case matters)"
        if near
        else "add a `Dockerfile` at the folder root"
    )
    yield Hit(
        "README.md",
        context.card_line("sdk"),
        "`sdk: docker` but there is no `Dockerfile` at the folder root (the Space would stop at NO_APP_FILE)",
        fix,
    )


@rule("static-app-file", ERROR)
def static_app_file(context: Context) -> Iterator[Hit]:
    if context.space.sdk != "static" or "app_build_command" in context.card:
        return
    app_file = str(context.card.get("app_file") or "index.html")
    if app_file.lstrip("/") not in context.space.files:
        yield Hit(
            "README.md",
            context.card_line("app_file" if "app_file" in context.card else "sdk"),
            f"`sdk: static` but its app_file `{app_file}` is not in the folder",
            f"add `{app_file}`, or point app_file at the page to serve",
        )


@rule("dockerfile-parse", ERROR)
def dockerfile_parse(context: Context) -> Iterator[Hit]:
    if not context.docker or context.space.dockerfile_path is None:
        return
    if context.space.dockerfile_error:
        yield Hit(
            "Dockerfile",
            1,
            context.space.dockerfile_error,
            "save the Dockerfile as UTF-8 text and check it with `docker build`",
        )
    elif not context.stages:
        yield Hit(
            "Dockerfile", 1, "the Dockerfile has no FROM instruction", "start it with a FROM naming a pinned base image"
        )


# --- listening ---------------------------------------------------------------------------------------------


@rule("port-mismatch", ERROR)
def port_mismatch(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    listen, app_port = context.listen, context.space.app_port
    if listen.port is not None and listen.port != app_port:
        file, line = listen.port_at
        told = "the card's app_port" if "app_port" in context.card else "the default app_port"
        yield Hit(
            file,
            line,
            f"the image listens on port {listen.port} but {told} is {app_port}",
            f"listen on {app_port}, or set `app_port: {listen.port}` in the card",
        )


@rule("bind-localhost", ERROR)
def bind_localhost(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    host = context.listen.host
    if host is not None and host.strip("[]").lower() in LOCAL_HOSTS:
        file, line = context.listen.host_at
        yield Hit(
            file,
            line,
            f"the server binds {host}, which the Space proxy cannot reach",
            "bind 0.0.0.0 (e.g. `--host 0.0.0.0` or `-b 0.0.0.0:7860`)",
        )


def _calls_flask_run(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return False
    imports_flask = any(
        (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "flask")
        or (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "flask" for a in n.names))
        for n in ast.walk(tree)
    )
    not_flask = {"uvicorn", "asyncio", "anyio", "trio", "subprocess", "waitress", "hypercorn"}
    runs = any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "run"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id not in not_flask
        for n in ast.walk(tree)
    )
    return imports_flask and runs


@rule("flask-dev-server", ERROR)
def flask_dev_server(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    words, ins = context.command
    if ins is None:
        return
    fix = 'serve the app with gunicorn: CMD ["gunicorn", "-b", "0.0.0.0:7860", "app:app"]'
    program = _program(words)
    if program == "flask" and "run" in words:
        yield Hit("Dockerfile", ins.line, "the command is Flask's development server (`flask run`)", fix)
        return
    for index, word in enumerate(words):
        if (
            re.fullmatch(r"python[\d.]*", Path(word).name)
            and index + 1 < len(words)
            and words[index + 1].endswith(".py")
        ):
            script = context.space_file(words[index + 1])
            if script is not None and _calls_flask_run(script):
                yield Hit(
                    "Dockerfile",
                    ins.line,
                    f"the command runs {words[index + 1]}, which starts Flask's development server (`app.run(`)",
                    fix,
                )
            return


# --- user and file ownership ------------------------------------------------------------------------------


def _account_commands(context: Context) -> Iterator[tuple[Instruction, str, list[str]]]:
    """useradd/adduser/groupadd commands in the final stage's RUNs: (instruction, program, words)."""
    for ins in context.final_chain():
        if ins.instruction != "RUN":
            continue
        for segment in re.split(r"&&|\|\||;|\|", ins.value):
            words = _words(segment)
            while words and words[0] in ("sudo", "exec"):
                words.pop(0)
            if words and words[0] in ("useradd", "adduser", "groupadd", "addgroup"):
                yield ins, words[0], words[1:]


def _account_id(words: list[str], program: str) -> int | None:
    names = ("-u", "--uid") if program in ("useradd", "adduser") else ("-g", "--gid")
    value = _option(words, names)
    if value is None:
        for word in words:
            if re.fullmatch(rf"{names[0]}\d+", word):
                value = word[2:]
    return int(value) if value and value.isdigit() else None


def _node_base(context: Context) -> bool:
    image = context.final.root_image() if context.final else None
    if not image:
        return False
    name = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    return name == "node"


def _uid_of(context: Context, user: str) -> int | None:
    name = user.split(":")[0]
    if name.isdigit():
        return int(name)
    if name == "root":
        return 0
    if name == "node" and _node_base(context):
        return 1000
    uid = None
    for _, program, words in _account_commands(context):
        if program in ("useradd", "adduser") and words and [w for w in words if not w.startswith("-")][-1:] == [name]:
            uid = _account_id(words, program)
    return uid


_USER_FIX = "add `USER 1000` (after `useradd -m -u 1000 user`, or `USER node` on a node base) before CMD"


@rule("docker-no-user", WARNING)
def docker_no_user(context: Context) -> Iterator[Hit]:
    # A warning: the platform runs the container as uid 1000 anyway (and a base may set
    # its own USER); what breaks is writing to what the build created as root.
    if context.docker and context.stages and context.last("USER") is None:
        yield Hit(
            "Dockerfile",
            context.final.from_line.line,
            "the final stage sets no USER: the files it creates are root's, and the app (uid 1000 on the "
            "platform) cannot write them",
            _USER_FIX,
        )


@rule("docker-user", ERROR)
def docker_user(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    ins = context.last("USER")
    fix = _USER_FIX
    if ins is None:
        return  # docker-no-user
    user = expand(ins.value.strip(), context.env)
    uid = _uid_of(context, user) if user else None
    if uid is not None and uid != 1000:
        yield Hit("Dockerfile", ins.line, f"USER {user} is uid {uid}; the platform runs the container as uid 1000", fix)


@rule("docker-useradd-node", ERROR)
def docker_useradd_node(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages or not _node_base(context):
        return
    for ins, program, words in _account_commands(context):
        if _account_id(words, program) == 1000:
            kind = "GID" if program in ("groupadd", "addgroup") else "UID"
            yield Hit(
                "Dockerfile",
                ins.line,
                f'`{program}` with id 1000 on a node base fails ("{kind} 1000 is not unique"): its `node` user has it',
                "remove it and use `USER node` (or `USER 1000`)",
            )


@rule("docker-copy-chown", WARNING)
def docker_copy_chown(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.final or context.workdir is None:
        return
    user = context.last("USER")
    if user is None or _uid_of(context, expand(user.value.strip(), context.env) or "") == 0:
        return  # running as root: ownership is not the problem (docker-user / docker-no-user say so)
    app_dir = context.workdir.rstrip("/") or "/"
    workdir = None
    for ins in context.final.instructions:
        if ins.instruction == "WORKDIR":
            workdir = expand(ins.value.strip(), context.env)
        if ins.instruction not in ("COPY", "ADD"):
            continue
        words = _exec_form(ins.value) or _words(ins.value)
        flags = {w[2:].partition("=")[0] for w in words if w.startswith("--")}
        if "from" in flags or "chown" in flags or len(words) < 2:
            continue
        dest = words[-1]
        absolute = dest if dest.startswith("/") else f"{(workdir or '/').rstrip('/')}/{dest}"
        absolute = os.path.normpath(absolute)
        if absolute == app_dir or absolute.startswith(app_dir.rstrip("/") + "/"):
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.instruction} into {app_dir} without --chown: root owns the files, uid 1000 cannot write them",
                f"write `{ins.instruction} --chown=1000:1000 ...`",
            )


@rule("docker-chown-recursive", WARNING)
def docker_chown_recursive(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    for ins in context.final_chain():
        if ins.instruction == "RUN" and re.search(r"\bchown\s+(?:-\w*R\b|--recursive\b)", ins.value):
            yield Hit(
                "Dockerfile",
                ins.line,
                "`chown -R` copies every file it touches into a new layer",
                "give ownership when copying instead: `COPY --chown=1000:1000 ...`",
            )


# --- image hygiene ----------------------------------------------------------------------------------------


@rule("docker-base-unpinned", WARNING)
def docker_base_unpinned(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    reported = set()
    for stage in context.stages:
        image = stage.image
        if stage.parent or not image or image == "scratch":
            continue
        name = image.rsplit("/", 1)[-1]
        if "@" in name:
            continue
        tag = name.partition(":")[2]
        if tag and tag != "latest":
            continue
        at = stage.image_arg or stage.from_line
        if at.line in reported:
            continue
        reported.add(at.line)
        via = f" (from ARG {stage.image_arg.value.split('=')[0]})" if stage.image_arg else ""
        problem = "uses the `latest` tag" if tag else "has no tag (it means `latest`)"
        yield Hit(
            "Dockerfile",
            at.line,
            f"base image `{image}`{via} {problem}: builds change under you",
            f"pin a version tag, such as `{name.split(':')[0]}:<version>-slim`",
        )


@rule("docker-shell-form", WARNING)
def docker_shell_form(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    for name in ("ENTRYPOINT", "CMD"):
        ins = context.last(name)
        if ins is not None and _exec_form(ins.value) is None:
            yield Hit(
                "Dockerfile",
                ins.line,
                f"shell-form {name}: /bin/sh is PID 1 and does not pass SIGTERM on, so every stop waits for the kill",
                f'write it as a JSON array: {name} ["program", "arg"]',
            )


@rule("docker-npm-start", WARNING)
def docker_npm_start(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    words, ins = context.command
    for index, word in enumerate(words[:-1]):
        if Path(word).name in ("npm", "yarn", "pnpm") and words[index + 1] in ("start", "run", "run-script"):
            yield Hit(
                "Dockerfile",
                ins.line,
                f"`{word} {words[index + 1]}` as the command: npm does not pass SIGTERM to the app",
                'run node directly: CMD ["node", "server.js"]',
            )
            return


@rule("docker-npm-install", WARNING)
def docker_npm_install(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    for ins in context.space.instructions:
        if ins.instruction != "RUN":
            continue
        for segment in re.split(r"&&|\|\||;|\|", ins.value):
            words = _words(segment)
            for index, word in enumerate(words[:-1]):
                if (
                    word == "npm"
                    and words[index + 1] in ("install", "i", "add")
                    and not {"-g", "--global"} & set(words)
                ):
                    yield Hit(
                        "Dockerfile",
                        ins.line,
                        f"`npm {words[index + 1]}` resolves versions afresh on every build",
                        "install from the lockfile: `npm ci --omit=dev`",
                    )
                    break


# --- secrets ----------------------------------------------------------------------------------------------


@rule("docker-secret", ERROR)
def docker_secret(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    for ins in context.space.instructions:
        pairs = (
            _env_pairs(ins.value)
            if ins.instruction == "ENV"
            else arg_pairs(ins.value)
            if ins.instruction == "ARG"
            else []
        )
        for name, value in pairs:
            if _secret_name(name) and value:
                # The value itself is never shown: it may be a real secret.
                yield Hit(
                    "Dockerfile",
                    ins.line,
                    f"{ins.instruction} {name} gives a secret a value: it is stored in the image for anyone to read",
                    f"drop the value; make {name} a Space secret (at build: `RUN --mount=type=secret,id={name}`)",
                )


@rule("docker-build-arg-secret", WARNING)
def docker_build_arg_secret(context: Context) -> Iterator[Hit]:
    if not context.docker:
        return
    for ins in context.space.instructions:
        if ins.instruction == "ARG":
            for name, value in arg_pairs(ins.value):
                if _secret_name(name) and not value:
                    yield Hit(
                        "Dockerfile",
                        ins.line,
                        f"ARG {name}: build arguments are recorded in the image history",
                        f"use a build secret: `RUN --mount=type=secret,id={name} ...` reading /run/secrets/{name}",
                    )


def is_env_file(path: str) -> bool:
    """A local environment file (`.env`, `.env.local`, ...), not a template such as `.env.example`."""
    name = Path(path).name
    return (name == ".env" or name.startswith(".env.")) and name not in _ENV_TEMPLATES


def _env_files(context: Context) -> list[str]:
    return [f for f in context.space.files if is_env_file(f)]


@rule("docker-env-copied", ERROR)
def docker_env_copied(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    for env_file in _env_files(context):
        if context.copied(env_file) and not dockerignored(env_file, context.space.dockerignore):
            ins = next(i for i, sources, _, _ in context.copies if any(_copies(s, env_file) for s in sources))
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.instruction} takes {env_file} (local settings, often secrets) into the image",
                "add `**/.env` to .dockerignore",
            )


def _copies(source: str, path: str) -> bool:
    pattern = _clean(source)
    return not pattern or any(_docker_glob(pattern).match(p) for p in _self_or_parents(path))


@rule("dockerignore-env", WARNING)
def dockerignore_env(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages or _env_files(context):
        return  # with a .env present, docker-env-copied judges the real file
    for ins, sources, _, _ in context.copies:
        if any(_copies(s, ".env") for s in sources) and not dockerignored(".env", context.space.dockerignore):
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.instruction} takes the whole folder and .dockerignore lets .env through: a local .env goes in",
                "add `**/.env` to .dockerignore",
            )
            return


# --- upload -----------------------------------------------------------------------------------------------


@rule("gitignore-drops", ERROR)
def gitignore_drops(context: Context) -> Iterator[Hit]:
    ignored = context.git_ignored
    if not ignored:
        return
    if context.docker:
        # A .env the Hub drops is the point of ignoring it, not a loss.
        needed = [
            "Dockerfile",
            "README.md",
            ".dockerignore",
            *(f for f in context.needed_files() if not is_env_file(f)),
        ]
    elif context.space.sdk == "static":
        # With app_build_command the Hub builds the app_file itself: an ignored build output is expected.
        built = "app_build_command" in context.card
        needed = ["README.md", *([] if built else [str(context.card.get("app_file") or "index.html").lstrip("/")])]
    else:
        needed = ["README.md"]
    by_line: dict[tuple[int, str], list[str]] = {}
    for path in dict.fromkeys(needed):
        if path in context.space.files and path in ignored:
            by_line.setdefault(ignored[path], []).append(path)
    for (line, pattern), paths in sorted(by_line.items()):
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        yield Hit(
            ".gitignore",
            line,
            f"`{pattern}` makes the Hub drop {shown}, which the Space needs",
            f"remove `{pattern}` from .gitignore, or narrow it (`!{paths[0]}` re-includes a file)",
        )


@rule("gitignore-env", ERROR)
def gitignore_env(context: Context) -> Iterator[Hit]:
    for env_file in _env_files(context):
        if env_file not in context.git_ignored:
            yield Hit(
                env_file,
                1,
                f"{env_file} would be uploaded with the Space (anyone who can read the Space can read it)",
                "add `.env` to the folder's .gitignore; set the values as Space secrets/variables",
            )


def _uploaded(context: Context) -> dict[str, int]:
    ignored = context.git_ignored
    return {path: size for path, size in context.space.files.items() if path not in ignored}


@rule("file-large", WARNING)
def file_large(context: Context) -> Iterator[Hit]:
    for path, size in _uploaded(context).items():
        if size > LARGE_FILE:
            yield Hit(
                path,
                1,
                f"{path} is {size / 1024 / 1024:.0f} MB: files over 10 MB go through LFS/Xet (the client handles it)",
                "nothing to do with `hf upload`; with git, track it with git-lfs (or fetch it at start-up)",
            )


@rule("space-too-large", ERROR)
def space_too_large(context: Context) -> Iterator[Hit]:
    total = sum(_uploaded(context).values())
    if total > TOO_LARGE:
        yield Hit(
            "README.md",
            1,
            f"the folder uploads {total / 1024**3:.2f} GB; the Hub refuses Space repositories over about 1 GB",
            "keep large data in a model/dataset repo or bucket and download it at start-up",
        )


# --- health -----------------------------------------------------------------------------------------------


@rule("healthcheck-missing", WARNING)
def healthcheck_missing(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    ins = context.last("HEALTHCHECK")
    if ins is None or ins.value.strip().upper() == "NONE":
        line = ins.line if ins else context.final.from_line.line
        yield Hit(
            "Dockerfile",
            line,
            "no HEALTHCHECK: local runs and compose cannot tell when the app is up",
            'add `HEALTHCHECK CMD curl --fail "http://127.0.0.1:7860/" || exit 1`',
        )


_PROBE = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\])(?::([^/\s\"']+))?")


@rule("healthcheck-port", ERROR)
def healthcheck_port(context: Context) -> Iterator[Hit]:
    if not context.docker or not context.stages:
        return
    ins = context.last("HEALTHCHECK")
    match = _PROBE.search(ins.value) if ins else None
    if match is None:
        return
    port = _port(match.group(1), context.env) if match.group(1) else 80
    app_port = context.space.app_port
    if port is not None and port != app_port:
        yield Hit(
            "Dockerfile",
            ins.line,
            f"the HEALTHCHECK probes port {port} but app_port is {app_port}",
            f"probe http://127.0.0.1:{app_port}/",
        )


__all__ = ["ERROR", "RULES", "WARNING", "Finding", "Report", "validate"]

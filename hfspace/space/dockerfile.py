"""A Dockerfile as Docker builds it: stages, their FROM chain, scoped ARGs, ENV, and the image it makes.

`parse(text)` reads the instructions (dockerfile-parse does the line work; heredocs are put
back together here), then walks the stages the way BuildKit does:

- a stage builds on an image, or on an earlier stage named by its alias (case-insensitive,
  after ARG expansion); `FROM 0` is an image named `0` (only `COPY --from` takes an index);
- an ARG before the first FROM is global: usable in FROM lines only, and inside a stage only
  once the stage declares it again (`ARG NAME`); an ARG is in scope from its declaration to
  the end of its stage, and in the stages built on that stage (BuildKit hands a stage its
  base stage's ARGs, whatever the Dockerfile reference says: checked with a real build);
- ENV, USER, WORKDIR, CMD, ENTRYPOINT, HEALTHCHECK, EXPOSE and SHELL are the image's
  configuration: a stage built on another inherits them; setting ENTRYPOINT resets a CMD
  the stage inherited (a CMD set earlier in the same stage stays);
- values expand as BuildKit's lexer expands them (`words.py`); an ARG without a default,
  which a Space variable may set at build time, is unknown, and so is a name that a base
  image this module does not know may define.

Nothing here reads the disk or judges: the rules do that with what this model says.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from dockerfile_parse import DockerfileParser

from hfspace.space import images, words

INSTRUCTIONS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})  # fmt: skip
# Build arguments BuildKit defines by itself (in FROM lines, and in a stage once declared).
AUTOMATIC_ARGS = {
    "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux", "TARGETARCH": "amd64", "TARGETVARIANT": "",
    "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
}  # fmt: skip
DEFAULT_SHELL = ("/bin/sh", "-c")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class Instruction:
    """One instruction: its upper-case name, its raw value, 1-based lines, its stage (-1 before
    the first FROM), the comment lines right above it, and the bodies of its heredocs."""

    name: str
    value: str
    line: int
    endline: int
    stage: int
    content: str
    comments: list[str] = field(default_factory=list)
    heredocs: list[str] = field(default_factory=list)

    @cached_property
    def flags(self) -> dict[str, str]:
        """The `--name=value` (or `--name`) flags that open the value (FROM, COPY, ADD, RUN, ...);
        a flag given twice (`--mount`) keeps every value, one per line."""
        found: dict[str, str] = {}
        for word in words.raw_words(self.value):
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = f"{found[name]}\n{value}" if name in found else value
        return found

    @cached_property
    def rest(self) -> str:
        """The value after its leading flags."""
        text = self.value.lstrip()
        while text.startswith("--"):
            text = re.sub(r"^--\S*\s*", "", text, count=1)
        return text

    @cached_property
    def argv(self) -> list[str] | None:
        """The exec form (a JSON array of strings) of CMD, ENTRYPOINT, RUN, SHELL; None for shell form."""
        text = self.rest.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(word, str) for word in value) else None

    @cached_property
    def json_error(self) -> str | None:
        """Why a value written as a JSON array is not one (Docker then runs the text as a shell
        command, brackets and all); None when it is one, or is not meant as one."""
        text = self.rest.strip()
        if not (text.startswith("[") and text.endswith("]")) or self.argv is not None:
            return None
        try:
            value = json.loads(text)
        except ValueError as error:
            return f"{error.msg} (column {error.colno})"
        if not isinstance(value, list):
            return "it is not an array"
        return "every element must be a string"


@dataclass
class Copy:
    """A COPY or ADD, or a RUN's `--mount=type=bind`: what it takes, from where, to where."""

    instruction: Instruction
    stage: Stage
    sources: list[str]  # as written after expansion, relative to the build context (or to --from)
    dest: str  # absolute in the image ("" for a bind mount)
    from_stage: Stage | None = None  # --from=<stage>
    from_image: str | None = None  # --from=<image>
    chown: str | None = None
    mount: bool = False

    @property
    def from_context(self) -> bool:
        """Whether it reads the build context (the Space folder), not a stage or an image."""
        return self.from_stage is None and self.from_image is None


@dataclass
class Config:
    """The image configuration at some point of a stage: inherited, then changed by its instructions."""

    env: dict[str, str | None] = field(default_factory=dict)  # None: a value that cannot be known here
    env_at: dict[str, Instruction] = field(default_factory=dict)
    user: str | None = None  # as USER set it, expanded (None: not set in this Dockerfile, or unknown)
    user_at: Instruction | None = None
    workdir: str = "/"
    workdir_at: Instruction | None = None
    entrypoint: Instruction | None = None
    cmd: Instruction | None = None
    cmd_here: bool = False  # CMD set in the current stage (an ENTRYPOINT after it keeps it)
    healthcheck: Instruction | None = None
    expose: list[tuple[str, Instruction]] = field(default_factory=list)
    shell: tuple[str, ...] = DEFAULT_SHELL
    image: str | None = None  # the external image at the root of the chain ("scratch", or None if unknown)
    image_known: images.Image | None = None  # what this module knows of that image

    def inherit(self) -> Config:
        """The configuration a stage built on this one starts from."""
        return replace(self, env=dict(self.env), env_at=dict(self.env_at), expose=list(self.expose), cmd_here=False)

    @property
    def missing_known(self) -> bool:
        """Whether a name set nowhere is known to be unset: on scratch, or on an image known here."""
        return self.image == "scratch" or self.image_known is not None


@dataclass
class Stage:
    index: int
    from_: Instruction
    ref: str  # the base as written after ARG expansion (an image, a stage alias, or an index)
    alias: str | None
    parent: Stage | None  # the earlier stage it builds on
    image: str | None  # the image it builds on when that is not a stage (None: a stage, or unknown)
    image_arg: Instruction | None  # the global ARG its FROM line takes the image from
    instructions: list[Instruction] = field(default_factory=list)
    config: Config = field(default_factory=Config)  # after its last instruction
    scopes: dict[int, dict[str, str | None]] = field(default_factory=dict)  # id(instruction) -> names in scope
    copies: list[Copy] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)  # the ARGs in scope at its end

    def chain(self) -> list[Stage]:
        """This stage and the stages it builds on, oldest first."""
        return [*(self.parent.chain() if self.parent else []), self]

    @property
    def root_image(self) -> str | None:
        return self.config.image

    def scope(self, instruction: Instruction) -> dict[str, str | None]:
        """The names an instruction of this stage can expand: ARGs in scope and ENV, ENV winning."""
        return self.scopes.get(id(instruction), {})

    def expand(self, instruction: Instruction, text: str) -> str | None:
        """`text` expanded as Docker expands it at `instruction`; None when it cannot be known."""
        return words.expand(text, self.scope(instruction), missing_known=self.config.missing_known)


@dataclass
class Command:
    """What the container runs, as Docker combines ENTRYPOINT and CMD."""

    argv: list[str] | None  # None: the base image's own command (see `image`), or nothing at all
    at: Instruction | None  # the instruction that decides it: ENTRYPOINT when set, else CMD
    entrypoint: Instruction | None
    cmd: Instruction | None
    image: str | None = None  # the image whose own command runs, when the Dockerfile sets none

    @property
    def inherited(self) -> bool:
        return self.at is None

    @cached_property
    def words(self) -> list[str]:
        """Its words with a `sh -c` wrapper opened and shell glue (`exec`, `&&`, `;`) dropped, for
        reading which program runs and its options."""
        argv = list(self.argv or [])
        if len(argv) >= 3 and posixpath.basename(argv[0]) in ("sh", "bash", "dash") and argv[1] in ("-c", "-ec", "-lc"):
            argv = (words.split(argv[2]) or argv[2].split()) + argv[3:]
        return [word for word in argv if word not in ("exec", "&&", ";", "||")]


@dataclass
class Dockerfile:
    text: str
    instructions: list[Instruction]
    error: str | None = None  # why it cannot be read, when it cannot
    build_args: dict[str, str] = field(default_factory=dict)
    unknown_instructions: list[Instruction] = field(default_factory=list)

    @cached_property
    def global_args(self) -> dict[str, tuple[str | None, Instruction]]:
        """ARGs declared before the first FROM: name -> (value, the ARG); a build argument wins."""
        found: dict[str, tuple[str | None, Instruction]] = {}
        scope: dict[str, str | None] = dict(AUTOMATIC_ARGS)
        for ins in self.instructions:
            if ins.name == "FROM":
                break
            if ins.name == "ARG":
                for name, default in arg_pairs(ins.value, scope):
                    value = self.build_args.get(name, default)
                    found[name] = (value, ins)
                    scope[name] = value
        return found

    @cached_property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        for ins in self.instructions:
            if ins.name == "FROM":
                stages.append(self._new_stage(ins, stages))
            elif stages:
                stages[-1].instructions.append(ins)
        for stage in stages:
            _walk(stage, self, stages)
        return stages

    def _new_stage(self, ins: Instruction, stages: list[Stage]) -> Stage:
        parts = words.raw_words(ins.rest)
        written = parts[0] if parts else ""
        alias = parts[2].lower() if len(parts) >= 3 and parts[1].lower() == "as" else None
        scope = {**AUTOMATIC_ARGS, **{name: value for name, (value, _) in self.global_args.items()}}
        ref = words.expand(written, scope)
        image_arg = next((self.global_args[name][1] for name in _names(written) if name in self.global_args), None)
        # A FROM names an earlier stage by its alias only: `FROM 0` pulls an image called `0`
        # (an index names a stage in `COPY --from=0`, not in FROM; checked against BuildKit).
        parent = next((s for s in stages if s.alias == ref.lower()), None) if ref is not None else None
        image = None if parent is not None else ref
        return Stage(len(stages), ins, ref or written, alias, parent, image, image_arg)

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def final_chain(self) -> list[Instruction]:
        """The final stage's instructions, those of the stages it builds on first."""
        return [ins for stage in (self.final.chain() if self.final else []) for ins in stage.instructions]

    @property
    def config(self) -> Config:
        """The image's configuration: the final stage's, inheritance included."""
        return self.final.config if self.final else Config()

    def stage_named(self, name: str) -> Stage | None:
        return _stage_named(self.stages, name)

    @cached_property
    def command(self) -> Command:
        config = self.config
        entry, cmd = config.entrypoint, config.cmd
        if entry is None and cmd is None:
            return Command(None, None, None, None, image=config.image)
        shell = list(config.shell)

        def form(ins: Instruction) -> list[str]:
            argv = ins.argv
            return argv if argv is not None else [*shell, ins.rest.strip()]

        if entry is None:
            return Command(form(cmd), cmd, None, cmd)
        if entry.argv is None:  # a shell-form ENTRYPOINT ignores CMD
            return Command(form(entry), entry, entry, cmd)
        return Command(form(entry) + (form(cmd) if cmd else []), entry, entry, cmd)

    def copies(self) -> Iterator[Copy]:
        for stage in self.stages:
            yield from stage.copies

    def context_copies(self) -> list[Copy]:
        """Every COPY/ADD (and bind mount) of any stage that reads the build context."""
        return [copy for copy in self.copies() if copy.from_context]

    def final_copies(self) -> list[Copy]:
        """The COPY/ADD whose files reach the final image: those of the final stage and the stages it builds on."""
        chain = {stage.index for stage in self.final.chain()} if self.final else set()
        return [copy for copy in self.copies() if copy.stage.index in chain and not copy.mount]

    def declared_args(self) -> set[str]:
        """Every name an ARG declares, in any stage (the names a Space variable reaches at build time)."""
        return {name for ins in self.instructions if ins.name == "ARG" for name, _ in arg_pairs(ins.value, {})}

    def run_env(self) -> dict[str, str]:
        """The final stage's ENV as the container gets it (a value not known here as Docker would
        make it with what is known: unknown parts empty); for running its command locally."""
        final = self.final
        if final is None:
            return {}
        values: dict[str, str] = {}
        for stage in final.chain():
            for ins in stage.instructions:
                if ins.name == "ENV" and env_error(ins.value) is None:
                    scope = {**stage.scope(ins), **values}
                    values.update((name, words.expand_docker(raw, scope)) for name, raw in env_pairs(ins.value))
        return values


def arg_pairs(value: str, scope: Mapping[str, str | None]) -> list[tuple[str, str | None]]:
    """The names an ARG declares, each with its default expanded (None: no default, or unknown);
    `ARG A=1 B` declares two."""
    pairs = []
    for word in words.raw_words(value):
        name, sep, default = word.partition("=")
        pairs.append((name, words.expand(default, scope) if sep else None))
    return pairs


def env_pairs(value: str) -> list[tuple[str, str]]:
    """ENV (or LABEL) `name=value ...` or the legacy `name value`: (name, value as written)."""
    parts = words.raw_words(value)
    if not parts:
        return []
    if "=" not in parts[0]:
        name, _, rest = value.strip().partition(" ")
        if not rest.strip():
            name, _, rest = value.strip().partition("\t")
        return [(name, rest.strip())]
    pairs = []
    for part in parts:
        name, sep, raw = part.partition("=")
        if sep:
            pairs.append((words.expand(name, {}) or name, raw))
    return pairs


def env_error(value: str) -> str | None:
    """Why Docker refuses an ENV (`ENV A=1 B`: a word without `=`), None when it takes it."""
    parts = words.raw_words(value)
    if not parts:
        return "ENV needs a name and a value"
    if "=" not in parts[0]:
        return None if len(parts) >= 2 else f"`ENV {parts[0]}` has no value"
    bad = [part for part in parts if "=" not in part]
    return f"`{bad[0]}` has no `=`: every word of `ENV a=1 b=2` must be name=value" if bad else None


def _stage_named(stages: list[Stage], name: str) -> Stage | None:
    """A stage by its alias (case-insensitive) or its index, as `COPY --from=` names one."""
    lowered = name.lower()
    for stage in stages:
        if stage.alias == lowered:
            return stage
    return stages[int(lowered)] if lowered.isdigit() and int(lowered) < len(stages) else None


def _names(text: str) -> list[str]:
    return re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)


def _walk(stage: Stage, dockerfile: Dockerfile, stages: list[Stage]) -> None:
    """Compute the stage's configuration and each instruction's scope, in order."""
    if stage.parent is not None:
        config = stage.parent.config.inherit()
    else:
        config = Config(image=stage.image, image_known=images.known(stage.image))
        if config.image_known is not None:
            config.env = dict.fromkeys(config.image_known.env)
    args: dict[str, str | None] = dict(stage.parent.args) if stage.parent is not None else {}
    global_args = dockerfile.global_args
    for ins in stage.instructions:
        scope = {**args, **config.env}
        stage.scopes[id(ins)] = scope
        missing_known = config.missing_known

        def expand(text: str, scope=scope, missing_known=missing_known) -> str | None:
            return words.expand(text, scope, missing_known=missing_known)

        name = ins.name
        if name == "ARG":
            for arg, default in arg_pairs(ins.value, scope):
                if arg in dockerfile.build_args:
                    args[arg] = dockerfile.build_args[arg]
                elif default is not None:
                    args[arg] = default
                elif arg in global_args:
                    args[arg] = global_args[arg][0]
                elif arg in AUTOMATIC_ARGS:
                    args[arg] = AUTOMATIC_ARGS[arg]
                else:
                    args[arg] = None  # a build argument: a Space variable may set it
        elif name == "ENV" and env_error(ins.value) is None:
            for key, raw in env_pairs(ins.value):  # every value of one ENV sees the names as they were before it
                config.env[key] = expand(raw)
                config.env_at[key] = ins
        elif name == "USER":
            config.user, config.user_at = expand(ins.value.strip()), ins
        elif name == "WORKDIR":
            path = expand(ins.value.strip())
            if path is not None:
                config.workdir = posixpath.normpath(posixpath.join(config.workdir, path))
            config.workdir_at = ins
        elif name == "CMD":
            config.cmd, config.cmd_here = ins, True
        elif name == "ENTRYPOINT":
            config.entrypoint = ins
            if not config.cmd_here:
                config.cmd = None  # Docker resets a CMD the stage inherited
        elif name == "HEALTHCHECK":
            config.healthcheck = ins
        elif name == "EXPOSE":
            config.expose.extend((port, ins) for port in (words.split(ins.value, scope) or []))
        elif name == "SHELL" and ins.argv:
            config.shell = tuple(ins.argv)
        if name in ("COPY", "ADD"):
            _add_copy(stage, ins, config, expand, stages)
        elif name == "RUN":
            _add_mounts(stage, ins, expand, stages)
    stage.config = config
    stage.args = args


def _add_copy(stage: Stage, ins: Instruction, config: Config, expand, stages: list[Stage]) -> None:
    if ins.heredocs and "<<" in ins.rest:
        return  # a file written inline, not read from anywhere
    argv = ins.argv
    parts = argv if argv is not None else words.raw_words(ins.rest)
    parts = [part if argv is not None else (expand(part) or part) for part in parts]
    if len(parts) < 2:
        return
    *sources, dest = parts
    source = ins.flags.get("from")
    from_stage = _stage_named(stages, expand(source) or source) if source else None
    from_image = (expand(source) or source) if source and from_stage is None else None
    if ins.name == "ADD":
        sources = [s for s in sources if "://" not in s and not s.startswith("git@")]
    absolute = posixpath.normpath(posixpath.join(config.workdir, dest))
    if (dest.endswith(("/", "/.")) or dest == ".") and not absolute.endswith("/"):
        absolute += "/"  # a folder: sources go into it
    chown = ins.flags.get("chown")
    stage.copies.append(Copy(ins, stage, sources, absolute, from_stage, from_image, expand(chown) if chown else None))


def _add_mounts(stage: Stage, ins: Instruction, expand, stages: list[Stage]) -> None:
    for spec in ins.flags.get("mount", "").splitlines():
        options = dict(part.partition("=")[::2] for part in spec.split(",") if part)
        if options.get("type", "bind") != "bind":
            continue
        source = options.get("source") or options.get("src") or "."
        origin = options.get("from")
        from_stage = _stage_named(stages, origin) if origin else None
        from_image = origin if origin and from_stage is None else None
        stage.copies.append(Copy(ins, stage, [expand(source) or source], "", from_stage, from_image, mount=True))


def _heredoc_words(content: str) -> list[str]:
    return [match.group(3) for match in _HEREDOC.finditer(content)]


def parse(text: str, build_args: Mapping[str, str] | None = None) -> Dockerfile:
    """The instructions of a Dockerfile's text. Never raises: a file that cannot be read has `error`."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8", errors="replace")), cache_content=True)
    try:
        structure = parser.structure
    except Exception as exc:  # dockerfile-parse raises assorted errors on broken files
        return Dockerfile(text, [], error=f"the Dockerfile cannot be parsed: {exc}", build_args=dict(build_args or {}))
    instructions: list[Instruction] = []
    unknown: list[Instruction] = []
    comments: list[str] = []
    comment_end = -1
    stage = -1
    pending: list[str] = []  # heredoc terminators still to find
    for item in structure:
        name = item["instruction"].upper()
        start, end = item["startline"] + 1, item["endline"] + 1
        if pending:  # dockerfile-parse reads a heredoc's body as instructions of its own
            current = instructions[-1]
            current.heredocs[-1] += item["content"]
            current.endline = end
            if item["content"].strip() == pending[0]:
                pending.pop(0)
                if pending:
                    current.heredocs.append("")
            continue
        if name == "COMMENT":
            if comment_end != start - 1:
                comments = []
            comments.append(item["value"])
            comment_end = end
            continue
        if name == "FROM":
            stage += 1
        above = comments if comment_end == start - 1 else []
        ins = Instruction(name, item["value"], start, end, stage, item["content"], list(above))
        comments, comment_end = [], -1
        terminators = _heredoc_words(item["content"])
        if terminators:
            pending = terminators
            ins.heredocs.append("")
        instructions.append(ins)
        if name not in INSTRUCTIONS:
            unknown.append(ins)
    dockerfile = Dockerfile(text, instructions, build_args=dict(build_args or {}), unknown_instructions=unknown)
    return dockerfile

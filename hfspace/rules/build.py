"""Rules of the build: the Dockerfile, the files it copies, the values it sets, the static app file."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, Hit, docker_only, rule
from hfspace.space import Instruction, Space, images
from hfspace.space.accounts import run_segments
from hfspace.space.context import clean
from hfspace.space.dockerfile import env_error, env_pairs
from hfspace.space.words import raw_words


@rule("docker-missing", ERROR)
def docker_missing(space: Space) -> Iterator[Hit]:
    """`sdk: docker` without a file named exactly `Dockerfile` at the folder root.

    Why: the Hub builds a Docker Space from `Dockerfile` at the repository root, by that exact
    name (case matters); without it the Space stops at NO_APP_FILE.
    Severity: error: the Space never builds.
    Fix: add a `Dockerfile` at the root, or rename the one you have (`dockerfile`, `Dockerfile.prod`).
    Example:
        README.md  dockerfile  app.py      <- `dockerfile`, lowercase
    """
    if space.sdk != "docker" or space.dockerfile is not None:
        return
    near = [
        f
        for f in space.files
        if posixpath.basename(f).lower().startswith("dockerfile") or f.lower().endswith(".dockerfile")
    ]
    fix = (
        f"rename `{near[0]}` to `Dockerfile` at the folder root (exact name, case matters)"
        if near
        else "add a `Dockerfile` at the folder root"
    )
    line = space.card.line("sdk") if space.card else 1
    yield Hit(
        "README.md",
        line,
        "`sdk: docker` but there is no `Dockerfile` at the folder root (the Space would stop at NO_APP_FILE)",
        fix,
    )


@rule("static-app-file", ERROR)
def static_app_file(space: Space) -> Iterator[Hit]:
    """`sdk: static` without its app_file (index.html by default).

    Why: a static Space serves app_file at its root; without it the Space has nothing to show.
    Severity: error: the Space stops at NO_APP_FILE.
    Fix: add the file, or point app_file at the page to serve.
    Example:
        sdk: static         <- and no index.html in the folder
    """
    card = space.card
    if space.sdk != "static" or card is None or "app_build_command" in card:
        return
    app_file = str(card.get("app_file") or "index.html")
    if app_file.lstrip("/") not in space.files:
        yield Hit(
            "README.md",
            card.line("app_file" if "app_file" in card else "sdk"),
            f"`sdk: static` but its app_file `{app_file}` is not in the folder",
            f"add `{app_file}`, or point app_file at the page to serve",
        )


@rule("dockerfile-parse", ERROR)
def dockerfile_parse(space: Space) -> Iterator[Hit]:
    """The Dockerfile cannot be read, or has no FROM.

    Why: the Hub runs `docker build` on it; a file Docker cannot parse fails the build.
    Severity: error: the Space never builds.
    Fix: save the Dockerfile as UTF-8 text starting with a FROM, and try it with `docker build`.
    Example:
        RUN pip install -r requirements.txt     <- no FROM before it
    """
    dockerfile = space.dockerfile
    if not space.docker or dockerfile is None:
        return
    if dockerfile.error:
        yield Hit(
            "Dockerfile", 1, dockerfile.error, "save the Dockerfile as UTF-8 text and check it with `docker build`"
        )
    elif not dockerfile.stages:
        yield Hit(
            "Dockerfile", 1, "the Dockerfile has no FROM instruction", "start it with a FROM naming a pinned base image"
        )


def _stages_built(space: Space) -> list:
    """The stages a build of the final image runs: the final stage, those it builds on, and those it
    (or they) copy or mount from, transitively. BuildKit skips the others."""
    dockerfile = space.dockerfile
    wanted = {stage.index for stage in dockerfile.final.chain()}
    changed = True
    while changed:
        changed = False
        for stage in dockerfile.stages:
            if stage.index not in wanted:
                continue
            for copy in stage.copies:
                for source in [copy.from_stage] if copy.from_stage else []:
                    for needed in source.chain():
                        if needed.index not in wanted:
                            wanted.add(needed.index)
                            changed = True
    return [stage for stage in dockerfile.stages if stage.index in wanted]


@rule("copy-missing", ERROR)
@docker_only
def copy_missing(space: Space) -> Iterator[Hit]:
    """A COPY or ADD names a path the build context does not hold: absent from the folder, or left out by .dockerignore.

    Why: the build stops at that step ("failed to compute cache key: ... not found"), and the Space
    ends in BUILD_ERROR. A file that exists locally but is excluded by .dockerignore fails the
    same way, and so does one the upload left behind.
    Severity: error: the Space never builds.
    Fix: add the file to the folder (and the upload), fix the path, or stop .dockerignore excluding it.
    Example:
        COPY app /usr/share/nginx/html      <- the folder has no app/
    """
    for stage in _stages_built(space):
        for copy in stage.copies:
            if any("$" in source for source in copy.sources):
                continue
            if copy.from_context:
                for source, why in space.context.missing(copy.sources):
                    yield Hit(
                        "Dockerfile",
                        copy.instruction.line,
                        f"{copy.instruction.name} {source}: {why}, so the build fails here",
                        "add it to the folder, fix the path, or stop .dockerignore excluding it",
                    )


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_problem(ins: Instruction) -> str | None:
    """What an ENV or ARG line does that its author did not mean, or why Docker refuses it."""
    if ins.name == "ARG":
        for word in raw_words(ins.value):
            name = word.partition("=")[0]
            if not _NAME.fullmatch(name):
                return f"`{word}` is not a NAME or NAME=value: Docker refuses the ARG and the build fails"
        return None
    refused = env_error(ins.value)
    if refused:
        return f"{refused}: Docker refuses it and the build fails"
    if _unbalanced(ins.value):
        return "a quote is not closed: Docker refuses it and the build fails"
    parts = raw_words(ins.value)
    if "=" in parts[0]:
        return None
    name, value = env_pairs(ins.value)[0]
    words = value.split()
    if value.startswith("="):
        return f"`ENV {name} = ...` sets {name} to `{value}` (the legacy `ENV NAME value` form takes the `=` as value)"
    if any("=" in word and _NAME.fullmatch(word.partition("=")[0]) for word in words):
        return f"the legacy form `ENV {name} value` sets {name} to the whole rest of the line, `{value}`"
    if len(words) >= 3 and len(words) % 2 == 1 and all(_NAME.fullmatch(w) and w.isupper() for w in words[1::2]):
        return f"the legacy form `ENV {name} value` sets {name} to the whole rest of the line, `{value}`"
    return None


def _unbalanced(value: str) -> bool:
    quote, escaped = "", False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
    return bool(quote)


@rule("env-value-wrong", ERROR)
@docker_only
def env_value_wrong(space: Space) -> Iterator[Hit]:
    """An ENV or ARG is written so that its value is not what its author meant, or so that Docker refuses it.

    Why: `ENV PORT 7860 HOST 0.0.0.0` (the legacy form) sets PORT to `7860 HOST 0.0.0.0` and no HOST
    at all; `ENV PORT = 7860` sets PORT to `= 7860`; `ENV A=1 B` and an unclosed quote fail the
    build. The app then reads a port or host it cannot use, or the Space never builds.
    Severity: error: the build fails, or the app gets a value that keeps it from serving.
    Fix: write one `NAME=value` per variable: `ENV PORT=7860 HOST=0.0.0.0`.
    Example:
        ENV PORT 7860 HOST 0.0.0.0
    """
    for ins in space.dockerfile.instructions:
        if ins.name in ("ENV", "ARG"):
            problem = _env_problem(ins)
            if problem:
                fix = "write one NAME=value per variable: ENV PORT=7860 HOST=0.0.0.0"
                yield Hit("Dockerfile", ins.line, problem, fix)


_TOOL_FIX = {
    "useradd": "on Alpine: `adduser -D -u 1000 user` (or `apk add --no-cache shadow` first)",
    "groupadd": "on Alpine: `addgroup -g 1000 user` (or `apk add --no-cache shadow` first)",
    "apt-get": "on Alpine: `apk add --no-cache PACKAGE`",
    "apk": "on Debian and Ubuntu: `apt-get update && apt-get install -y --no-install-recommends PACKAGE`",
    "bash": "on Alpine: `apk add --no-cache bash`, or use /bin/sh",
}
# Programs an image family does not have until a RUN installs them: (family, program) -> package.
_MISSING = {
    "alpine": {"useradd": "shadow", "groupadd": "shadow", "usermod": "shadow", "apt-get": None, "apt": None,
               "bash": "bash", "dpkg": None},
    "debian": {"apk": None, "yum": None, "dnf": None},
}  # fmt: skip


def _family(image: str | None) -> str | None:
    if not image:
        return None
    name = images.normalise(image)
    if name.startswith(("alpine", "busybox")) or re.search(r":[^/]*alpine", name):
        return "alpine"
    known = images.known(image)
    return "debian" if known is not None and "alpine" not in name else None


@rule("build-tool-missing", ERROR)
@docker_only
def build_tool_missing(space: Space) -> Iterator[Hit]:
    """A RUN calls a program the base image does not have: `useradd` or `apt-get` on Alpine, `apk` on Debian.

    Why: Alpine images (`node:22-alpine`, `nginx:alpine`, `python:3.12-alpine`) have BusyBox's
    `adduser`/`addgroup` and `apk`, not `useradd` (the shadow package) or `apt-get`; Debian and
    Ubuntu images have no `apk`. The step exits 127 ("not found") and the build stops.
    Severity: error: the Space never builds.
    Fix: use the base's own tools (`adduser -D -u 1000 user` and `apk add` on Alpine), or install
    them first (`apk add --no-cache shadow`), or pick a Debian-based image.
    Example:
        FROM nginx:alpine
        RUN useradd -m -u 1000 user
    """
    for stage in _stages_built(space):
        family = _family(stage.config.image)
        missing = dict(_MISSING.get(family or "", {}))
        for ins in (i for s in stage.chain() for i in s.instructions if i.name == "RUN"):
            for words in run_segments(ins):
                program = posixpath.basename(words[0])
                if program in ("apk", "apt-get", "apt") and len(words) > 1 and words[1] in ("add", "install"):
                    for package in words[2:]:
                        for tool, needs in list(missing.items()):
                            if needs == package:
                                missing.pop(tool)
                if program in missing and ins.stage == stage.index:  # a parent stage's RUNs are its own to report
                    yield Hit(
                        "Dockerfile",
                        ins.line,
                        f"`{program}` is not in {stage.config.image} ({family}-based): the step fails with "
                        '"not found" and the build stops',
                        _TOOL_FIX.get(program, "use the base image's own package manager and tools"),
                    )
                    missing.pop(program)


def _placed(space: Space, copy) -> set[str]:
    """The absolute paths (files and their folders) a COPY from the folder puts in the image."""
    placed: set[str] = set()
    into_folder = copy.dest.endswith("/") or len(copy.sources) > 1
    for source in copy.sources:
        for path in space.context.taken(source):
            cleaned = clean(source)
            if cleaned == path:  # a file named by the source
                target = posixpath.join(copy.dest, posixpath.basename(path)) if into_folder else copy.dest
            else:  # a file inside a folder (or the whole context) the source names
                target = posixpath.join(copy.dest, posixpath.relpath(path, cleaned or "."))
            target = posixpath.normpath(target)
            while target not in ("/", ""):
                placed.add(target)
                target = posixpath.dirname(target)
    return placed


@rule("run-path-missing", ERROR)
@docker_only
def run_path_missing(space: Space) -> Iterator[Hit]:
    """A RUN removes (`rm` without -f) a file the build never put there.

    Why: `rm` of a path that does not exist exits 1 and stops the build. It happens when a path
    names a folder the Dockerfile made for something else: after `WORKDIR $HOME/code`, `COPY . .`
    lands in /home/user/code, not in /code.
    Severity: error: the Space never builds.
    Fix: name the path where the COPY put it (relative to WORKDIR), or use `rm -f`.
    Example:
        WORKDIR $HOME/code
        COPY . .
        RUN rm /code/src/db.sqlite3
    """
    for stage in _stages_built(space):
        placed: set[str] = set()
        made: set[str] = set()
        said = ""  # what earlier RUNs say: a path they name may be one they make
        workdir = "/"
        for ins in (i for s in stage.chain() for i in s.instructions):
            if ins.name == "WORKDIR":
                value = stage.expand(ins, ins.value.strip()) if ins.stage == stage.index else None
                workdir = posixpath.normpath(posixpath.join(workdir, value)) if value else workdir
                made.add(workdir)
            elif ins.name in ("COPY", "ADD"):
                for copy in (c for s in stage.chain() for c in s.copies if c.instruction is ins):
                    if copy.from_context and not copy.mount:
                        placed |= _placed(space, copy)
                    made.add(posixpath.dirname(copy.dest.rstrip("/")) if not copy.dest.endswith("/") else copy.dest)
            elif ins.name == "RUN":
                for words in run_segments(ins):
                    if posixpath.basename(words[0]) != "rm" or any(w.startswith("-") and "f" in w for w in words):
                        continue
                    for word in (w for w in words[1:] if not w.startswith("-")):
                        value = stage.expand(ins, word) if ins.stage == stage.index else word
                        if not value or any(c in value for c in "*?[$"):
                            continue
                        path = posixpath.normpath(posixpath.join(workdir, value))
                        ours = any(path.startswith(folder.rstrip("/") + "/") for folder in made if folder != "/")
                        if ours and path not in placed and posixpath.basename(path) not in said:
                            yield Hit(
                                "Dockerfile",
                                ins.line,
                                f"`rm {word}`: the build never put {path} there (no COPY or RUN before makes it), "
                                "so rm fails and the build stops",
                                "name the path where COPY put it (relative to WORKDIR), or use `rm -f`",
                            )
                said += " " + ins.rest + " ".join(ins.heredocs)

"""Rules of how the image is made: pinned bases, a PID 1 that stops on SIGTERM, locked installs."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from hfspace.rules.registry import INFO, WARNING, Hit, docker_only, rule
from hfspace.space import Space
from hfspace.space.accounts import run_segments


@rule("docker-base-unpinned", INFO)
@docker_only
def docker_base_unpinned(space: Space) -> Iterator[Hit]:
    """A base image without a tag, or with `latest` (after resolving ARG defaults).

    Why: `latest` moves; the next rebuild of the Space (any commit, any restart that rebuilds)
    may take a new major version of the base and break.
    Severity: info: the Space runs today; a later rebuild may not.
    Fix: pin a version tag, such as `python:3.13-slim`.
    Example:
        FROM python
    """
    reported = set()
    for stage in space.dockerfile.stages:
        image = stage.image
        if stage.parent or not image or image == "scratch":
            continue
        name = image.rsplit("/", 1)[-1]
        if "@" in name:
            continue
        tag = name.partition(":")[2]
        if tag and tag != "latest":
            continue
        at = stage.image_arg or stage.from_
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
@docker_only
def docker_shell_form(space: Space) -> Iterator[Hit]:
    """Shell-form CMD or ENTRYPOINT: /bin/sh is PID 1 and does not pass SIGTERM on.

    Why: on every restart or rebuild the platform sends SIGTERM; a shell as PID 1 ignores it,
    so the app is killed after the grace period instead of stopping cleanly.
    Severity: warning: the Space runs; every stop waits for the kill.
    Fix: write the command as a JSON array (exec form), or start it with `exec`.
    Example:
        CMD python app.py
    """
    config = space.dockerfile.config
    for name, ins in (("ENTRYPOINT", config.entrypoint), ("CMD", config.cmd)):
        # `CMD exec server ...` replaces the shell with the server: then the server is PID 1.
        # A broken JSON list is shell form too, but cmd-not-json says what is wrong with it.
        plain = ins is not None and ins.argv is None and not ins.json_error
        if plain and not ins.rest.lstrip().startswith("exec "):
            yield Hit(
                "Dockerfile",
                ins.line,
                f"shell-form {name}: /bin/sh is PID 1 and does not pass SIGTERM on, so every stop waits for the kill",
                f'write it as a JSON array: {name} ["program", "arg"]',
            )


@rule("docker-npm-start", WARNING)
@docker_only
def docker_npm_start(space: Space) -> Iterator[Hit]:
    """`npm start` or `npm run` as the command: npm does not pass SIGTERM to the app.

    Why: npm runs the app as its child and does not forward the platform's SIGTERM, so every
    stop waits for the kill.
    Severity: warning: the Space runs; every stop waits for the kill.
    Fix: run node directly: `CMD ["node", "server.js"]`.
    Example:
        CMD ["npm", "start"]
    """
    command = space.command
    if command is None or command.at is None:
        return
    words = command.words
    for index, word in enumerate(words[:-1]):
        if posixpath.basename(word) in ("npm", "yarn", "pnpm") and words[index + 1] in ("start", "run", "run-script"):
            yield Hit(
                "Dockerfile",
                command.at.line,
                f"`{word} {words[index + 1]}` as the command: npm does not pass SIGTERM to the app",
                'run node directly: CMD ["node", "server.js"]',
            )
            return


@rule("docker-npm-install", INFO)
@docker_only
def docker_npm_install(space: Space) -> Iterator[Hit]:
    """`npm install` in a RUN instead of `npm ci`.

    Why: `npm install` resolves versions afresh on every build, so a rebuild of the Space can
    install different packages than the ones you tested.
    Severity: info: the Space runs; a rebuild may not behave the same.
    Fix: install from the lockfile: `npm ci --omit=dev`.
    Example:
        RUN npm install
    """
    for ins in space.dockerfile.instructions:
        if ins.name != "RUN":
            continue
        for words in run_segments(ins):
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

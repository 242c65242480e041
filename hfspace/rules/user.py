"""Rules of the user the container runs as and the files it can write: the platform runs uid 1000."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, WARNING, Hit, docker_only, rule
from hfspace.space import Instruction, Space, images
from hfspace.space.listen import option
from hfspace.space.words import split

USER_FIX = "add `USER 1000` (after `useradd -m -u 1000 user`, or `USER node` on a node base) before CMD"
_ACCOUNT_PROGRAMS = ("useradd", "adduser", "groupadd", "addgroup")


def run_segments(ins: Instruction) -> Iterator[list[str]]:
    """The simple commands of a RUN, each as words (`a && b; c | d` is three... four)."""
    for segment in re.split(r"&&|\|\||;|\|", ins.rest):
        yield split(segment) or segment.split()


def account_commands(space: Space) -> Iterator[tuple[Instruction, str, list[str]]]:
    """useradd/adduser/groupadd commands in the final stage's RUNs: (instruction, program, its words)."""
    for ins in space.dockerfile.final_chain():
        if ins.name != "RUN":
            continue
        for words in run_segments(ins):
            while words and words[0] in ("sudo", "exec"):
                words.pop(0)
            if words and words[0] in _ACCOUNT_PROGRAMS:
                yield ins, words[0], words[1:]


def account_id(words: list[str], program: str) -> int | None:
    names = ("-u", "--uid") if program in ("useradd", "adduser") else ("-g", "--gid")
    value = option(words, names)
    if value is None:
        for word in words:
            if re.fullmatch(rf"{names[0]}\d+", word):
                value = word[2:]
    return int(value) if value and value.isdigit() else None


def base_user_1000(space: Space) -> str | None:
    """The user that already has uid 1000 in the final stage's base image (`node` on node), if any."""
    known = images.known(space.dockerfile.config.image)
    return known.uid_1000 if known else None


def uid_of(space: Space, user: str) -> int | None:
    """The uid a USER value means, when the Dockerfile (or its base image) tells."""
    name = user.split(":")[0]
    if name.isdigit():
        return int(name)
    if name == "root":
        return 0
    if name == base_user_1000(space):
        return 1000
    uid = None
    for _, program, words in account_commands(space):
        if program in ("useradd", "adduser") and words and [w for w in words if not w.startswith("-")][-1:] == [name]:
            uid = account_id(words, program)
    return uid


@rule("docker-no-user", WARNING)
@docker_only
def docker_no_user(space: Space) -> Iterator[Hit]:
    """The final stage sets no USER: what the build creates belongs to root.

    Why: the platform runs the container as uid 1000; files and folders the build made as root
    (COPY without --chown, RUN mkdir) are read-only to it, so an app that writes next to its
    code fails with `PermissionError: [Errno 13]`.
    Severity: warning: the Space runs as long as the app writes nothing into what root owns.
    Fix: create a user with uid 1000 and switch to it before copying the app.
    Example:
        FROM python:3.13-slim
        COPY . /app
        CMD ["python", "/app/app.py"]      <- no USER
    """
    dockerfile = space.dockerfile
    if dockerfile.config.user_at is None:
        yield Hit(
            "Dockerfile",
            dockerfile.final.from_.line,
            "the final stage sets no USER: the files it creates are root's, and the app (uid 1000 on the "
            "platform) cannot write them",
            USER_FIX,
        )


@rule("docker-user", ERROR)
@docker_only
def docker_user(space: Space) -> Iterator[Hit]:
    """The final stage's USER is not uid 1000, the uid the platform runs the container as.

    Why: the platform runs the container as uid 1000 whatever USER says; what the Dockerfile
    gave another user (root included) is not uid 1000's to write.
    Severity: error: an image built for another user breaks where it writes.
    Fix: run as uid 1000: `useradd -m -u 1000 user` then `USER user` (on node: `USER node`).
    Example:
        USER root
    """
    config = space.dockerfile.config
    if config.user_at is None:
        return  # docker-no-user
    user = config.user
    uid = uid_of(space, user) if user else None
    if uid is not None and uid != 1000:
        yield Hit(
            "Dockerfile",
            config.user_at.line,
            f"USER {user} is uid {uid}; the platform runs the container as uid 1000",
            USER_FIX,
        )


@rule("docker-useradd-node", ERROR)
@docker_only
def docker_useradd_node(space: Space) -> Iterator[Hit]:
    """useradd or groupadd with id 1000 on a base that already has uid 1000 (node, ubuntu 24.04).

    Why: the official node images have user `node` with uid and gid 1000 (ubuntu 24.04: user
    `ubuntu`); adding another fails the build with "UID 1000 is not unique".
    Severity: error: the Space never builds.
    Fix: use the user the base already has: `USER node` (or `USER 1000`).
    Example:
        FROM node:22-slim
        RUN useradd -m -u 1000 user
    """
    taken_by = base_user_1000(space)
    if taken_by is None:
        return
    base = images.normalise(space.dockerfile.config.image or "").split(":")[0]
    for ins, name, words in account_commands(space):
        if account_id(words, name) == 1000:
            kind = "GID" if name in ("groupadd", "addgroup") else "UID"
            yield Hit(
                "Dockerfile",
                ins.line,
                f'`{name}` with id 1000 on a {base} base fails ("{kind} 1000 is not unique"): '
                f"its `{taken_by}` user has it",
                f"remove it and use `USER {taken_by}` (or `USER 1000`)",
            )


@rule("docker-copy-chown", WARNING)
@docker_only
def docker_copy_chown(space: Space) -> Iterator[Hit]:
    """COPY or ADD into the app's WORKDIR without --chown: the files stay root's, read-only to uid 1000.

    Why: COPY makes root the owner whatever USER says; an app that writes next to its code
    (uploads, a SQLite file, a cache) then fails with `PermissionError: [Errno 13]`.
    Severity: warning: the Space runs as long as the app writes nothing there.
    Fix: `COPY --chown=1000:1000 ...` (or `--chown=user`).
    Example:
        WORKDIR /home/user/app
        COPY . .
    """
    dockerfile = space.dockerfile
    config = dockerfile.config
    if config.workdir_at is None or config.user_at is None:
        return
    if uid_of(space, config.user or "") == 0:
        return  # running as root: ownership is not the problem (docker-user says so)
    app_dir = config.workdir.rstrip("/") or "/"
    for copy in dockerfile.final.copies:
        if copy.mount or not copy.from_context or copy.chown is not None or "chown" in copy.instruction.flags:
            continue
        dest = posixpath.normpath(copy.dest)
        if dest == app_dir or dest.startswith(app_dir.rstrip("/") + "/"):
            ins = copy.instruction
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.name} into {app_dir} without --chown: root owns the files, uid 1000 cannot write them",
                f"write `{ins.name} --chown=1000:1000 ...`",
            )


@rule("docker-chown-recursive", WARNING)
@docker_only
def docker_chown_recursive(space: Space) -> Iterator[Hit]:
    """`chown -R` in a RUN: every file it touches is copied into a new layer.

    Why: a recursive chown after a COPY doubles the size of what it touches in the image, which
    the Space pulls on every start.
    Severity: warning: the Space runs; it builds and starts slower than it needs to.
    Fix: give ownership when copying: `COPY --chown=1000:1000 ...`.
    Example:
        COPY . /app
        RUN chown -R 1000:1000 /app
    """
    for ins in space.dockerfile.final_chain():
        if ins.name == "RUN" and re.search(r"\bchown\s+(?:-\w*R\b|--recursive\b)", ins.value):
            yield Hit(
                "Dockerfile",
                ins.line,
                "`chown -R` copies every file it touches into a new layer",
                "give ownership when copying instead: `COPY --chown=1000:1000 ...`",
            )

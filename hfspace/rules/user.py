"""Rules of the user the container runs as and the files it can write."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, INFO, WARNING, Hit, docker_only, rule
from hfspace.space import Space, images
from hfspace.space.accounts import USER_PROGRAMS
from hfspace.space.words import option

USER_FIX = "add `USER 1000` (after `useradd -m -u 1000 user`, or `USER node` on a node base) before CMD"


def base_user_1000(space: Space) -> str | None:
    """The user that already has uid 1000 in the final stage's base image (`node` on node), if any."""
    known = images.known(space.dockerfile.config.image)
    return known.uid_1000 if known else None


@rule("docker-no-user", INFO)
@docker_only
def docker_no_user(space: Space) -> Iterator[Hit]:
    """The final stage sets no USER: the container runs as root.

    Why: root can write anywhere, so nothing breaks on the platform (public Spaces without a USER
    write into root-owned folders at start and run); but the Hub's Docker Spaces pattern and Dev
    Mode expect the app to run as uid 1000, and a process that runs as root is one bug away from
    writing (or breaking) anything in the container.
    Severity: info: the Space runs.
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
            "the final stage sets no USER: the container runs as root (the Hub's pattern and Dev Mode expect uid 1000)",
            USER_FIX,
        )


@rule("docker-user", INFO)
@docker_only
def docker_user(space: Space) -> Iterator[Hit]:
    """The final stage's USER is not uid 1000, the uid the Hub's Docker Spaces pattern and Dev Mode expect.

    Why: the container runs as that user. Dev Mode works on /app as uid 1000, and a duplicated
    or moved Space built on the Hub's pattern expects 1000; what breaks on the platform is a
    write into what that user does not own, which write-root-owned reports where it is seen.
    Severity: info: the Space runs.
    Fix: run as uid 1000: `useradd -m -u 1000 user` then `USER user` (on node: `USER node`).
    Example:
        USER root
    """
    config = space.dockerfile.config
    if config.user_at is None:
        return  # docker-no-user
    user = config.user
    uid = space.accounts.uid_of(user)
    if uid is not None and uid != 1000:
        yield Hit(
            "Dockerfile",
            config.user_at.line,
            f"USER {user} is uid {uid}; the Hub's pattern and Dev Mode expect uid 1000",
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
    for ins, name, words in space.accounts.commands:
        names = ("-u", "--uid") if name in USER_PROGRAMS else ("-g", "--gid")
        if option(words, names) == "1000":
            kind = "UID" if name in USER_PROGRAMS else "GID"
            yield Hit(
                "Dockerfile",
                ins.line,
                f'`{name}` with id 1000 on a {base} base fails ("{kind} 1000 is not unique"): '
                f"its `{taken_by}` user has it",
                f"remove it and use `USER {taken_by}` (or `USER 1000`)",
            )


@rule("docker-copy-chown", INFO)
@docker_only
def docker_copy_chown(space: Space) -> Iterator[Hit]:
    """COPY or ADD into the app's WORKDIR without --chown: the files stay root's, read-only to the app's USER.

    Why: COPY makes root the owner whatever USER says; an app that runs as a USER other than
    root and writes next to its code (uploads, a SQLite file, a cache) then fails with
    `PermissionError: [Errno 13]`.
    Severity: info: the Space runs as long as the app writes nothing there; write-root-owned
    warns where it is seen to.
    Fix: `COPY --chown=1000:1000 ...` (or `--chown=user`).
    Example:
        WORKDIR /home/user/app
        COPY . .
    """
    dockerfile = space.dockerfile
    config = dockerfile.config
    if config.workdir_at is None or config.user_at is None:
        return
    if space.accounts.uid_of(config.user) == 0:
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
                f"{ins.name} into {app_dir} without --chown: root owns the files, USER {config.user} cannot write them",
                f"write `{ins.name} --chown=1000:1000 ...`",
            )


@rule("docker-chown-recursive", INFO)
@docker_only
def docker_chown_recursive(space: Space) -> Iterator[Hit]:
    """`chown -R` in a RUN: every file it touches is copied into a new layer.

    Why: a recursive chown after a COPY doubles the size of what it touches in the image, which
    the Space pulls on every start.
    Severity: info: the Space runs; when what it touches is large, the image is that much bigger
    (most chown -R in real Spaces touch a folder just made, and cost nothing).
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


@rule("write-root-owned", WARNING)
@docker_only
def write_root_owned(space: Space) -> Iterator[Hit]:
    """The app writes where the user it runs as cannot: a path the build left to root (or to another user).

    Why: the container runs as the image's USER. A folder made by WORKDIR or `mkdir` before
    `USER`, files copied without `--chown`, a home made for another uid, and HOME=/ for a USER
    without a passwd entry are not that user's to write: the first write (a SQLite file,
    uploads, a model cache, a config rendered at start) fails with `PermissionError: [Errno 13]`
    or `EACCES`. At start-up that crashes the Space; on a request it fails that feature. (Without
    a USER the container runs as root, which can write anywhere: public Spaces show it.)
    Severity: warning: the Space builds and may run; the write fails when it happens.
    Fix: give the user its folder: `USER` before `WORKDIR`, `COPY --chown=user ...`, or write
    under /tmp or $HOME.
    Example:
        USER user
        ...
        COPY . /app                     <- root's; the app writes /app/data.db
    """
    ownership = space.ownership
    if ownership is None:
        return
    reported: set[str] = set()
    user = space.dockerfile.config.user
    for write in sorted(space.app_writes, key=lambda w: (w.file, w.line)):
        # The first such write of a file is the one that fails (a script under `set -e` stops there).
        if ownership.writable(write.path) is not False or write.file in reported:
            continue
        reported.add(write.file)
        grant = ownership.decided_by(write.path)
        why = f"{grant.how} (Dockerfile:{grant.at.line})" if grant and grant.at else (grant.how if grant else "root")
        yield Hit(
            write.file,
            write.line,
            f"{write.what} writes {write.path}, which the app's user (USER {user}"
            f"{'' if user == str(ownership.uid) else f', uid {ownership.uid}'}) cannot write: "
            f"it belongs to {why}",
            "give that user the folder (USER before WORKDIR, COPY --chown=USER), or write under /tmp or $HOME",
        )

"""Rules of what the platform needs to build the Space at all: the Dockerfile, the static app file."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, Hit, rule
from hfspace.space import Space


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

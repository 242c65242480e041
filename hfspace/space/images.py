"""What well-known base images bring with them, for a final stage that inherits it.

A Dockerfile's FROM names an image whose own configuration (its command, its users, its
ENV) is not in the Dockerfile. Where a Space's final stage sets no CMD or ENTRYPOINT, the
container runs the base image's: that decides whether anything will ever answer on
app_port. The facts below are those of the official images on Docker Hub (their
Dockerfiles in docker-library and the vendors' repositories); an image not listed is
unknown, and no rule guesses about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Image:
    """The parts of an image's configuration the rules need."""

    command: tuple[str, ...]  # what it runs when the Dockerfile sets nothing (ENTRYPOINT + CMD)
    http_port: int | None = None  # the port its command serves HTTP on; None: it serves no HTTP
    serves: str = ""  # what its command is, in words, for a finding ("a Python prompt")
    uid_1000: str | None = None  # the user that already has uid 1000 in it, if one does
    env: frozenset[str] = field(default_factory=frozenset)  # ENV names it sets (values unknown here)
    # Its ENTRYPOINT, when it has one that does not run its arguments as a command: a CMD of the
    # Dockerfile becomes that program's arguments.
    entrypoint: tuple[str, ...] = ()


_PYTHON_ENV = frozenset({"PATH", "LANG", "GPG_KEY", "PYTHON_VERSION", "PYTHON_SHA256", "PYTHON_PIP_VERSION"})
_NODE_ENV = frozenset({"PATH", "NODE_VERSION", "YARN_VERSION"})
_SHELL = ("bash",)

# (pattern over `name:tag` without registry or digest, facts), first match wins.
_KNOWN: list[tuple[re.Pattern, Image]] = [
    (re.compile(r"(library/)?python(:.*)?"), Image(("python3",), serves="a Python prompt", env=_PYTHON_ENV)),
    (re.compile(r"(library/)?node(:.*)?"), Image(("node",), serves="a Node.js prompt", uid_1000="node", env=_NODE_ENV)),
    (re.compile(r"(library/)?php:.*fpm.*"), Image(("php-fpm",), serves="php-fpm (FastCGI on port 9000, not HTTP)")),
    (re.compile(r"(library/)?php:.*apache.*"), Image(("apache2-foreground",), http_port=80, serves="Apache httpd")),
    (re.compile(r"(library/)?php(:.*)?"), Image(("php", "-a"), serves="a PHP prompt")),
    (re.compile(r"(library/)?nginx(:.*)?"), Image(("nginx", "-g", "daemon off;"), http_port=80, serves="nginx")),
    (re.compile(r"nginxinc/nginx-unprivileged(:.*)?"), Image(("nginx", "-g", "daemon off;"), 8080, "nginx")),
    (re.compile(r"(library/)?httpd(:.*)?"), Image(("httpd-foreground",), http_port=80, serves="Apache httpd")),
    (re.compile(r"(library/)?caddy(:.*)?"), Image(("caddy", "run", "--config", "/etc/caddy/Caddyfile"), 80, "Caddy")),
    (re.compile(r"(library/)?ubuntu:(2[4-9]|[3-9]\d)\..*"), Image(_SHELL, serves="a shell", uid_1000="ubuntu")),
    (re.compile(r"(library/)?(ubuntu|debian)(:.*)?"), Image(_SHELL, serves="a shell")),
    (re.compile(r"(library/)?(alpine|busybox)(:.*)?"), Image(("/bin/sh",), serves="a shell")),
    (re.compile(r"(library/)?(golang|rust|gcc|buildpack-deps)(:.*)?"), Image(_SHELL, serves="a shell")),
    (re.compile(r"(library/)?(r-base)(:.*)?"), Image(("R",), serves="an R prompt")),
    (re.compile(r"rocker/(r-ver|tidyverse|verse|r-base)(:.*)?"), Image(("R",), serves="an R prompt")),
    (re.compile(r"rocker/shiny(-verse)?(:.*)?"), Image(("/init",), http_port=3838, serves="Shiny Server")),
    (re.compile(r"(library/)?ruby(:.*)?"), Image(("irb",), serves="a Ruby prompt")),
    (re.compile(r"(library/)?(openjdk|eclipse-temurin|amazoncorretto)(:.*)?"), Image(("jshell",), serves="jshell")),
    (re.compile(r"continuumio/(miniconda3|anaconda3)(:.*)?"), Image(("/bin/bash",), serves="a shell")),
    (re.compile(r"(mambaorg/micromamba|condaforge/miniforge3)(:.*)?"), Image(("/bin/bash",), serves="a shell")),
    (re.compile(r"nvidia/cuda(:.*)?"), Image(_SHELL, serves="a shell")),
    (re.compile(r"(pytorch/pytorch|tensorflow/tensorflow)(:.*)?"), Image(_SHELL, serves="a shell")),
    (re.compile(r"(library/)?(postgres|mysql|mariadb|mongo|redis)(:.*)?"), Image((), serves="a database server")),
    (
        re.compile(r"metabase/metabase(:.*)?"),
        Image(("/app/run_metabase.sh",), 3000, "Metabase", entrypoint=("/app/run_metabase.sh",)),
    ),
]


def normalise(reference: str) -> str:
    """`docker.io/library/python:3.13@sha256:...` as `python:3.13`: the name and tag the table knows."""
    name = reference.split("@", 1)[0].lower()
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest  # a registry host
    return name.removeprefix("library/")


def known(reference: str | None) -> Image | None:
    """The facts of a well-known image, or None when the image is not one of them."""
    if not reference:
        return None
    name = normalise(reference)
    for pattern, image in _KNOWN:
        if pattern.fullmatch(name):
            return image
    return None

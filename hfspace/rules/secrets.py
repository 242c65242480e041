"""Rules of secrets: a value in the image (ENV, ARG, a copied .env) is there for anyone who pulls it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, INFO, Hit, docker_only, rule
from hfspace.space import Space, is_env_file
from hfspace.space.context import matches
from hfspace.space.dockerfile import arg_pairs, env_pairs
from hfspace.space.words import raw_words, split

# Name parts that make an ENV/ARG a secret; whole parts, so TOKENIZERS_PARALLELISM is not one.
_SECRET_PARTS = {"TOKEN", "TOKENS", "SECRET", "SECRETS", "KEY", "KEYS", "APIKEY", "PASSWORD", "PASSWD",
                 "PASSPHRASE", "CREDENTIAL", "CREDENTIALS"}  # fmt: skip
# Where a secret is, not what it is: SSL_KEY_FILE=/run/secrets/key is the right pattern.
_SECRET_LOCATION = ("_FILE", "_PATH", "_DIR")


def secret_name(name: str) -> bool:
    upper = name.upper()
    if upper.endswith(_SECRET_LOCATION):
        return False
    parts = set(re.split(r"[^A-Z0-9]+", upper))
    return bool(parts & _SECRET_PARTS) or upper.endswith(("TOKEN", "SECRET", "PASSWORD", "APIKEY"))


def _literal(raw: str) -> str:
    """A value as written, dequoted; "" when it is empty or comes from a variable (`$API_KEY`)."""
    text = "".join(split(raw) or [])
    return "" if "$" in text else text


def _arg_defaults(value: str) -> list[tuple[str, str]]:
    return [(name, default) for name, _, default in (word.partition("=") for word in raw_words(value))]


def env_files(space: Space) -> list[str]:
    return [path for path in space.files if is_env_file(path)]


@rule("docker-secret", ERROR)
@docker_only
def docker_secret(space: Space) -> Iterator[Hit]:
    """ENV or ARG gives a secret-like name (TOKEN, KEY, PASSWORD, ...) a value.

    Why: ENV and ARG values are stored in the image's configuration and history; anyone who can
    pull or duplicate the Space can read them.
    Severity: error: it leaks a secret.
    Fix: drop the value and make it a Space secret; at build time read it with
    `RUN --mount=type=secret,id=NAME`.
    Example:
        ENV OPENAI_API_KEY=sk-...
    """
    for ins in space.dockerfile.instructions:
        if ins.name == "ENV":
            pairs = [(name, _literal(raw)) for name, raw in env_pairs(ins.value)]
        elif ins.name == "ARG":
            pairs = [(name, _literal(raw)) for name, raw in _arg_defaults(ins.value)]
        else:
            continue
        for name, value in pairs:
            if secret_name(name) and value:
                # The value itself is never shown: it may be a real secret.
                yield Hit(
                    "Dockerfile",
                    ins.line,
                    f"{ins.name} {name} gives a secret a value: it is stored in the image for anyone to read",
                    f"drop the value; make {name} a Space secret (at build: `RUN --mount=type=secret,id={name}`)",
                )


@rule("docker-build-arg-secret", INFO)
@docker_only
def docker_build_arg_secret(space: Space) -> Iterator[Hit]:
    """ARG with a secret-like name: build arguments are recorded in the image history.

    Why: a value given as a build argument ends up in the image's history. The platform passes
    only Space variables (public anyway) as build arguments, never secrets: a build that needs a
    secret this way gets none.
    Severity: info: nothing leaks on the platform; elsewhere a secret passed this way would.
    Fix: use a build secret: `RUN --mount=type=secret,id=NAME ...` reading /run/secrets/NAME.
    Example:
        ARG HF_TOKEN
    """
    for ins in space.dockerfile.instructions:
        if ins.name == "ARG":
            for name, value in arg_pairs(ins.value, {}):
                if secret_name(name) and not value:
                    yield Hit(
                        "Dockerfile",
                        ins.line,
                        f"ARG {name}: build arguments are recorded in the image history",
                        f"use a build secret: `RUN --mount=type=secret,id={name} ...` reading /run/secrets/{name}",
                    )


@rule("docker-env-copied", ERROR)
@docker_only
def docker_env_copied(space: Space) -> Iterator[Hit]:
    """A `.env` exists and a COPY/ADD takes it into the image.

    Why: a local `.env` holds settings and often secrets; copied into the image they are there
    for anyone who can read it.
    Severity: error: it leaks a secret.
    Fix: add `**/.env` to .dockerignore; set the values as Space secrets and variables.
    Example:
        COPY . .            <- and .env is not in .dockerignore
    """
    copies = space.dockerfile.context_copies()
    for env_file in env_files(space):
        if space.context.excluded(env_file):
            continue
        ins = next((c.instruction for c in copies if any(matches(s, env_file) for s in c.sources)), None)
        if ins is not None:
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.name} takes {env_file} (local settings, often secrets) into the image",
                "add `**/.env` to .dockerignore",
            )


@rule("dockerignore-env", INFO)
@docker_only
def dockerignore_env(space: Space) -> Iterator[Hit]:
    """`COPY .` (or similar) and .dockerignore does not keep a future `.env` out.

    Why: none exists yet, but the day one is created next to the Dockerfile, the next build
    copies it (and its secrets) into the image.
    Severity: info: nothing leaks today.
    Fix: add `**/.env` to .dockerignore.
    Example:
        COPY . .            <- .dockerignore does not list .env
    """
    if env_files(space):
        return  # with a .env present, docker-env-copied judges the real file
    for copy in space.dockerfile.context_copies():
        if any(matches(s, ".env") for s in copy.sources) and not space.context.excluded(".env"):
            yield Hit(
                "Dockerfile",
                copy.instruction.line,
                f"{copy.instruction.name} takes the whole folder and .dockerignore lets .env through: "
                "a local .env goes in",
                "add `**/.env` to .dockerignore",
            )
            return

"""Rules of the Space card: README.md's front matter, which the Hub reads to configure the Space."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, INFO, WARNING, Hit, rule
from hfspace.space import SDKS, Space, parse_duration
from hfspace.space.card import HARDWARE

KNOWN_KEYS = {
    "title", "emoji", "colorFrom", "colorTo", "sdk", "app_port", "base_path", "fullWidth", "header",
    "short_description", "pinned", "license", "tags", "models", "datasets", "thumbnail", "suggested_hardware",
    "suggested_storage", "startup_duration_timeout", "custom_headers", "disable_embedding", "hf_oauth",
    "hf_oauth_scopes", "hf_oauth_expiration_minutes", "preload_from_hub", "python_version", "sdk_version",
    "app_file", "app_build_command",
    "duplicated_from",  # written by the Hub itself when a Space is duplicated
}  # fmt: skip
COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
CUSTOM_HEADERS = {
    "cross-origin-embedder-policy": ("unsafe-none", "require-corp", "credentialless"),
    "cross-origin-opener-policy": ("same-origin", "same-origin-allow-popups", "unsafe-none"),
    "cross-origin-resource-policy": ("same-site", "same-origin", "cross-origin"),
}
SHORT_DESCRIPTION_MAX = 60


def _values(space: Space) -> dict:
    return space.card.data if space.card else {}


def _line(space: Space, key: str) -> int:
    return space.card.line(key) if space.card else 1


@rule("card-missing", ERROR)
def card_missing(space: Space) -> Iterator[Hit]:
    """No README.md with YAML front matter at the folder root.

    Why: the Hub configures a Space from the front matter of the README.md at its root: without
    it there is no sdk, and the Space stops at a configuration error before anything builds.
    Severity: error: the Space never builds.
    Fix: start README.md with a `---` block that holds at least `sdk: docker` (or static).
    Example:
        # My app            <- README.md starts with text, not with front matter
    """
    error = space.card_error
    if space.card is None and not (error and error.yaml) and not space.nested_cards:
        yield Hit(
            "README.md",
            1,
            error.message if error else "no Space card",
            "start README.md with a `---` block holding at least `sdk: docker` (or static)",
        )


@rule("card-yaml", ERROR)
def card_yaml(space: Space) -> Iterator[Hit]:
    """The front matter is not valid YAML, or not a mapping of keys to values.

    Why: the Hub cannot read a card that does not parse; the Space has no configuration.
    Severity: error: the Space stops at a configuration error.
    Fix: write the block between the two `---` lines as `key: value`, one per line.
    Example:
        ---
        sdk docker          <- no colon
        ---
    """
    error = space.card_error
    if error is not None and error.yaml:
        yield Hit(
            "README.md",
            error.line,
            error.message,
            "fix the YAML between the two `---` lines (key: value, one per line)",
        )


@rule("card-misplaced", ERROR)
def card_misplaced(space: Space) -> Iterator[Hit]:
    """A README.md with a Space card sits below the folder root, and the root has none.

    Why: the Hub reads only the README.md at the root of the Space repository; a card one folder
    down (a monorepo layout uploaded from the wrong level) configures nothing.
    Severity: error: the Space has no configuration.
    Fix: move the card to the root of the folder you upload, or upload the folder that holds it.
    Example:
        app/README.md       <- holds `sdk: docker`; the uploaded root has no README.md
    """
    if space.card is not None or (space.card_error and space.card_error.yaml):
        return
    for path in space.nested_cards:
        yield Hit(
            path,
            1,
            "this README.md holds a Space card, but the Hub only reads the one at the Space root",
            "move it to the folder root",
        )


@rule("card-sdk", ERROR)
def card_sdk(space: Space) -> Iterator[Hit]:
    """`sdk` is missing, or not one of gradio, docker, static.

    Why: the sdk decides how the Hub builds and serves the Space; without a valid one it stops at
    a configuration error ("Missing SDK in configuration").
    Severity: error: the Space never builds.
    Fix: set `sdk: docker` (Streamlit runs as a Docker Space now), or `static`, or `gradio`.
    Example:
        sdk: streamlit
    """
    if space.card is None:
        return
    sdk = space.card.get("sdk")
    if sdk is None:
        yield Hit("README.md", _line(space, "sdk"), "the card has no `sdk`", "add `sdk: docker` (or gradio, static)")
    elif sdk not in SDKS:
        yield Hit(
            "README.md",
            _line(space, "sdk"),
            f"sdk `{sdk}` is not one of {', '.join(SDKS)}",
            "use `sdk: docker` (Streamlit runs as a Docker Space now)",
        )


def _meant(key: str) -> str | None:
    """The known key an unknown one misspells (`app-port`, `app_prot`, `port`), if it looks like one."""
    lowered = key.lower().replace("-", "_")
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    close = difflib.get_close_matches(lowered, [k.lower() for k in KNOWN_KEYS], n=1, cutoff=0.8)
    return next((k for k in KNOWN_KEYS if close and k.lower() == close[0]), None)


# Keys people write for a known one that is spelt otherwise.
_ALIASES = {"port": "app_port", "hardware": "suggested_hardware", "startup_timeout": "startup_duration_timeout"}


@rule("card-key-typo", WARNING)
def card_key_typo(space: Space) -> Iterator[Hit]:
    """A card key that misspells one the Hub knows (`app-port`, `app_prot`, `port`).

    Why: the Hub ignores a key it does not know, so the setting the author meant stays at its
    default: a misspelled app_port leaves the Space routed to 7860 while the app listens
    elsewhere, and it never becomes healthy.
    Severity: warning: the Space runs, but not as its author configured it (and when the key was
    app_port, it does not answer: port-mismatch says so where it can tell the port).
    Fix: spell the key as the Spaces configuration reference does.
    Example:
        app-port: 8000
    """
    for key in _values(space):
        meant = _meant(str(key)) if str(key) not in KNOWN_KEYS else None
        if meant:
            yield Hit(
                "README.md",
                _line(space, str(key)),
                f"card key `{key}` is not one the Hub knows: it ignores it, so `{meant}` keeps its default",
                f"rename it to `{meant}`",
            )


@rule("card-unknown-key", INFO)
def card_unknown_key(space: Space) -> Iterator[Hit]:
    """A card key the Hub does not know, and that misspells none it does.

    Why: the Hub ignores it; usually a key of another kind of repository card (a dataset's
    `task_categories`), sometimes a leftover.
    Severity: info: nothing changes on the platform.
    Fix: remove it, or check its spelling against the Spaces configuration reference.
    Example:
        categories: [demo]
    """
    for key in _values(space):
        if str(key) not in KNOWN_KEYS and not _meant(str(key)):
            fix = "remove it, or check the spelling against the Spaces config reference"
            yield Hit("README.md", _line(space, str(key)), f"unknown card key `{key}`", fix)


@rule("card-color", INFO)
def card_color(space: Space) -> Iterator[Hit]:
    """colorFrom or colorTo is not one of the eight colours the Hub allows.

    Why: the thumbnail's gradient takes only those eight; the Hub accepts the card and falls back
    (public Spaces carry `colorTo: black` and run).
    Severity: info: only the thumbnail's colour is affected.
    Fix: use one of red, yellow, green, blue, indigo, purple, pink, gray.
    Example:
        colorFrom: orange
    """
    for key in ("colorFrom", "colorTo"):
        value = _values(space).get(key)
        if key in _values(space) and value not in COLORS:
            yield Hit(
                "README.md",
                _line(space, key),
                f"{key} `{value}` is not an allowed colour",
                f"use one of {', '.join(COLORS)}",
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@rule("card-app-port", ERROR)
def card_app_port(space: Space) -> Iterator[Hit]:
    """app_port is not an integer from 1 to 65535.

    Why: app_port is the one port the Hub's proxy forwards to; a value it cannot use is a
    configuration error.
    Severity: error: the Space cannot be reached.
    Fix: set `app_port: 7860` (unquoted), the port the app listens on.
    Example:
        app_port: "8000"
    """
    if "app_port" in _values(space):
        value = _values(space)["app_port"]
        if not (_is_int(value) and 1 <= value <= 65535):
            yield Hit(
                "README.md",
                _line(space, "app_port"),
                f"app_port `{value}` is not an integer from 1 to 65535",
                "set `app_port: 7860` (unquoted), the port the app listens on",
            )


@rule("card-app-port-unused", INFO)
def card_app_port_unused(space: Space) -> Iterator[Hit]:
    """app_port on a Space that is not `sdk: docker`, where it is ignored.

    Why: only Docker Spaces serve on app_port; on a static or Gradio Space the key does nothing,
    which usually means the sdk is not what the author meant.
    Severity: info: the Space runs, with the sdk it says.
    Fix: remove app_port, or set `sdk: docker` if the folder is a Docker Space.
    Example:
        sdk: static
        app_port: 8080
    """
    sdk = space.sdk
    if "app_port" in _values(space) and sdk in SDKS and sdk != "docker":
        yield Hit(
            "README.md",
            _line(space, "app_port"),
            f"app_port only applies to Docker Spaces; this one is `sdk: {sdk}`",
            "remove app_port",
        )


@rule("card-startup-timeout", ERROR)
def card_startup_timeout(space: Space) -> Iterator[Hit]:
    """startup_duration_timeout is not a duration such as 30m, 1h, 90s or 1h30m.

    Why: the Hub reads it as a duration; a value it cannot read is a configuration error.
    Severity: error: the Space stops at a configuration error.
    Fix: write a number and a unit: `30m`, `1h`.
    Example:
        startup_duration_timeout: 30 minutes
    """
    if "startup_duration_timeout" in _values(space):
        value = _values(space)["startup_duration_timeout"]
        if not (isinstance(value, str) and parse_duration(value)):
            yield Hit(
                "README.md",
                _line(space, "startup_duration_timeout"),
                f"startup_duration_timeout `{value}` is not a duration",
                "write it as a number and a unit, such as `30m` or `1h`",
            )


@rule("card-custom-headers", WARNING)
def card_custom_headers(space: Space) -> Iterator[Hit]:
    """custom_headers sets a header other than the three COOP/COEP/CORP headers, or a value they do not take.

    Why: the Hub sets only cross-origin-embedder-policy, cross-origin-opener-policy and
    cross-origin-resource-policy from the card; CORS headers in particular must come from the
    app itself.
    Severity: warning: the Space runs without the header the author counted on (CORS calls from
    another origin then fail in the browser).
    Fix: keep only those three (lowercase) with an allowed value; send other headers from the app.
    Example:
        custom_headers:
          access-control-allow-origin: "*"
    """
    if "custom_headers" not in _values(space):
        return
    line = _line(space, "custom_headers")
    headers = _values(space)["custom_headers"]
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


@rule("card-short-description", INFO)
def card_short_description(space: Space) -> Iterator[Hit]:
    """short_description is longer than 60 characters.

    Why: the Space's thumbnail shows about 60 characters of it; the rest is cut.
    Severity: info: the Space runs; its card reads cut short.
    Fix: shorten it to 60 characters or fewer.
    Example:
        short_description: A very long sentence that says everything about this Space at once
    """
    value = _values(space).get("short_description")
    if value is not None and len(str(value)) > SHORT_DESCRIPTION_MAX:
        yield Hit(
            "README.md",
            _line(space, "short_description"),
            f"short_description has {len(str(value))} characters; the thumbnail shows about {SHORT_DESCRIPTION_MAX}",
            f"shorten it to {SHORT_DESCRIPTION_MAX} characters or fewer",
        )


@rule("card-hardware", INFO)
def card_hardware(space: Space) -> Iterator[Hit]:
    """suggested_hardware is not a hardware flavour the Hub has.

    Why: suggested_hardware is a hint for people who duplicate the Space; an unknown flavour
    suggests nothing (and `hfspace up --docker` then sizes the container as the free CPU tier).
    Severity: info: the hint is lost; the Space runs on the hardware it is given.
    Fix: use a flavour such as cpu-basic, cpu-upgrade, t4-small, l4x1, a10g-small.
    Example:
        suggested_hardware: gpu
    """
    if "suggested_hardware" in _values(space) and _values(space)["suggested_hardware"] not in HARDWARE:
        yield Hit(
            "README.md",
            _line(space, "suggested_hardware"),
            f"suggested_hardware `{_values(space)['suggested_hardware']}` is not a known hardware flavour",
            "use one such as cpu-basic, cpu-upgrade, t4-small, l4x1, a10g-small",
        )


@rule("card-base-path", WARNING)
def card_base_path(space: Space) -> Iterator[Hit]:
    """base_path does not start with `/`.

    Why: base_path is the path the Space page opens the app at; a relative one does not name a
    path of the app.
    Severity: warning: the Space runs; its page may open the app at the wrong place.
    Fix: write it with a leading `/`.
    Example:
        base_path: docs
    """
    value = _values(space).get("base_path")
    if "base_path" in _values(space) and not (isinstance(value, str) and value.startswith("/")):
        yield Hit(
            "README.md",
            _line(space, "base_path"),
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


@rule("card-emoji", INFO)
def card_emoji(space: Space) -> Iterator[Hit]:
    """emoji is not made of emoji only.

    Why: the emoji decorates the Space's thumbnail; text there shows as text, or not at all.
    Severity: info: only the thumbnail is affected.
    Fix: use a single emoji.
    Example:
        emoji: rocket
    """
    if "emoji" in _values(space):
        value = _values(space)["emoji"]
        if not (isinstance(value, str) and _emoji_only(value.strip())):
            yield Hit(
                "README.md", _line(space, "emoji"), f"emoji `{value}` is not an emoji", "use a single emoji, such as 🚀"
            )

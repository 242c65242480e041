"""Configuration: read once from environment variables, validated before anything binds.

The rules (names, defaults, allowed values, the one-line error) are the contract's
(`contract/openapi.yaml`); the Node service implements the same ones.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from .origin import authority

SERVICE_DIR = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
APP_ENVS = ("production", "development", "test")
EX_CONFIG = 78  # sysexits.h: configuration error

_DIGITS = re.compile(r"^[0-9]+$")
_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$", re.IGNORECASE)
_ORIGIN = re.compile(
    rf"^(?P<scheme>https?)://(?P<host>(?:\*\.)?{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?$",
    re.IGNORECASE,
)


class ConfigError(ValueError):
    """One or more environment variables are invalid; str() is the one line to print."""


@dataclass(frozen=True)
class Config:
    port: int = 7860
    host: str = "0.0.0.0"
    # None means any origin ("*"); otherwise exact origins and compiled wildcard patterns.
    cors_origins: tuple[str | re.Pattern[str], ...] | None = None
    log_level: str = "info"
    app_env: str = "production"
    web_concurrency: int = 2
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout: float = 8.0
    request_timeout: float = 60.0
    space_id: str | None = None
    space_host: str | None = None


def _integer(low: int, high: int):
    expected = f"an integer from {low} to {high}"

    def parse(value: str) -> int:
        if not _DIGITS.match(value) or not low <= int(value) <= high:
            raise ValueError(expected)
        return int(value)

    return parse


def _seconds(low: float, high: float):
    expected = f"a number of seconds from {low:g} to {high:g}"

    def parse(value: str) -> float:
        if not _SECONDS.match(value) or not low <= float(value) <= high:
            raise ValueError(expected)
        return float(value)

    return parse


def _one_of(choices: tuple[str, ...]):
    expected = "one of " + ", ".join(choices)

    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(expected)
        return value.lower()

    return parse


def _host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.match(value) or len(value) > 253:
            raise ValueError("an IP address or host name") from None
    return value


def _space_host(value: str) -> str:
    if authority(value) is None:
        raise ValueError("a host name or IP address with an optional port, such as owner-name.hf.space")
    return value


def origin_pattern(wildcard_origin: str) -> re.Pattern[str]:
    """`https://*.hf.space` -> a pattern matching exactly one DNS label in place of `*`."""
    head, tail = wildcard_origin.split("*", 1)
    return re.compile(rf"^{re.escape(head)}{_LABEL}{re.escape(tail)}\Z", re.IGNORECASE)


def _cors_origins(value: str) -> tuple[str | re.Pattern[str], ...] | None:
    expected = '"*" or a comma-separated list of origins such as https://example.com or https://*.hf.space'
    if value == "*":
        return None
    origins: list[str | re.Pattern[str]] = []
    for entry in (part.strip() for part in value.split(",")):
        match = _ORIGIN.match(entry)
        port = match and match["port"]
        if not match or (port is not None and not 1 <= int(port) <= 65535):
            raise ValueError(expected)
        if match["host"].startswith("["):
            try:
                ipaddress.IPv6Address(match["host"][1:-1])
            except ValueError:
                raise ValueError(expected) from None
        entry = entry.lower()
        origins.append(origin_pattern(entry) if "*" in entry else entry)
    return tuple(origins)


# Variable -> (Config field, parser), in the contract's order (the order errors are reported in).
_VARIABLES = {
    "PORT": ("port", _integer(1, 65535)),
    "HOST": ("host", _host),
    "CORS_ORIGINS": ("cors_origins", _cors_origins),
    "LOG_LEVEL": ("log_level", _one_of(LOG_LEVELS)),
    "APP_ENV": ("app_env", _one_of(APP_ENVS)),
    "WEB_CONCURRENCY": ("web_concurrency", _integer(1, 64)),
    "MAX_BODY_BYTES": ("max_body_bytes", _integer(1, 1024**3)),
    "SHUTDOWN_TIMEOUT": ("shutdown_timeout", _seconds(1, 300)),
    "REQUEST_TIMEOUT": ("request_timeout", _seconds(1, 3600)),
    # Set by the platform; it becomes the host of the links the service answers with.
    "SPACE_HOST": ("space_host", _space_host),
}


def load_config(env: Mapping[str, str]) -> Config:
    """Validate every variable in `env`; raise ConfigError naming all the bad ones."""
    values: dict[str, object] = {}
    errors: list[str] = []
    for name, (attr, parse) in _VARIABLES.items():
        raw = (env.get(name) or "").strip()
        if not raw:
            continue  # empty counts as unset: the default applies
        try:
            values[attr] = parse(raw)
        except ValueError as exc:
            errors.append(f"{name}={json.dumps(raw)}: expected {exc}")
    if errors:
        raise ConfigError("invalid configuration: " + "; ".join(errors))
    return Config(**values, space_id=env.get("SPACE_ID") or None)


def environment(service_dir: Path = SERVICE_DIR) -> dict[str, str]:
    """The process environment over the service folder's `.env` (real variables win)."""
    dotenv = dotenv_values(service_dir / ".env") if (service_dir / ".env").is_file() else {}
    return {**{k: v for k, v in dotenv.items() if v is not None}, **os.environ}

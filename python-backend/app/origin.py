"""The service's own origin, for the absolute URLs it answers with (`links`):
from SPACE_HOST when the platform sets it, else from a validated request.

A request may name any host and any forwarded scheme; only a `host[:port]` that
is one (RFC 9112 section 3.2, RFC 3986's reg-name or IP literal) and the schemes
http and https get into a link. The rule is the contract's; nodejs-backend's
origin.js implements the same one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

# host[:port]: an IP literal ([IPv6]) or a reg-name (unreserved, pct-encoded and
# sub-delims characters; an IPv4 address is one), then an optional port.
_AUTHORITY = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+))"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
MAX_HOST_LENGTH = 253  # a DNS name's limit
SCHEMES = ("http", "https")


def authority(value: str) -> str | None:
    """`value` lowercased if it is a valid `host[:port]` (port 1 to 65535), else None."""
    match = _AUTHORITY.fullmatch(value)
    if match is None or (match["name"] is not None and len(match["name"]) > MAX_HOST_LENGTH):
        return None
    if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
        return None
    if match["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(match["ipv6"])
        except ValueError:
            return None
    return value.lower()


def forwarded_scheme(value: str | None) -> str | None:
    """The scheme the one trusted proxy hop set (the last entry of
    X-Forwarded-Proto) if it is http or https; anything else is ignored."""
    if not value:
        return None
    scheme = value.rsplit(",", 1)[-1].strip().lower()
    return scheme if scheme in SCHEMES else None


def socket_authority(address: tuple) -> str:
    """`host:port` of a socket address, an IPv6 host in brackets (its zone escaped, RFC 6874)."""
    host, port = address[0], address[1]
    if host.startswith("::ffff:") and "." in host:  # an IPv4 client of a dual-stack listener
        host = host[len("::ffff:") :]
    return f"[{host.replace('%', '%25')}]:{port}" if ":" in host else f"{host}:{port}"


def public_origin(space_host: str | None, environ: Mapping) -> str:
    """`scheme://host[:port]` of the service as this request reached it (`environ`
    is its WSGI environment; its Host, when present, is already validated)."""
    if space_host:
        return f"https://{space_host}"  # the platform's proxy terminates TLS
    scheme = forwarded_scheme(environ.get("HTTP_X_FORWARDED_PROTO")) or "http"
    host = environ.get("HTTP_HOST")
    if host:
        return f"{scheme}://{host.lower()}"
    # No Host (HTTP/1.0): the address the connection arrived on, never the one bound
    # (0.0.0.0). gunicorn hands the connection's socket over; other servers only SERVER_*.
    sock = environ.get("gunicorn.socket")
    local = sock.getsockname() if sock is not None else (environ["SERVER_NAME"], environ["SERVER_PORT"])
    return f"{scheme}://{socket_authority(local)}"

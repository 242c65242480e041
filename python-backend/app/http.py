"""Cross-cutting HTTP behaviour: request ids, body limit, preflights, CORS, security headers."""

from __future__ import annotations

import json
import re
import uuid

from flask import Flask, Response, abort, g, request
from flask_cors import CORS

from .config import Config

REQUEST_ID = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")

CORS_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
CORS_HEADERS = "Content-Type,Authorization,X-Request-ID"
CORS_MAX_AGE = 600
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
    # Embeddable in the Space page on huggingface.co ('self' is the Space's own origin).
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self' https://huggingface.co",
}


def raw_problem(status: int, reason: str, detail: str) -> bytes:
    """A whole HTTP/1.1 problem response, for the errors gunicorn answers itself.

    A malformed request line or headers over gunicorn's limits never reach the
    app; gunicorn.conf.py installs this in place of gunicorn's HTML error page so
    that these answers follow the contract too. There is no parsed request, hence
    no path for `instance`.
    """
    request_id = str(uuid.uuid4())
    problem = {
        "type": "about:blank",
        "title": reason,
        "status": status,
        "detail": detail or "The server failed to handle the request.",
        "instance": "",
        "request_id": request_id,
    }
    body = json.dumps(problem).encode()
    headers = {
        "Content-Type": "application/problem+json",
        "Content-Length": str(len(body)),
        "Connection": "close",
        REQUEST_ID: request_id,
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"{head}\r\n".encode("latin-1") + body


def _assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID, "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())


def _limit_body() -> None:
    # Refuse a declared oversize body before any of it is read; bodies of unknown
    # length are cut by MAX_CONTENT_LENGTH while they are read.
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def read_body() -> bytes:
    """The whole request body (cached for get_json), refusing one over the limit.

    werkzeug cuts a body of unknown length (chunked) at MAX_CONTENT_LENGTH without
    saying so, which would surface as a confusing 400 for JSON; one more byte
    waiting past the limit makes it the 413 it is.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    unknown_length = request.content_length is None
    if unknown_length and limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1):
        abort(413)
    return data


def _answer_preflight() -> Response | None:
    # Any OPTIONS request, on any path, is a preflight: 204, CORS headers added below.
    if request.method == "OPTIONS":
        response = Response(status=204)
        del response.headers["Content-Type"]
        return response
    return None


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID] = g.get("request_id") or str(uuid.uuid4())
    response.headers.update(SECURITY_HEADERS)
    return response


def init_app(app: Flask, config: Config) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_answer_preflight)
    app.before_request(_limit_body)
    app.after_request(_finish)

    allowlist = config.cors_origins is not None

    def _cors_fixups(response: Response) -> Response:
        if allowlist:
            # Caches must key on Origin whenever the answer depends on it, allowed or not.
            response.vary.add("Origin")
        if request.method == "OPTIONS" and "Access-Control-Allow-Origin" in response.headers:
            # The contract's fixed lists on every allowed preflight, as the Node service sends
            # them: flask-cors echoes the requested headers and drops all three when the
            # requested method is not allowed.
            response.headers["Access-Control-Allow-Methods"] = ",".join(CORS_METHODS)
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
        return response

    # Registered before CORS(): Flask runs after_request hooks in reverse, so this sees its headers.
    app.after_request(_cors_fixups)
    # flask-cors reads a string with regex characters in it (an IPv6 origin's brackets)
    # as an unanchored pattern: exact origins go in as anchored, escaped patterns.
    origins = [
        o if isinstance(o, re.Pattern) else re.compile(rf"{re.escape(o)}\Z", re.IGNORECASE)
        for o in config.cors_origins or ()
    ]
    CORS(
        app,
        origins=origins if allowlist else "*",
        send_wildcard=not allowlist,
        supports_credentials=allowlist,
        always_send=not allowlist,
        methods=list(CORS_METHODS),
        allow_headers=CORS_HEADERS.split(","),
        expose_headers=[REQUEST_ID],
        max_age=CORS_MAX_AGE,
        vary_header=allowlist,
    )

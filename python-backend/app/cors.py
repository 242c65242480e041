"""CORS as the contract states it (CORS_ORIGINS), on top of flask-cors."""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from .config import Config
from .headers import CORS_EXPOSE, CORS_HEADERS, CORS_MAX_AGE, CORS_METHODS


def init_app(app: Flask, config: Config) -> None:
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
            response.headers["Access-Control-Allow-Headers"] = ",".join(CORS_HEADERS)
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
        allow_headers=list(CORS_HEADERS),
        expose_headers=list(CORS_EXPOSE),
        max_age=CORS_MAX_AGE,
        vary_header=allowlist,
    )

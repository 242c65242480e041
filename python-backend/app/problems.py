"""Every error leaves as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import traceback

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id"),
        **extra,
    }
    return Response(current_app.json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers)


def _detail(error: HTTPException) -> str:
    if isinstance(error, NotFound):
        return f"No resource at {request.path}."
    if isinstance(error, MethodNotAllowed):
        return f"{request.method} is not allowed on {request.path}; use {', '.join(error.valid_methods or [])}."
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return f"The request body exceeds the limit of {limit} bytes."
    return error.description or error.name


def handle_http_error(error: HTTPException) -> Response | HTTPException:
    if error.code is not None and error.code < 400:
        return error  # a routing redirect, not an error
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return problem(error.code or 500, error.name, _detail(error), headers)


def handle_unexpected_error(error: Exception) -> Response:
    current_app.logger.error("unhandled error", exc_info=error)
    extra = {}
    if current_app.config["APP_ENV"] == "development":
        extra["stack"] = traceback.format_exception(error)
    return problem(500, "Internal Server Error", "The server failed to handle the request.", **extra)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)

"""Every error leaves as RFC 9457 problem details (application/problem+json):
the app's own through problem(), and the ones gunicorn answers itself through
raw_problem(). problem_body() builds the body of both."""

from __future__ import annotations

import json
import traceback
import uuid
from http import HTTPStatus

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from .headers import PROBLEM_JSON, REQUEST_ID, SECURITY_HEADERS


def timed_out(seconds: float) -> str:
    """The detail of a 408: REQUEST_TIMEOUT passed before the request had arrived."""
    return f"The request did not arrive within {seconds:g} seconds."


def problem_body(status: int, title: str, detail: str, instance: str, request_id: str | None, **extra) -> dict:
    return {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
        **extra,
    }


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra) -> Response:
    body = problem_body(status, title, detail, request.path, g.get("request_id"), **extra)
    return Response(current_app.json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers)


def raw_problem(status: int, reason: str, detail: str) -> bytes:
    """A whole HTTP/1.1 problem response, for the errors gunicorn answers itself.

    A malformed request line or headers over gunicorn's limits never reach the
    app; gunicorn.conf.py installs this in place of gunicorn's HTML error page so
    that these answers follow the contract too. There is no parsed request, hence
    no path for `instance`.
    """
    request_id = str(uuid.uuid4())
    detail = detail or "The server failed to handle the request."
    body = json.dumps(problem_body(status, reason, detail, "", request_id)).encode()
    headers = {
        "Content-Type": PROBLEM_JSON,
        "Content-Length": str(len(body)),
        "Connection": "close",
        REQUEST_ID: request_id,
        **SECURITY_HEADERS,
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"{head}\r\n".encode("latin-1") + body


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
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    return problem(status, status.phrase, "The server failed to handle the request.", **extra)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)

"""What every request goes through: request ids, preflights, the body limit, and
the headers every response carries."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, abort, g, request

from .headers import REQUEST_ID, SECURITY_HEADERS

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")


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
    # Any OPTIONS request, on any path, is a preflight: 204, CORS headers added by cors.py.
    if request.method == "OPTIONS":
        response = Response(status=204)
        del response.headers["Content-Type"]
        return response
    return None


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID] = g.get("request_id") or str(uuid.uuid4())
    response.headers.update(SECURITY_HEADERS)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_answer_preflight)
    app.before_request(_limit_body)
    app.after_request(_finish)

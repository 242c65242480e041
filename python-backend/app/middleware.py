"""What every request goes through: request ids, preflights, the body limit, and
the headers every response carries; and how a JSON body is read."""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import NoReturn

from flask import Flask, Response, abort, current_app, g, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

from .headers import REQUEST_ID, SECURITY_HEADERS
from .origin import authority
from .problems import timed_out

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}\Z")
# Deeper documents are refused: the contract's limit, well inside what both
# services' parsers and serialisers handle (Python's recursion limit is 1000).
MAX_JSON_DEPTH = 100
TOO_DEEP = f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
NOT_JSON = "The request body is not valid JSON."
BAD_HOST = "The Host header is not a valid host[:port]."
OUT_OF_RANGE = "The JSON body has a number outside the range of a double (about 1.8e308)."


def _assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID, "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())


def _abort_and_close(status: int, detail: str | None = None) -> NoReturn:
    """Refuse a request whose body is left unread or broke off: the connection
    goes after the answer (gunicorn.conf.py has gunicorn honour the header)."""
    g.close_connection = True
    abort(status, detail)


def _require_sound_headers() -> None:
    # What gunicorn lets through and nodejs-backend refuses (some in Node's own
    # server), refused alike; gunicorn refuses the rest of RFC 9112's list itself.
    if request.method == "CONNECT":
        abort(501, "CONNECT is not supported: this service is not a proxy.")
    host = request.environ.get("HTTP_HOST")  # gunicorn refuses a second Host itself
    if host is None and request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
        abort(400, "An HTTP/1.1 request must carry a Host header.")
    if host is not None and authority(host) is None:
        abort(400, BAD_HOST)
    expect = request.headers.get("Expect")
    if expect is not None and expect.strip().lower() != "100-continue":
        abort(417, "The only expectation supported is 100-continue.")
    coding = request.headers.get("Transfer-Encoding")
    if coding is not None and coding.strip().lower() != "chunked":
        abort(501, "The only transfer coding supported is chunked.")


def _limit_body() -> None:
    # Refuse a declared oversize body before any of it is read; bodies of unknown
    # length are cut by MAX_CONTENT_LENGTH while they are read.
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        _abort_and_close(413)


def read_body() -> bytes:
    """The whole request body (cached for get_json), refusing one over the limit.

    werkzeug cuts a body of unknown length (chunked) at MAX_CONTENT_LENGTH without
    saying so, which would surface as a confusing 400 for JSON; one more byte
    waiting past the limit makes it the 413 it is.
    """
    limit = request.max_content_length
    declared = request.content_length
    try:
        data = request.get_data(cache=True)
        over = declared is None and limit is not None and len(data) >= limit and request.environ["wsgi.input"].read(1)
    except RequestEntityTooLarge:  # a chunk declared more than the limit (gunicorn.conf.py)
        over = True
    except RequestTimeout:  # REQUEST_TIMEOUT passed with the body still arriving (gunicorn.conf.py)
        _abort_and_close(408, timed_out(current_app.config["SERVICE"].request_timeout))
    except (OSError, ParseException):  # the chunked framing broke mid-body, or the client left
        _abort_and_close(400, "The request body is not valid chunked encoding.")
    if over:
        _abort_and_close(413)
    if declared is not None and len(data) < declared:
        _abort_and_close(400, "The request body ended before its Content-Length.")
    return data


class _OutOfRange(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _OutOfRange(text)
    return value


def _double_int(text: str) -> int:
    # Within a double's range, as JavaScript (and most JSON parsers) hold numbers;
    # the length check first spares float() and int() a long string of digits.
    if len(text) > 310 or math.isinf(float(text)):
        raise _OutOfRange(text)
    return int(text)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity, -Infinity: Python's extension, not RFC 8259


def _depth(value: object) -> int:
    """How deeply arrays and objects nest in `value` (a scalar is 0); iterative."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def read_json() -> object:
    """The request body as JSON (RFC 8259, UTF-8) within the contract's limits,
    or abort with the problem that says why not. nodejs-backend reads alike."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        abort(415, f"The content encoding {json.dumps(encoding)} is not supported.")
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        abort(415, f"The charset {json.dumps(charset)} is not supported; use utf-8.")
    data = read_body()
    if not data:
        abort(400, "The request body is empty; send a JSON document.")
    try:
        text = data.decode("utf-8-sig")  # a leading byte order mark is ignored (RFC 8259, section 8.1)
    except UnicodeDecodeError:
        abort(400, "The request body is not valid UTF-8.")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, parse_int=_double_int)
    except RecursionError:
        abort(400, TOO_DEEP)
    except _OutOfRange:
        abort(400, OUT_OF_RANGE)
    except ValueError:
        abort(400, NOT_JSON)
    if _depth(value) > MAX_JSON_DEPTH:
        abort(400, TOO_DEEP)
    return value


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
    if g.get("close_connection"):
        response.headers["Connection"] = "close"
    return response


def _before() -> Response | None:
    # One hook for the four steps: Flask pays a dispatch for each registered hook.
    _assign_request_id()
    _require_sound_headers()
    preflight = _answer_preflight()
    if preflight is None:
        _limit_body()
    return preflight


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_finish)

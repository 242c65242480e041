"""Malformed and hostile requests over raw sockets: both services answer each with
the same status, as the contract says (problem+json, request id, security
headers), never a 500, a reset or silence; a JSON answer is always valid JSON."""

from __future__ import annotations

import socket

import pytest

from tests.robustness.conftest import (
    MAX_BODY_BYTES,
    assert_follows_the_contract,
    connect,
    read_response,
    stream_chunks_until_answered,
    strict_json,
)

JSON_HEAD = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n"


CHUNKED_HEAD = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"


def echo(body: bytes, head: str = JSON_HEAD) -> bytes:
    return head.format(len(body)).encode() + body


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# name -> (raw request, the statuses allowed: the same set for both services)
CASES = {
    # framing
    "duplicate content-length": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n[1]",
        {400},
    ),
    "content-length and chunked": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n",
        {400},
    ),
    "invalid chunk size": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n[1]\r\n0\r\n\r\n",
        {400},
    ),
    "unknown transfer coding": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n",
        {501},
    ),
    "two transfer-encodings": (
        CHUNKED_HEAD.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: identity\r\n\r\n") + b"3\r\n[1]\r\n0\r\n\r\n",
        {400},
    ),
    "chunked, chunked": (CHUNKED_HEAD.replace(b"chunked", b"chunked, chunked") + b"3\r\n[1]\r\n0\r\n\r\n", {400}),
    "xchunked": (CHUNKED_HEAD.replace(b"chunked", b"xchunked") + b"3\r\n[1]\r\n0\r\n\r\n", {501}),
    "chunked on HTTP/1.0": (
        CHUNKED_HEAD.replace(b"HTTP/1.1", b"HTTP/1.0") + b"3\r\n[1]\r\n0\r\n\r\n",
        {400},
    ),
    "chunk size past 64 bits": (CHUNKED_HEAD + b"ffffffffffffffffffff\r\n[1]\r\n0\r\n\r\n", {400, 413}),
    "chunk without its CRLF": (CHUNKED_HEAD + b"3\r\n[1]0\r\n\r\n", {400}),
    "content-length list": (echo(b"[1]", JSON_HEAD.replace("{}", "3, 3")), {400}),
    "content-length past 64 bits": (JSON_HEAD.format("9" * 23).encode(), {400, 413}),
    "negative content-length": (echo(b"", JSON_HEAD.replace("{}", "-1")), {400}),
    "signed content-length": (echo(b"[1]", JSON_HEAD.replace("{}", "+3")), {400}),
    # request line and headers
    "no host": (b"GET /health HTTP/1.1\r\n\r\n", {400}),
    "two hosts": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400}),
    "unknown expectation": (b"GET /health HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\n\r\n", {417}),
    "unknown method": (b"FOO /health HTTP/1.1\r\nHost: x\r\n\r\n", {400, 405}),
    "lowercase method": (b"get /health HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    "connect": (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {501}),
    "http/2.0 request line": (b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", {400}),
    "http/0.9 request line": (b"GET /health\r\n\r\n", {400}),
    "thousand headers": (
        b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%04d: value\r\n" % i for i in range(1000)) + b"\r\n",
        {431},
    ),
    "20 KB url": (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414, 431}),
    "NUL in a header": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", {400}),
    "folded header": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", {400}),
    "space before colon": (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", {400}),
    "bare LF line ends": (b"GET /health HTTP/1.1\nHost: x\n\n", {400}),
    "bare CR in a header": (b"GET /health HTTP/1.1\r\nHost: x\rX-B: y\r\n\r\n", {400}),
    "raw UTF-8 in the path": ("GET /héllo HTTP/1.1\r\nHost: x\r\n\r\n".encode(), {400}),
    "DEL in a header value": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", {400}),
    "empty header name": (b"GET /health HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", {400}),
    "hostile request id": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: \xff<script>\r\n\r\n", {200}),
    "dot segments": (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", {404}),
    # JSON bodies
    "NaN": (echo(b"NaN"), {400}),
    "-Infinity": (echo(b"-Infinity"), {400}),
    "[Infinity]": (echo(b"[Infinity]"), {400}),
    "1e999999": (echo(b"1e999999"), {400}),
    "400-digit integer": (echo(b"9" * 400), {400}),
    "nested 979 deep (2 KB)": (echo(nested(979)), {400}),
    "nested 4114 deep (8 KB)": (echo(nested(4114)), {400}),
    "nested 101 deep": (echo(nested(101)), {400}),
    "nested 100 deep": (echo(nested(100)), {200}),
    "invalid UTF-8": (echo(b'"\xff\xfe"'), {400}),
    "UTF-16": (echo("[1]".encode("utf-16-le")), {400}),
    "BOM then JSON": (echo(b"\xef\xbb\xbf[1]"), {200}),
    "lone surrogate": (echo(b'"\\ud800"'), {200}),
    "trailing garbage": (echo(b"[1] x"), {400}),
    "whitespace only": (echo(b"   "), {400}),
    "gzip content-encoding": (echo(b"[1]", JSON_HEAD.replace("\r\n\r\n", "\r\nContent-Encoding: gzip\r\n\r\n")), {415}),
    "latin-1 charset": (echo(b"[1]", JSON_HEAD.replace("json\r\n", "json; charset=latin1\r\n")), {415}),
    "__proto__ key": (echo(b'{"__proto__":{"polluted":1}}'), {200}),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_malformed_request_gets_a_contract_answer(service, case):
    payload, allowed = CASES[case]
    with connect(service.port) as sock:
        sock.sendall(payload)
        response, body = read_response(sock)
    assert response.status in allowed, (response.status, body[:300])
    assert_follows_the_contract(response, body)


class _OneStream:
    """A socket whose responses are read through one buffer (http.client would
    give each response its own, losing what the one before read ahead)."""

    def __init__(self, sock: socket.socket):
        self._file = sock.makefile("rb")

    def makefile(self, *args, **kwargs):
        return self

    def read(self, *args):
        return self._file.read(*args)

    def readline(self, *args):
        return self._file.readline(*args)

    def readinto(self, buffer):
        return self._file.readinto(buffer)

    def close(self):  # http.client closes its file after each response: keep the buffer
        pass


def test_pipelined_requests_are_answered_in_order(service):
    requests = [
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: p1\r\n\r\n",
        echo(b"[2]", JSON_HEAD.replace("Host: x\r\n", "Host: x\r\nX-Request-ID: p2\r\n")),
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-ID: p3\r\n\r\n",
    ]
    with connect(service.port) as sock:
        sock.sendall(b"".join(requests))  # in one write: the server must not lose what it read ahead
        stream = _OneStream(sock)  # responses may arrive in one read too
        answers = [read_response(stream, method) for method in ("GET", "POST", "GET")]
    assert [(r.status, r.getheader("X-Request-ID")) for r, _ in answers] == [(200, "p1"), (200, "p2"), (404, "p3")]
    assert strict_json(answers[1][1])["received"] == [2]


def test_a_body_shorter_than_its_content_length_is_400(service):
    with connect(service.port) as sock:
        sock.sendall(echo(b"[1]", JSON_HEAD.replace("{}", "10")))
        sock.shutdown(socket.SHUT_WR)  # and nothing more comes
        response, body = read_response(sock)
    assert response.status == 400
    assert_follows_the_contract(response, body)


def test_echo_answers_the_same_document_it_was_sent(service):
    document = b'{"a":[1,-0.5,1.5e300,"\\u00e9\\ud83d\\ude00",null,true,{}],"b":{"__proto__":1}}'
    with connect(service.port) as sock:
        sock.sendall(echo(document))
        response, body = read_response(sock)
    assert response.status == 200
    assert strict_json(body)["received"] == strict_json(document)


def test_an_endless_chunked_body_is_cut_at_the_limit(service):
    """The sender streams chunks until an answer comes; it must come once the body
    passes MAX_BODY_BYTES, long before the sender's 8 MB cap, and close the connection."""
    with connect(service.port) as sock:
        sock.sendall(CHUNKED_HEAD)
        response, body, closed = stream_chunks_until_answered(sock)
    assert response.status == 413
    assert_follows_the_contract(response, body)
    assert response.getheader("Connection") == "close"
    assert closed
    assert str(MAX_BODY_BYTES) in strict_json(body)["detail"]

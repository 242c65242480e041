"""`Expect: 100-continue`: the interim `100 Continue` invites a body only when
the service will read it; a body refused from its `Content-Length` gets the 413
at once, and nothing before it (raw sockets, the bytes on the wire asserted)."""

from __future__ import annotations

import json

import pytest

from tests.robustness.conftest import (
    MAX_BODY_BYTES,
    assert_follows_the_contract,
    connect,
    parse_response,
    read_response,
    read_until_closed,
    stream_chunks_until_answered,
)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
pytestmark = pytest.mark.also_in_containers


def head(path: str = "/echo", length: int | None = None, content_type: str = "application/json") -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{framing}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()


def answer_without_sending_the_body(port: int, request: bytes) -> bytes:
    """Every byte the service sends to these headers alone, until it closes the connection
    (it must: the body is neither read nor invited, so it may or may not come)."""
    with connect(port) as sock:
        sock.sendall(request)
        return read_until_closed(sock)


def recv_exactly(sock, count: int) -> bytes:
    data = b""
    while len(data) < count and (chunk := sock.recv(count - len(data))):
        data += chunk
    return data


@pytest.mark.parametrize("length", [MAX_BODY_BYTES + 1, 10**12])
def test_a_declared_length_over_the_limit_gets_413_at_once_and_no_100_continue(service, length):
    raw = answer_without_sending_the_body(service.port, head(length=length))
    assert raw.startswith(b"HTTP/1.1 413 "), raw[:200]  # the first bytes: not `HTTP/1.1 100 Continue`
    assert b"100 Continue" not in raw
    response, body = parse_response(raw, "POST")
    assert_follows_the_contract(response, body)
    assert response.getheader("Connection") == "close"
    assert str(MAX_BODY_BYTES) in json.loads(body)["detail"]


@pytest.mark.parametrize(
    ("path", "content_type", "status"),
    [("/nowhere", "application/json", 404), ("/echo", "text/plain", 415), ("/health", "application/json", 405)],
)
def test_a_request_answered_without_reading_its_body_gets_no_100_continue_and_closes(
    service, path, content_type, status
):
    raw = answer_without_sending_the_body(service.port, head(path, 3, content_type))
    assert raw.startswith(f"HTTP/1.1 {status} ".encode()), raw[:200]
    assert b"100 Continue" not in raw
    response, body = parse_response(raw, "POST")
    assert_follows_the_contract(response, body)
    assert response.getheader("Connection") == "close"


def test_a_body_the_service_will_read_is_invited_then_echoed(service):
    document = b'{"invited": true}'
    with connect(service.port) as sock:
        sock.sendall(head(length=len(document)))
        assert recv_exactly(sock, len(CONTINUE)) == CONTINUE  # before a byte of the body
        sock.sendall(document)
        response, body = read_response(sock, "POST")
    assert response.status == 200
    assert json.loads(body)["received"] == {"invited": True}


def test_a_chunked_body_is_invited_then_cut_at_the_limit(service):
    """Nothing to decide from the headers: 100 Continue, then 413 and close once the body passes the limit."""
    with connect(service.port) as sock:
        sock.sendall(head())
        assert recv_exactly(sock, len(CONTINUE)) == CONTINUE
        response, body, closed = stream_chunks_until_answered(sock)
    assert response.status == 413
    assert_follows_the_contract(response, body)
    assert response.getheader("Connection") == "close"
    assert closed

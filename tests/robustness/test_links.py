"""What a client sends never becomes the host or the scheme of a link: the
`links` of GET / come from SPACE_HOST, else from a validated request (raw
sockets, the bytes of the answer asserted)."""

from __future__ import annotations

import pytest

from tests.robustness.conftest import assert_follows_the_contract, connect, read_response

SPACE_HOST = "me-app.hf.space"
# What an attacker types, and must never read back in a link.
MADE_UP = (b"evil", b"javascript", b"data:", b"undefined", b"0.0.0.0", b"http:///")
pytestmark = pytest.mark.also_in_containers


@pytest.fixture(scope="session")
def space_service(launch, name):
    """The service as a Space runs it: the platform sets SPACE_HOST."""
    running = launch(name, {"SPACE_HOST": SPACE_HOST, "LOG_LEVEL": "warning"})
    running.wait_healthy()
    return running


def status(port: int, head: bytes) -> tuple[int, bytes]:
    """GET / with these request line and headers; the status and the raw body."""
    with connect(port) as sock:
        sock.sendall(head + b"\r\n")
        response, body = read_response(sock)
    assert_follows_the_contract(response, body)
    return response.status, body


def links_to(origin: str) -> bytes:
    """The `links` member exactly as both services write it (compact JSON)."""
    return f'"links":{{"health":"{origin}/health","openapi":"{origin}/openapi.json"}}'.encode()


# name -> request line and headers (no Host when the request is HTTP/1.0 without one)
REFUSED_HOSTS = {
    "a host with a path, a query and a fragment": b"GET / HTTP/1.1\r\nHost: evil.example/x?y#\r\n",
    "a host with a space": b"GET / HTTP/1.1\r\nHost: evil example\r\n",
    "a host with userinfo": b"GET / HTTP/1.1\r\nHost: user@evil.example\r\n",
    "a host with a backslash": b"GET / HTTP/1.1\r\nHost: evil.example\\x\r\n",
    "an empty host": b"GET / HTTP/1.1\r\nHost: \r\n",
    "an unclosed IPv6 literal": b"GET / HTTP/1.1\r\nHost: [::1\r\n",
    "an IPv6 literal that is not one": b"GET / HTTP/1.1\r\nHost: [evil::example]\r\n",
    "a port past 65535": b"GET / HTTP/1.1\r\nHost: evil.example:70000\r\n",
    "two ports": b"GET / HTTP/1.1\r\nHost: evil.example:1:2\r\n",
    "a bad percent escape": b"GET / HTTP/1.1\r\nHost: evil%zzexample\r\n",
    "two hosts": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n",
    "an invalid host on HTTP/1.0": b"GET / HTTP/1.0\r\nHost: evil.example/x\r\n",
}


@pytest.mark.parametrize("case", REFUSED_HOSTS, ids=list(REFUSED_HOSTS))
def test_a_host_that_is_not_a_valid_host_and_port_is_400(service, case):
    code, body = status(service.port, REFUSED_HOSTS[case])
    assert code == 400
    assert not any(made_up in body for made_up in MADE_UP), body


@pytest.mark.parametrize("proto", [b"javascript", b"data", b"https:", b"ftp", b"http, javascript"])
def test_a_forwarded_scheme_other_than_http_or_https_is_ignored(service, proto):
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Forwarded-Proto: %s\r\n" % (service.port, proto)
    code, body = status(service.port, head)
    assert code == 200
    assert links_to(f"http://127.0.0.1:{service.port}") in body, body


def test_a_request_without_host_gets_links_to_the_address_it_arrived_on(service):
    code, body = status(service.port, b"GET / HTTP/1.0\r\n")
    assert code == 200
    # Not `undefined`, not the bound 0.0.0.0: 127.0.0.1:PORT (in a container, its address and 7860).
    assert links_to(f"http://{service.server_address}") in body, body


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nHost: evil.example\r\n",
        b"GET / HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Proto: http\r\n",
        b"GET / HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Proto: javascript\r\n",
        b"GET / HTTP/1.0\r\n",
    ],
    ids=["a valid foreign host", "a forwarded http", "a forwarded javascript", "no host"],
)
def test_with_space_host_the_links_are_the_space_s_whatever_the_request_says(space_service, head):
    code, body = status(space_service.port, head)
    assert code == 200
    assert links_to(f"https://{SPACE_HOST}") in body, body
    assert f'"url":"https://{SPACE_HOST}"'.encode() in body
    assert not any(made_up in body for made_up in MADE_UP), body

"""Request ids, security headers, embeddability, the links and the headers that shape them, and CORS."""

import json
import re
import socket
import uuid

import pytest
import requests

from tests.contract.conftest import ALLOWLIST, exchange, header_set, problem
from tests.services import SERVICES

CSP = "default-src 'none'; frame-ancestors 'self' https://huggingface.co"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-request-id"}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("GET", "/health"), ("GET", "/missing"), ("DELETE", "/"), ("OPTIONS", "/echo")]
)
def test_every_response_carries_the_security_headers(service, method, path):
    headers = requests.request(method, f"{service.url}{path}", timeout=10).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert uuid.UUID(headers["X-Request-ID"])


def test_the_service_stays_embeddable_in_the_space_page(service):
    headers = requests.get(f"{service.url}/", timeout=10).headers
    assert "X-Frame-Options" not in headers
    assert headers["Content-Security-Policy"] == CSP
    directives = headers["Content-Security-Policy"].split(";")
    frame_ancestors = next(d for d in directives if "frame-ancestors" in d).split()[1:]
    assert "https://huggingface.co" in frame_ancestors
    assert "'self'" in frame_ancestors  # the Space's own origin


def test_no_header_names_server_software_or_version(service):
    headers = requests.get(f"{service.url}/", timeout=10).headers
    assert "X-Powered-By" not in headers
    assert not re.search(r"\d", headers.get("Server", ""))


def test_a_well_formed_request_id_is_echoed(service):
    response = requests.get(f"{service.url}/missing", headers={"X-Request-ID": "trace-42.a:b_c"}, timeout=10)
    assert response.headers["X-Request-ID"] == "trace-42.a:b_c"
    assert response.json()["request_id"] == "trace-42.a:b_c"


@pytest.mark.parametrize("bad", ["two words", "x" * 129, "<script>", ""])
def test_a_malformed_request_id_is_replaced(service, bad):
    assert uuid.UUID(requests.get(f"{service.url}/", headers={"X-Request-ID": bad}, timeout=10).headers["X-Request-ID"])


# --- links: from SPACE_HOST, else from a validated request ------------------------


def links(service, headers: dict[str, str]) -> dict:
    response = requests.get(f"{service.url}/", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["links"]


def test_links_come_from_space_host_whatever_the_request_says(service):
    # The fixture sets SPACE_HOST=me-app.hf.space, as the platform does.
    for headers in ({}, {"Host": "evil.example"}, {"X-Forwarded-Proto": "http"}, {"X-Forwarded-Proto": "javascript"}):
        assert links(service, headers) == {
            "health": "https://me-app.hf.space/health",
            "openapi": "https://me-app.hf.space/openapi.json",
        }, headers


def test_without_space_host_links_take_the_host_and_a_forwarded_http_or_https(allowlist_service):
    assert links(allowlist_service, {})["health"] == f"http://127.0.0.1:{allowlist_service.port}/health"
    assert links(allowlist_service, {"X-Forwarded-Proto": "https"})["health"] == (
        f"https://127.0.0.1:{allowlist_service.port}/health"
    )
    assert links(allowlist_service, {"Host": "Example.COM:8443"})["openapi"] == "http://example.com:8443/openapi.json"


@pytest.mark.parametrize("proto", ["javascript", "data", "https:", "ftp"])
def test_a_forwarded_scheme_other_than_http_or_https_is_ignored(allowlist_service, proto):
    assert links(allowlist_service, {"X-Forwarded-Proto": proto})["health"] == (
        f"http://127.0.0.1:{allowlist_service.port}/health"
    )


@pytest.mark.parametrize("host", ["evil.example/x?y#", "a b", "user@evil.example", "[::1", "evil.example:99999", ""])
def test_a_host_that_is_not_a_valid_host_and_port_is_400(allowlist_service, host):
    response = requests.get(f"{allowlist_service.url}/", headers={"Host": host}, timeout=10)
    assert problem(response, 400)["detail"] == "The Host header is not a valid host[:port]."


def test_a_request_without_host_gets_links_to_the_address_it_arrived_on(allowlist_service):
    with socket.create_connection(("127.0.0.1", allowlist_service.port), timeout=10) as sock:
        response, raw = exchange(sock, b"GET / HTTP/1.0\r\n\r\n")  # HTTP/1.0: Host is optional
    assert response.status == 200
    assert json.loads(raw)["links"] == {
        "health": f"http://{allowlist_service.server_address}/health",
        "openapi": f"http://{allowlist_service.server_address}/openapi.json",
    }


# --- CORS -------------------------------------------------------------------


def test_cors_unset_allows_any_origin_without_credentials(service):
    headers = requests.get(f"{service.url}/", headers={"Origin": "https://elsewhere.example"}, timeout=10).headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert "x-request-id" in header_set(headers["Access-Control-Expose-Headers"])


def test_cors_unset_preflight(service):
    response = requests.options(
        f"{service.url}/echo", headers={"Origin": "https://elsewhere.example", **PREFLIGHT}, timeout=10
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("origin", ["https://app.example.com", "https://me-app.hf.space", "https://X9.hf.space"])
def test_cors_allowlist_echoes_an_allowed_origin_with_credentials(allowlist_service, origin):
    headers = requests.get(f"{allowlist_service.url}/", headers={"Origin": origin}, timeout=10).headers
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "origin" in header_set(headers["Vary"])


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://evil.hf.space.example.com",
        "https://app.example.com.evil.io",
        "http://app.example.com",
        "https://hf.space",
        "https://a.b.hf.space",
    ],
)
def test_cors_allowlist_refuses_any_other_origin(allowlist_service, origin):
    response = requests.get(f"{allowlist_service.url}/", headers={"Origin": origin}, timeout=10)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "origin" in header_set(response.headers["Vary"])


def test_cors_preflight_for_an_allowed_origin(allowlist_service):
    origin = "https://me-app.hf.space"
    response = requests.options(f"{allowlist_service.url}/echo", headers={"Origin": origin, **PREFLIGHT}, timeout=10)
    assert response.status_code == 204
    assert response.content == b""
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert header_set(headers["Access-Control-Allow-Methods"]) == {"get", "head", "post", "options"}
    assert header_set(headers["Access-Control-Allow-Headers"]) == {"content-type", "authorization", "x-request-id"}
    assert headers["Access-Control-Max-Age"] == "600"


def test_cors_preflight_for_a_refused_origin_grants_nothing(allowlist_service):
    response = requests.options(f"{allowlist_service.url}/echo", headers={"Origin": "null", **PREFLIGHT}, timeout=10)
    assert response.status_code == 204
    assert not [name for name in response.headers if name.lower().startswith("access-control-allow")]


def test_cors_preflight_answers_the_fixed_lists_whatever_is_asked(allowlist_service):
    # A browser compares the request against these lists; they never echo what was asked.
    origin = "https://app.example.com"
    asked = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-custom"}
    headers = requests.options(f"{allowlist_service.url}/", headers={"Origin": origin, **asked}, timeout=10).headers
    assert headers["Access-Control-Allow-Origin"] == origin
    assert header_set(headers["Access-Control-Allow-Methods"]) == {"get", "head", "post", "options"}
    assert header_set(headers["Access-Control-Allow-Headers"]) == {"content-type", "authorization", "x-request-id"}
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.fixture(scope="module")
def ipv6_allowlist_service(launch, name):
    running = launch(name, {"CORS_ORIGINS": "http://[::1]:8080"})
    running.wait_healthy()
    return running


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://[::1]:8080", True), ("http://1:8080", False), ("http://::8080", False), ("http://[::1]:80800", False)],
)
def test_cors_allowlist_matches_an_ipv6_origin_exactly(ipv6_allowlist_service, origin, allowed):
    headers = requests.get(f"{ipv6_allowlist_service.url}/", headers={"Origin": origin}, timeout=10).headers
    assert headers.get("Access-Control-Allow-Origin") == (origin if allowed else None)


@pytest.fixture(scope="module")
def both_services(launch):
    runnings = {name: launch(name, {"CORS_ORIGINS": ALLOWLIST}) for name in SERVICES}
    for running in runnings.values():
        running.wait_healthy()
    yield runnings
    for running in runnings.values():
        running.stop()


# Headers that belong to the transport or the server software, not the contract.
_TRANSPORT = {"date", "server", "connection", "keep-alive", "content-length", "transfer-encoding", "etag"}


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/", {}),
        ("GET", "/missing", {}),
        ("DELETE", "/health", {}),
        ("OPTIONS", "/echo", {"Origin": "https://app.example.com", **PREFLIGHT}),
        ("GET", "/", {"Origin": "https://evil.example"}),
    ],
)
def test_both_services_send_the_same_headers(both_services, method, path, headers):
    sent = {}
    for name, running in both_services.items():
        response = requests.request(method, f"{running.url}{path}", headers=headers, timeout=10)
        sent[name] = (response.status_code, {h.lower() for h in response.headers} - _TRANSPORT)
    assert sent["python-backend"] == sent["nodejs-backend"]

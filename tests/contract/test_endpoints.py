"""Status, health, echo and the OpenAPI document, against each running service."""

import json
import socket
from pathlib import Path

import pytest
import requests
import yaml

from tests.contract.conftest import CONTRACT, PROBLEM_SCHEMA, exchange, problem


def test_status_reports_the_service(service, conforms):
    response = conforms(requests.get(f"{service.url}/", timeout=10))
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == service.name
    assert body["status"] == "ok"
    assert body["environment"] == "production"
    assert body["space"] == {"id": "me/app", "host": "me-app.hf.space", "url": "https://me-app.hf.space"}
    # SPACE_HOST is set (the fixture runs the service as a Space): the links are the Space's.
    assert body["links"] == {
        "health": "https://me-app.hf.space/health",
        "openapi": "https://me-app.hf.space/openapi.json",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_status_without_space_variables_has_a_null_space(allowlist_service):
    assert requests.get(f"{allowlist_service.url}/", timeout=10).json()["space"] is None


def test_status_is_served_from_one_start_time(service):
    started = {requests.get(f"{service.url}/", timeout=10).json()["started_at"] for _ in range(8)}
    assert len(started) == 1


def test_head_status_and_health_answer_200_without_a_body(service):
    for path in ("/", "/health"):
        response = requests.head(f"{service.url}{path}", timeout=10)
        assert response.status_code == 200
        assert response.content == b""


def test_health_passes(service, conforms):
    response = conforms(requests.get(f"{service.url}/health", timeout=10))
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/health+json"
    body = response.json()
    assert (body["status"], body["service"]) == ("pass", service.name)


def test_openapi_json_is_the_contract(service, conforms):
    response = conforms(requests.get(f"{service.url}/openapi.json", timeout=10))
    assert response.json() == yaml.safe_load(Path(CONTRACT).read_text())


def test_echo_round_trips_json(service, conforms):
    payload = {"text": "héllo", "items": [1, 2.5, None, True], "nested": {"a": []}}
    response = conforms(requests.post(f"{service.url}/echo", json=payload, timeout=10))
    assert response.status_code == 200
    assert response.json() == {"received": payload, "request_id": response.headers["X-Request-ID"]}


def test_malformed_json_is_400(service, conforms):
    response = requests.post(
        f"{service.url}/echo", data="{nope", headers={"Content-Type": "application/json"}, timeout=10
    )
    problem(conforms(response), 400)


def test_wrong_content_type_is_415(service, conforms):
    problem(conforms(requests.post(f"{service.url}/echo", data="a=b", timeout=10)), 415)


def test_unknown_path_is_404(service, conforms):
    body = problem(requests.get(f"{service.url}/no/such/path", timeout=10), 404)  # no operation to match: schema only
    assert body["instance"] == "/no/such/path"


def test_wrong_method_is_405_with_allow(service):
    response = requests.delete(f"{service.url}/health", timeout=10)
    problem(response, 405)
    assert {"get", "head"} <= {m.strip().lower() for m in response.headers["Allow"].split(",")}
    response = requests.put(f"{service.url}/echo", json={}, timeout=10)
    problem(response, 405)
    assert "post" in response.headers["Allow"].lower()


def test_oversize_body_is_413(service, conforms):
    # the fixture sets MAX_BODY_BYTES=1024
    body = problem(conforms(requests.post(f"{service.url}/echo", json={"x": "y" * 2000}, timeout=10)), 413)
    assert "1024" in body["detail"]


def test_oversize_chunked_body_is_413(service):
    def chunks():
        yield b'{"x": "'
        for _ in range(20):
            yield b"y" * 100
        yield b'"}'

    response = requests.post(
        f"{service.url}/echo", data=chunks(), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    problem(response, 413)


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", 431),
    ],
    ids=["request-line", "header-name", "header-size"],
)
def test_requests_the_http_server_refuses_get_a_problem_too(service, payload, status):
    # Refused by gunicorn or Node's parser before the app sees them: their own
    # answers would be an HTML page or an empty body.
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        response, raw = exchange(sock, payload)
    assert response.status == status
    assert response.getheader("Content-Type") == "application/problem+json"
    assert response.getheader("Connection") == "close"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    csp = requests.get(f"{service.url}/", timeout=10).headers["Content-Security-Policy"]
    assert response.getheader("Content-Security-Policy") == csp
    body = json.loads(raw)
    PROBLEM_SCHEMA.validate(body)
    assert (body["status"], body["request_id"]) == (status, response.getheader("X-Request-ID"))
    assert b"<html" not in raw.lower()


def test_body_within_the_limit_is_accepted(service):
    assert requests.post(f"{service.url}/echo", json={"x": "y" * 900}, timeout=10).status_code == 200


def test_responses_never_leak_environment_values(launch, name):
    running = launch(name, {"HF_TOKEN": "hf_TopSecretToken123", "API_KEY": "sk-not-for-you"})
    running.wait_healthy()
    texts = [
        requests.get(f"{running.url}{path}", timeout=10).text for path in ("/", "/health", "/missing", "/openapi.json")
    ]
    for text in texts:
        assert "hf_TopSecretToken123" not in text
        assert "sk-not-for-you" not in text
    assert "hf_TopSecretToken123" not in running.stdout() + running.stderr()

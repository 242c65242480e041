"""The contract suite: the same checks against every service, each a real process."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.services import SERVICES

CONTRACT = Path(__file__).resolve().parents[2] / "contract" / "openapi.yaml"
ALLOWLIST = "https://app.example.com,https://*.hf.space"
_JSON_TYPES = ("application/problem+json", "application/health+json")
PROBLEM_SCHEMA = Draft202012Validator(yaml.safe_load(CONTRACT.read_text())["components"]["schemas"]["Problem"])


@pytest.fixture(scope="session", params=sorted(SERVICES))
def name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def service(launch, name):
    """The service with its defaults (CORS unset), as a Space would run it with SPACE_* set."""
    running = launch(name, {"SPACE_ID": "me/app", "SPACE_HOST": "me-app.hf.space", "MAX_BODY_BYTES": "1024"})
    running.wait_healthy()
    return running


@pytest.fixture(scope="session")
def allowlist_service(launch, name):
    running = launch(name, {"CORS_ORIGINS": ALLOWLIST})
    running.wait_healthy()
    return running


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    # The contract's JSON media types beyond application/json.
    config = Config(extra_media_type_deserializers={t: json.loads for t in _JSON_TYPES})
    return OpenAPI.from_file_path(str(CONTRACT), config=config)


@pytest.fixture(scope="session")
def conforms(openapi):
    """conforms(response): the response matches the contract's documented response for its operation."""

    def check(response: requests.Response) -> requests.Response:
        openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
        return response

    return check


def problem(response: requests.Response, status: int) -> dict:
    """Assert an RFC 9457 problem response and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/problem+json"
    body = json.loads(response.text)
    PROBLEM_SCHEMA.validate(body)
    assert (body["type"], body["status"]) == ("about:blank", status)
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "<html" not in response.text.lower()
    assert "Traceback" not in response.text and "    at " not in response.text
    return body


def header_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def exchange(sock: socket.socket, request: bytes) -> tuple[http.client.HTTPResponse, bytes]:
    """Send raw bytes on an open connection; read the one response to them."""
    sock.sendall(request)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response, response.read()

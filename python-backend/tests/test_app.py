"""Every contract behaviour, through the Flask test client (no port opened)."""

import json
import re
from pathlib import Path

import pytest
from flask import Blueprint
from werkzeug.test import EnvironBuilder

CSP = "default-src 'none'; frame-ancestors 'self' https://huggingface.co"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def problem_of(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# --- status and health -------------------------------------------------------


def test_status_reports_service_fields(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {
        "service", "status", "version", "environment", "started_at",
        "uptime_seconds", "runtime", "space", "links",
    }  # fmt: skip
    assert (body["service"], body["status"], body["environment"]) == ("python-backend", "ok", "test")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["started_at"])
    assert body["uptime_seconds"] >= 0
    assert body["runtime"]["language"] == "python"
    assert body["runtime"]["framework"] == "flask"
    assert body["space"] is None
    assert body["links"] == {"health": "http://localhost/health", "openapi": "http://localhost/openapi.json"}
    assert response.headers["Cache-Control"] == "no-store"


def test_status_reports_the_space_from_platform_variables(make_app):
    client = make_app(SPACE_ID="me/app", SPACE_HOST="me-app.hf.space").test_client()
    assert client.get("/").get_json()["space"] == {
        "id": "me/app",
        "host": "me-app.hf.space",
        "url": "https://me-app.hf.space",
    }


def test_status_exposes_no_other_environment_values(make_app):
    # The app is built from this environment (as create_app() reads the process's).
    app = make_app(SPACE_ID="me/app", HF_TOKEN="hf_secret_value_123", MY_SECRET="s3cr3t-value")
    text = app.test_client().get("/").get_data(as_text=True)
    assert "hf_secret_value_123" not in text
    assert "s3cr3t-value" not in text


@pytest.mark.parametrize("path", ["/", "/health"])
def test_head_answers_200_without_a_body(client, path):
    response = client.head(path)
    assert response.status_code == 200
    assert response.data == b""


def test_health_passes(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "application/health+json"
    body = response.get_json(force=True)
    assert body["status"] == "pass"
    assert (body["service"], body["version"]) == ("python-backend", "0.1.0")
    assert body["uptime_seconds"] >= 0


def test_health_fails_once_shutdown_has_begun(app, client):
    app.extensions["lifecycle"].begin_shutdown()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json(force=True)["status"] == "fail"
    assert client.head("/health").status_code == 503


def test_openapi_document_is_the_contract(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    contract = Path(__file__).resolve().parents[1] / "app" / "openapi.json"
    assert response.get_json() == json.loads(contract.read_text())
    assert response.get_json()["openapi"].startswith("3.1")


# --- echo -------------------------------------------------------------------


def test_echo_returns_the_json_body(client):
    response = client.post("/echo", json={"hello": ["world", 1]})
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"received": {"hello": ["world", 1]}, "request_id": response.headers["X-Request-ID"]}


def test_echo_accepts_a_plus_json_type(client):
    response = client.post("/echo", data="[1]", content_type="application/merge-patch+json")
    assert response.get_json()["received"] == [1]


def test_malformed_json_is_a_400_problem(client):
    problem_of(client.post("/echo", data="{nope", content_type="application/json"), 400)


def test_non_json_body_is_a_415_problem(client):
    problem_of(client.post("/echo", data="a=b", content_type="application/x-www-form-urlencoded"), 415)


# --- errors -----------------------------------------------------------------


def test_unknown_path_is_a_404_problem(client):
    body = problem_of(client.get("/no/such/thing"), 404)
    assert body["instance"] == "/no/such/thing"


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/health")
    problem_of(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "HEAD"}
    response = client.get("/echo")
    problem_of(response, 405)
    assert "POST" in response.headers["Allow"]


def test_declared_oversize_body_is_a_413_problem(make_app):
    client = make_app(MAX_BODY_BYTES="16").test_client()
    body = problem_of(client.post("/echo", data=b"x" * 17, content_type="application/json"), 413)
    assert "16 bytes" in body["detail"]
    # Refused before routing: even a path that takes no body says 413.
    problem_of(client.post("/nowhere", data=b"x" * 17), 413)


def test_oversize_body_of_unknown_length_is_a_413_problem(make_app):
    client = make_app(MAX_BODY_BYTES="16").test_client()
    environ = EnvironBuilder(path="/echo", method="POST", data=b'"' + b"x" * 64 + b'"').get_environ()
    environ["CONTENT_TYPE"] = "application/json"
    del environ["CONTENT_LENGTH"]  # as a chunked upload arrives: the length is unknown up front
    environ["wsgi.input_terminated"] = True
    problem_of(client.open(environ), 413)


def test_body_at_the_limit_is_accepted(make_app):
    client = make_app(MAX_BODY_BYTES="16").test_client()
    assert client.post("/echo", data=b'"' + b"x" * 14 + b'"', content_type="application/json").status_code == 200


def _app_with_crash(make_app, app_env):
    app = make_app(APP_ENV=app_env)
    crash = Blueprint("crash", __name__)

    @crash.get("/crash")
    def boom():
        raise RuntimeError("kaboom internals")

    app.register_blueprint(crash)
    return app.test_client()


def test_unexpected_error_is_a_500_problem_without_a_stack(make_app):
    response = _app_with_crash(make_app, "production").get("/crash")
    body = problem_of(response, 500)
    assert "kaboom" not in response.get_data(as_text=True)
    assert "stack" not in body


def test_development_500_carries_the_stack(make_app):
    body = _app_with_crash(make_app, "development").get("/crash").get_json(force=True)
    assert any("kaboom internals" in line for line in body["stack"])


# --- request ids and headers -------------------------------------------------


def test_a_request_id_is_generated(client):
    assert UUID.match(client.get("/").headers["X-Request-ID"])


def test_a_well_formed_request_id_is_echoed(client):
    assert client.get("/", headers={"X-Request-ID": "abc-123.x:y_z"}).headers["X-Request-ID"] == "abc-123.x:y_z"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "<script>", "a\tb"])
def test_a_malformed_request_id_is_replaced(client, bad):
    assert UUID.match(client.get("/", headers={"X-Request-ID": bad}).headers["X-Request-ID"])


@pytest.mark.parametrize(("method", "path"), [("get", "/"), ("get", "/missing"), ("options", "/"), ("post", "/")])
def test_security_headers_on_every_response(client, method, path):
    headers = getattr(client, method)(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Content-Security-Policy"] == CSP
    assert "X-Request-ID" in headers
    assert "X-Frame-Options" not in headers
    assert "X-Powered-By" not in headers


# --- CORS -------------------------------------------------------------------


def test_cors_unset_allows_any_origin_without_credentials(client):
    headers = client.get("/", headers={"Origin": "https://anywhere.example"}).headers
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert headers["Access-Control-Expose-Headers"] == "X-Request-ID"


@pytest.fixture
def allowlist_client(make_app):
    return make_app(CORS_ORIGINS="https://app.example.com,https://*.hf.space").test_client()


@pytest.mark.parametrize("origin", ["https://app.example.com", "https://me-app.hf.space"])
def test_cors_allowlist_echoes_a_matching_origin_with_credentials(allowlist_client, origin):
    headers = allowlist_client.get("/", headers={"Origin": origin}).headers
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "https://evil.hf.space.example.com", "https://app.example.com.evil.io"]
)
def test_cors_allowlist_refuses_other_origins(allowlist_client, origin):
    response = allowlist_client.get("/", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_cors_allowlist_without_origin_sends_no_allow_origin(allowlist_client):
    assert "Access-Control-Allow-Origin" not in allowlist_client.get("/").headers


def test_preflight_answers_204_with_methods_headers_and_max_age(allowlist_client):
    response = allowlist_client.options(
        "/echo",
        headers={
            "Origin": "https://me-app.hf.space",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-request-id",
        },
    )
    assert response.status_code == 204
    assert response.data == b""
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == "https://me-app.hf.space"
    assert {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")} == {"GET", "HEAD", "POST", "OPTIONS"}
    assert {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")} == {
        "content-type",
        "authorization",
        "x-request-id",
    }
    assert headers["Access-Control-Max-Age"] == "600"


def test_preflight_from_a_refused_origin_gets_no_cors_headers(allowlist_client):
    response = allowlist_client.options(
        "/echo", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


# --- proxy ------------------------------------------------------------------


def test_forwarded_proto_makes_links_https(client):
    links = client.get("/", headers={"X-Forwarded-Proto": "https"}).get_json()["links"]
    assert links["health"] == "https://localhost/health"


@pytest.mark.parametrize("proto", ["javascript", "ftp", "https:", "", "http, javascript"])
def test_a_forwarded_scheme_other_than_http_or_https_is_ignored(client, proto):
    links = client.get("/", headers={"X-Forwarded-Proto": proto}).get_json()["links"]
    assert links["health"] == "http://localhost/health"


def test_the_last_forwarded_scheme_is_the_trusted_hop_s(client):
    links = client.get("/", headers={"X-Forwarded-Proto": "javascript, https"}).get_json()["links"]
    assert links["health"] == "https://localhost/health"


def test_links_come_from_space_host_whatever_the_request_says(make_app):
    client = make_app(SPACE_HOST="me-app.hf.space").test_client()
    headers = {"Host": "evil.example", "X-Forwarded-Proto": "http"}
    assert client.get("/", headers=headers).get_json()["links"] == {
        "health": "https://me-app.hf.space/health",
        "openapi": "https://me-app.hf.space/openapi.json",
    }


def test_links_take_a_valid_host_lowercased(client):
    links = client.get("/", headers={"Host": "Example.COM:8080"}).get_json()["links"]
    assert links["openapi"] == "http://example.com:8080/openapi.json"


@pytest.mark.parametrize(
    "host",
    ["evil.example/x?y#", "a b", "", "user@host", "[::1", "[zz::1]", "host:0", "host:65536", "host:", "a:1:2", "h%zz"],
)
def test_an_invalid_host_is_400(client, host):
    body = problem_of(client.get("/health", headers={"Host": host}), 400)
    assert body["detail"] == "The Host header is not a valid host[:port]."


def test_only_one_forwarded_hop_is_trusted(app):
    seen = {}

    @app.after_request
    def capture(response):
        from flask import request

        seen["addr"] = request.remote_addr
        return response

    app.test_client().get("/", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})
    assert seen["addr"] == "203.0.113.9"


# --- JSON bodies held to RFC 8259 and the contract's limits (nodejs-backend reads alike) ---


@pytest.mark.parametrize("text", ["NaN", "-Infinity", "[Infinity]", "1e999999", "9" * 400, "[1] x", "   "])
def test_json_that_is_not_rfc_8259_or_out_of_range_is_a_400_problem(client, text):
    problem_of(client.post("/echo", data=text, content_type="application/json"), 400)


def test_json_nested_past_the_limit_is_a_400_problem_naming_it(client):
    accepted = client.post("/echo", data="[" * 100 + "]" * 100, content_type="application/json")
    assert accepted.status_code == 200
    for depth in (101, 979, 5000):
        body = problem_of(client.post("/echo", data="[" * depth + "]" * depth, content_type="application/json"), 400)
        assert "100 levels" in body["detail"]


def test_a_body_that_is_not_utf_8_is_a_400_problem_and_a_bom_is_ignored(client):
    problem_of(client.post("/echo", data=b'"\xff"', content_type="application/json"), 400)
    problem_of(client.post("/echo", data="[1]".encode("utf-16"), content_type="application/json"), 400)
    assert client.post("/echo", data=b"\xef\xbb\xbf[1]", content_type="application/json").get_json()["received"] == [1]


def test_a_content_encoding_or_foreign_charset_is_a_415_problem(client):
    gzip = client.post("/echo", data="[1]", content_type="application/json", headers={"Content-Encoding": "gzip"})
    problem_of(gzip, 415)
    problem_of(client.post("/echo", data="[1]", content_type="application/json; charset=latin1"), 415)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Expect": "bogus"}, 417), ({"Transfer-Encoding": "gzip, chunked"}, 501)],
)
def test_headers_the_service_cannot_honour_are_problems(client, headers, status):
    problem_of(client.get("/health", headers=headers), status)


def test_an_oversize_body_closes_the_connection(make_app):
    response = (
        make_app(MAX_BODY_BYTES="16").test_client().post("/echo", data=b"x" * 17, content_type="application/json")
    )
    assert response.headers["Connection"] == "close"

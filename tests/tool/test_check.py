"""`hfspace check`: the repository's services as real processes pass every check;
local servers broken in one way each (tests/tool/servers.py) fail the check
that names their fault, with a message that says what is wrong."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hfspace import probe
from hfspace.cli import app
from tests.services import SERVICES, free_port, wait_healthy
from tests.tool import servers

ROOT = Path(__file__).resolve().parents[2]
HFSPACE = ROOT / ".venv" / "bin" / "hfspace"
ORIGIN = "http://example.test"
TOKEN = "hf_tEsTsEcReTtOkEn0123456789"


def check(*args: str, **env: str):
    """Run `hfspace check ARGS` in-process; env entries are set (or, when None, unset) for the run."""
    return CliRunner().invoke(app, ["check", *args], env={"HF_TOKEN": None, "REQUESTS_CA_BUNDLE": None, **env})


def results(outcome) -> dict[str, dict]:
    """The --json output of a one-URL run, by check name."""
    (report,) = json.loads(outcome.stdout)
    return {result["name"]: result for result in report["results"]}


def failed(outcome) -> set[str]:
    return {name for name, result in results(outcome).items() if result["status"] == "fail"}


# --- the real services ------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(SERVICES))
def service_url(request, tmp_path_factory):
    """One of our services started as its container command, CORS at its default (*)."""
    service, port, logs = SERVICES[request.param], free_port(), tmp_path_factory.mktemp(request.param)
    with (logs / "stdout").open("wb") as stdout, (logs / "stderr").open("wb") as stderr:
        process = service.start({"PORT": str(port), "CORS_ORIGINS": "*"}, stdout=stdout, stderr=stderr)
    try:
        if wait_healthy(f"http://127.0.0.1:{port}/health", process, timeout=30) is None:
            pytest.fail(f"{service.name} did not start: {(logs / 'stderr').read_text()[-2000:]}")
        yield request.param, f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_our_services_pass_every_check_including_contract_and_cors(service_url):
    name, url = service_url
    outcome = check(url, "--origin", ORIGIN, "--json")
    assert outcome.exit_code == 0, outcome.output
    (report,) = json.loads(outcome.stdout)
    assert report["ok"] and report["service"] == name
    statuses = {result["name"]: result["status"] for result in report["results"]}
    expected = ["reachable", "redirects", "GET /", "HEAD /", "GET /health", "HEAD /health"]
    expected += ["contract GET /", "contract GET /health", "contract 404", "embedding"]
    expected += [f"cors simple {ORIGIN}", f"cors preflight {ORIGIN}"]
    assert statuses == dict.fromkeys(expected, "pass")


def test_our_service_table_names_the_service_and_every_check(service_url):
    name, url = service_url
    outcome = check(url)
    assert outcome.exit_code == 0, outcome.output
    assert f"{url} ({name})" in outcome.stdout
    for check_name in ("HEAD /health", "contract 404", "embedding"):
        assert check_name in outcome.stdout
    assert "fail" not in outcome.stdout


# --- servers broken in one way each --------------------------------------------------

BROKEN = [
    pytest.param(servers.HtmlHealth, [], {"GET /health": "text/html"}, id="html-health"),
    pytest.param(servers.RefusesHead, [], {"HEAD /": "405"}, id="head-405"),
    pytest.param(servers.FrameDeny, [], {"embedding": "X-Frame-Options: DENY"}, id="x-frame-options-deny"),
    pytest.param(servers.FrameAncestorsNone, [], {"embedding": "frame-ancestors 'none'"}, id="frame-ancestors-none"),
    pytest.param(
        servers.WildcardCredentials,
        ["--origin", ORIGIN],
        {f"cors simple {ORIGIN}": "browsers refuse", f"cors preflight {ORIGIN}": "browsers refuse"},
        id="wildcard-with-credentials",
    ),
    pytest.param(
        servers.Impostor,
        [],
        {
            "GET /health": "expected application/health+json",
            "contract GET /": "'version' is a required property",
            "contract GET /health": "the contract says application/health+json",
            "contract 404": "the contract says application/problem+json",
        },
        id="claims-to-be-ours",
    ),
]


@pytest.mark.parametrize(("handler", "args", "faults"), BROKEN)
def test_broken_server_fails_the_check_that_names_its_fault(handler, args, faults):
    with servers.serve(handler) as (url, _):
        outcome = check(url, *args, "--json")
        table = check(url, *args)
    assert outcome.exit_code == 1 and table.exit_code == 1, outcome.output
    assert failed(outcome) == set(faults)
    for name, words in faults.items():
        assert words in results(outcome)[name]["detail"]
        assert name in table.stdout


def test_a_space_naming_our_service_is_held_to_the_contract_schemas():
    with servers.serve(servers.Impostor) as (url, _):
        outcome = check(url, "--json")
    assert json.loads(outcome.stdout)[0]["service"] == "python-backend"
    assert results(outcome)["contract GET /"]["detail"] == "does not match Status: /: 'version' is a required property"


def test_foreign_space_that_works_passes_with_contract_skipped():
    with servers.serve(servers.Space) as (url, _):
        outcome = check(url, "--origin", ORIGIN, "--json")
    assert outcome.exit_code == 0, outcome.output
    by_name = results(outcome)
    assert by_name["contract"]["status"] == "skip" and "not one of ours" in by_name["contract"]["detail"]
    assert by_name[f"cors preflight {ORIGIN}"]["status"] == "pass"


def test_foreign_space_without_health_skips_health_instead_of_failing():
    class NoHealth(servers.Space):
        def route(self) -> None:
            if self.path == "/":
                super().route()
            else:
                self.send(404, b"not found", "text/plain")

    with servers.serve(NoHealth) as (url, _):
        outcome = check(url, "--json")
    assert outcome.exit_code == 0, outcome.output
    by_name = results(outcome)
    assert (by_name["GET /health"]["status"], by_name["HEAD /health"]["status"]) == ("skip", "skip")


def test_preflight_that_does_not_allow_content_type_fails():
    class NarrowPreflight(servers.Space):
        def do_OPTIONS(self) -> None:
            self.send(204, content_type="text/plain", **{"Access-Control-Allow-Methods": "GET, POST"})

    with servers.serve(NarrowPreflight) as (url, _):
        outcome = check(url, "--origin", ORIGIN, "--json")
    assert outcome.exit_code == 1
    assert failed(outcome) == {f"cors preflight {ORIGIN}"}
    assert "does not cover content-type" in results(outcome)[f"cors preflight {ORIGIN}"]["detail"]


# --- starting, waking, unreachable ---------------------------------------------------


def test_waking_space_passes_with_wait_after_polling():
    with servers.serve(servers.Waking) as (url, seen):
        outcome = check(url, "--wait", "20", "--json")
    assert outcome.exit_code == 0, outcome.output
    assert results(outcome)["reachable"]["detail"] == "HTTP 200 after 3 attempts"
    assert len(seen) > servers.Waking.cold


def test_waking_space_fails_without_wait_and_says_so():
    with servers.serve(servers.Waking) as (url, _):
        outcome = check(url, "--json")
    assert outcome.exit_code == 1
    assert failed(outcome) == {"reachable"}
    assert "answers 503" in results(outcome)["reachable"]["detail"]
    assert "--wait" in results(outcome)["reachable"]["detail"]


def test_connection_refused_fails_at_once_without_wait():
    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    outcome = check(url, "--json")
    assert time.monotonic() - start < 5
    assert outcome.exit_code == 1
    assert results(outcome)["reachable"]["detail"].startswith("connection refused: nothing listens on 127.0.0.1:")


def test_wait_gives_up_on_a_space_that_never_starts():
    url = f"http://127.0.0.1:{free_port()}"
    outcome = check(url, "--wait", "1", "--json")
    assert outcome.exit_code == 1
    assert re.search(r"still so after waiting 1 s \([23] attempts\)", results(outcome)["reachable"]["detail"])


# --- TLS and redirects ------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return servers.self_signed(tmp_path_factory.mktemp("tls"))


def test_self_signed_certificate_fails_tls_with_a_clear_message(certificate):
    _, context = certificate
    with servers.serve(servers.Space, tls=context) as (url, _):
        outcome = check(url, "--json")
    assert outcome.exit_code == 1
    assert failed(outcome) == {"tls"}
    detail = results(outcome)["tls"]["detail"]
    assert "does not verify" in detail and "self-signed certificate" in detail


def test_trusted_https_space_passes_tls(certificate):
    cert, context = certificate
    with servers.serve(servers.Space, tls=context) as (url, _):
        outcome = check(url, "--json", REQUESTS_CA_BUNDLE=str(cert))
    assert outcome.exit_code == 0, outcome.output
    assert results(outcome)["tls"] == {**results(outcome)["tls"], "status": "pass", "detail": "certificate verified"}


def test_https_redirect_to_http_fails_redirects(certificate):
    cert, context = certificate
    with (
        servers.serve(servers.Space) as (plain, plain_seen),
        servers.serve(servers.redirect_to(plain + "/"), tls=context) as (url, _),
    ):
        outcome = check(url, "--json", REQUESTS_CA_BUNDLE=str(cert))
    assert outcome.exit_code == 1
    assert "redirects" in failed(outcome)
    detail = results(outcome)["redirects"]["detail"]
    assert detail.startswith(f"{url}/ -> {plain}/: an https Space must never redirect to http://")
    assert plain_seen == []  # the downgrade is reported, not followed


def test_redirect_chain_is_reported_and_followed():
    with servers.serve(servers.Space) as (target, _), servers.serve(servers.redirect_to(target + "/")) as (url, _):
        outcome = check(url, "--json")
    (report,) = json.loads(outcome.stdout)
    assert report["redirects"] == [f"301 {url}/ -> {target}/"]
    assert results(outcome)["redirects"] == {**results(outcome)["redirects"], "status": "pass"}
    assert results(outcome)["GET /"]["status"] == "pass"


# --- the token ---------------------------------------------------------------------------


def test_token_is_sent_as_bearer_to_the_space_only():
    with (
        servers.serve(servers.Space) as (elsewhere, elsewhere_seen),
        servers.serve(servers.redirect_to(elsewhere + "/")) as (url, seen),
    ):
        outcome = check(url, "--token", TOKEN, "--json")
    assert outcome.exit_code == 0, outcome.output
    assert seen and all(headers.get("Authorization") == f"Bearer {TOKEN}" for headers in seen)
    assert elsewhere_seen and not any("Authorization" in headers for headers in elsewhere_seen)


def test_hf_token_from_the_environment_is_not_sent_to_a_server_that_is_not_a_space():
    with servers.serve(servers.Space) as (url, seen):
        outcome = check(url, "--json", HF_TOKEN=TOKEN)
    assert outcome.exit_code == 0, outcome.output
    assert seen and not any("Authorization" in headers for headers in seen)


def test_hf_token_goes_only_to_https_hf_space_hosts():
    assert probe.resolve_token("https://me-app.hf.space", None, {"HF_TOKEN": TOKEN}) == TOKEN
    assert probe.resolve_token("http://127.0.0.1:7860", None, {"HF_TOKEN": TOKEN}) is None
    assert probe.resolve_token("https://hf.space.example.com", None, {"HF_TOKEN": TOKEN}) is None
    assert probe.resolve_token("http://127.0.0.1:7860", "explicit", {"HF_TOKEN": TOKEN}) == "explicit"


class EchoesToken(servers.Space):
    """Puts whatever Authorization it gets into its CORS and redirect headers: a failure detail quotes them."""

    def route(self) -> None:
        echoed = self.headers.get("Authorization", "")
        self.extra_headers = {"Access-Control-Allow-Origin": echoed}
        if self.path == "/":
            self.send(302, content_type="text/plain", Location=f"/landing?t={echoed.split()[-1]}")
        else:
            self.send(200, b"{}", **{"Access-Control-Allow-Origin": echoed})


def test_token_never_appears_in_output_even_in_failures(certificate):
    _, context = certificate
    outputs = []
    with servers.serve(EchoesToken) as (url, seen):
        for args in (["--origin", ORIGIN], ["--origin", ORIGIN, "--json"]):
            outcome = check(url, "--token", TOKEN, *args)
            assert outcome.exit_code == 1
            outputs.append(outcome.output)
    assert any(headers.get("Authorization") == f"Bearer {TOKEN}" for headers in seen)
    assert "***" in outputs[1]  # the echoed token was there, and was scrubbed
    with servers.serve(servers.Space, tls=context) as (tls_url, _):
        outputs.append(check(tls_url, "--token", TOKEN).output)
    outputs.append(check(f"http://127.0.0.1:{free_port()}", "--token", TOKEN).output)
    outputs.append(check(f"http://127.0.0.1:{free_port()}", "--json", HF_TOKEN=TOKEN).output)
    for output in outputs:
        assert output and TOKEN not in output


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["localhost:7860", "ftp://example.com", "example.com", "http://", "http://a:99999"])
def test_invalid_url_is_one_error_line_with_exit_2(url):
    outcome = check(url)
    assert outcome.exit_code == 2
    lines = outcome.stderr.splitlines()
    assert lines[0].startswith("error: ") and [line for line in lines if line.startswith("error:")] == [lines[0]]
    assert outcome.stdout == ""


def test_every_failure_exits_1_and_one_failing_url_fails_the_run():
    with servers.serve(servers.Space) as (good, _), servers.serve(servers.RefusesHead) as (bad, _):
        assert check(good).exit_code == 0
        assert check(bad).exit_code == 1
        outcome = check(good, bad, "--json")
    assert outcome.exit_code == 1
    reports = json.loads(outcome.stdout)
    assert [(report["url"], report["ok"]) for report in reports] == [(good, True), (bad, False)]


def test_installed_command_prints_json_that_parses():
    with servers.serve(servers.Space) as (url, _):
        completed = subprocess.run(
            [HFSPACE, "check", url, "--json"], capture_output=True, text=True, timeout=30, check=False
        )
    assert completed.returncode == 0, completed.stderr
    (report,) = json.loads(completed.stdout)
    assert report["url"] == url and report["ok"] is True


# --- the rules on their own ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sources", "allowed"),
    [
        (["'self'", "https://huggingface.co"], True),
        (["huggingface.co"], True),
        (["https://*.co"], True),
        (["*"], True),
        (["https:"], True),
        (["https://huggingface.co:443"], True),
        (["'none'"], False),
        (["'self'"], False),
        (["https://*.huggingface.co"], False),  # subdomains only, not huggingface.co itself
        (["https://huggingface.co.evil.example"], False),
        (["https://huggingface.co:8443"], False),
        ([], False),
    ],
)
def test_frame_ancestors_matching(sources, allowed):
    assert probe.allows_embedder(sources) is allowed


def test_contract_copy_ships_with_the_tool_and_matches_the_source():
    import yaml

    assert probe.contract() == yaml.safe_load((ROOT / "contract" / "openapi.yaml").read_text())
    assert probe.our_services() == ("python-backend", "nodejs-backend")


def test_a_single_page_app_that_answers_health_with_its_page_has_no_health_and_passes():
    with servers.serve(servers.SinglePageApp) as (url, _):
        outcome = check(url, "--json")
    assert outcome.exit_code == 0, outcome.output
    by_name = results(outcome)
    assert by_name["GET /health"]["status"] == "skip" and "the same page as GET /" in by_name["GET /health"]["detail"]
    assert by_name["HEAD /health"]["status"] == "skip"

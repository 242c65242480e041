"""The dashboard against real backends: what it shows when CORS allows its origin, refuses it, or allows all."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser.conftest import EMPTY


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_both_backends_show_their_status_when_cors_origins_names_the_page(visit, site, fleet):
    python, node = fleet["python", "allow"], fleet["node", "allow"]
    visit.open(site.dashboard(python, node))

    for key, service in (("python", "python-backend"), ("node", "nodejs-backend")):
        assert visit.state(key) == "ok"
        assert visit.card(key).locator(".badge-text").inner_text() == "Healthy"
        assert visit.field(key, "service") == service
        assert visit.field(key, "health") == "✓ pass"
        assert visit.field(key, "space") == f"me/{service}"
        assert visit.field(key, "environment") == "production"
        assert visit.field(key, "rtt").endswith(" ms")
        assert visit.card(key).locator(".message").is_hidden()
    assert visit.field("python", "runtime").startswith("python 3.")
    assert visit.field("node", "runtime").startswith("node 26.")
    assert visit.errors == []
    # Nothing but the page's own files and the two backends: no CDN, no fonts, no beacons.
    assert {origin(url) for url in visit.requests} == {site.origin, python.url, node.url}


@pytest.mark.parametrize("refused", ["python", "node"])
def test_an_allowlist_without_the_page_origin_shows_a_cors_refusal_while_the_other_backend_works(
    visit, site, fleet, refused
):
    allowed = "node" if refused == "python" else "python"
    chosen = {refused: fleet[refused, "elsewhere"], allowed: fleet[allowed, "allow"]}
    visit.open(site.dashboard(chosen["python"], chosen["node"]))

    assert visit.state(refused) == "cors"
    assert visit.card(refused).locator(".badge-text").inner_text() == "CORS refused"
    message = visit.card(refused).locator(".message").inner_text()
    assert site.origin in message and "CORS_ORIGINS" in message
    assert visit.field(refused, "service") == EMPTY  # nothing the browser refused to hand over is shown
    assert visit.state(allowed) == "ok"
    assert visit.field(allowed, "health") == "✓ pass"
    # The refusal is the browser's: the backend itself answered and keeps serving.
    assert requests.get(chosen[refused].url + "/", timeout=5).status_code == 200
    answered = [line for line in chosen[refused].requests() if line["method"] == "GET" and line["path"] == "/"]
    assert answered and all(line["status"] == 200 for line in answered)


def test_both_backends_work_with_cors_origins_unset(visit, site, fleet):
    visit.open(site.dashboard(fleet["python", "star"], fleet["node", "star"]))

    assert (visit.state("python"), visit.state("node")) == ("ok", "ok")
    assert (visit.field("python", "service"), visit.field("node", "service")) == ("python-backend", "nodejs-backend")
    assert visit.field("python", "space") == "not on a Space"
    assert visit.errors == []


def test_an_unreachable_backend_is_reported_as_a_network_failure_not_cors(visit, site, fleet):
    from tests.services import free_port

    nothing = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    visit.open(site.url(python=fleet["python", "star"].url, node=nothing, interval=0))

    assert visit.state("node") == "network"
    assert visit.card("node").locator(".badge-text").inner_text() == "Unreachable"
    assert "no answer from" in visit.card("node").locator(".message").inner_text()
    assert visit.card("node").locator('.preflight[data-result="skipped"]').count() == 1
    assert visit.state("python") == "ok"


def test_an_http_error_status_is_reported_with_its_code(visit, site, fleet):
    # A base URL with a path the backend does not serve: GET /missing/ answers a 404 problem, with CORS headers.
    star = fleet["node", "star"]
    visit.open(site.url(python=fleet["python", "star"].url, node=f"{star.url}/missing", interval=0))

    assert visit.state("node") == "degraded"
    assert visit.card("node").locator(".badge-text").inner_text() == "Unhealthy"
    assert "HTTP 404" in visit.card("node").locator(".message").inner_text()


def test_a_backend_that_never_answers_is_reported_as_timed_out(visit, site, fleet):
    page = visit.page
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        page.clock.install()  # the page's 5 s deadline, run on the test's clock
        page.goto(site.url(python=fleet["python", "star"].url, node=f"http://127.0.0.1:{silent.getsockname()[1]}"))
        page.wait_for_function("() => document.querySelector('#card-python').dataset.state === 'ok'")
        assert visit.state("node") == "checking"

        page.clock.run_for(5_500)
        visit.wait_refreshes(1)

    assert visit.state("node") == "timeout"
    assert visit.card("node").locator(".badge-text").inner_text() == "Timed out"
    assert "no answer within 5 s" in visit.card("node").locator(".message").inner_text()
    assert visit.state("python") == "ok"

"""The preflighted request: POST /echo with Content-Type: application/json and a custom X-Request-ID."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import EMPTY
from tests.conftest import wait_until


def _lines(backend, method: str, request_id: str | None = None) -> list[dict]:
    return [
        line
        for line in backend.requests()
        if line["method"] == method and line["path"] == "/echo" and request_id in (None, line.get("request_id"))
    ]


@pytest.fixture
def allowing(fleet):
    """Both backends with CORS_ORIGINS naming the `site` origin only."""
    return {"python": fleet["python", "allow"], "node": fleet["node", "allow"]}


def test_a_preflighted_echo_from_the_allowed_origin_gets_its_request_id_back(visit, site, allowing):
    asked_before = {key: len(_lines(backend, "OPTIONS")) for key, backend in allowing.items()}
    visit.open(site.dashboard(allowing["python"], allowing["node"]))

    for key, backend in allowing.items():
        assert visit.card(key).locator(".preflight").get_attribute("data-result") == "ok"
        sent = visit.field(key, "preflight-sent")
        assert sent.startswith("frontend-")
        assert visit.field(key, "preflight-echoed") == sent
        assert visit.field(key, "preflight-result").startswith("✓ Allowed")
        # The backend saw the browser ask (OPTIONS), then the POST carrying the page's own id.
        posts = wait_until(lambda backend=backend, sent=sent: _lines(backend, "POST", sent), timeout=5)
        assert posts and posts[0]["status"] == 200
        assert len(_lines(backend, "OPTIONS")) > asked_before[key]
    assert visit.errors == []


def test_a_preflighted_echo_from_an_origin_the_allowlist_leaves_out_is_refused_before_the_post(
    visit, other_site, allowing
):
    asked_before = {key: len(_lines(backend, "OPTIONS")) for key, backend in allowing.items()}
    visit.open(other_site.dashboard(allowing["python"], allowing["node"]))

    for key, backend in allowing.items():
        assert visit.card(key).locator(".preflight").get_attribute("data-result") == "cors"
        assert visit.field(key, "preflight-result").startswith("⊘ Refused (CORS)")
        assert visit.field(key, "preflight-echoed") == EMPTY
        sent = visit.field(key, "preflight-sent")
        # The browser asked, got no Access-Control-Allow-Origin, and never sent the POST itself.
        assert wait_until(lambda backend=backend, key=key: len(_lines(backend, "OPTIONS")) > asked_before[key], 5)
        assert _lines(backend, "POST", sent) == []
        # The backend is fine: the same POST from outside a browser (no CORS there) is echoed.
        direct = requests.post(f"{backend.url}/echo", json={"x": 1}, headers={"X-Request-ID": sent}, timeout=5)
        assert (direct.status_code, direct.json()["request_id"]) == (200, sent)


def test_the_preflight_button_sends_a_new_request_id_each_time(visit, site, allowing):
    visit.open(site.dashboard(allowing["python"], allowing["node"]))
    first = visit.field("node", "preflight-sent")

    visit.card("node").locator(".preflight-run").click()
    visit.page.wait_for_function(
        """first => {
            const card = document.querySelector('#card-node');
            const sent = card.querySelector('[data-field="preflight-sent"]').textContent;
            return sent !== first && card.querySelector('.preflight').dataset.result === 'ok';
        }""",
        arg=first,
    )
    second = visit.field("node", "preflight-sent")
    assert second != first and visit.field("node", "preflight-echoed") == second

"""How the dashboard behaves: the sparkline, the refresh loop, configuration, layout, accessibility."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.browser.conftest import SCREENSHOTS
from tests.services import free_port


def _points(visit, key: str) -> list[str]:
    return visit.card(key).locator(".sparkline .spark-point").evaluate_all("els => els.map(e => e.classList[1])")


def test_each_refresh_adds_one_sparkline_point_per_backend(visit, site, fleet):
    nothing = f"http://127.0.0.1:{free_port()}"
    visit.open(site.url(python=fleet["python", "star"].url, node=nothing, interval=0))
    assert (_points(visit, "python"), _points(visit, "node")) == (["spark-ok"], ["spark-fail"])

    for count in (2, 3):
        visit.page.get_by_role("button", name="Refresh now").click()
        visit.wait_refreshes(count)
    assert _points(visit, "python") == ["spark-ok"] * 3
    assert _points(visit, "node") == ["spark-fail"] * 3  # a failure is a mark too, not only a colour
    assert visit.card("python").locator(".sparkline").get_attribute("data-samples") == "3"
    assert "0 of 3 failed" in visit.card("python").locator(".trend-caption").inner_text()
    assert "3 of 3 failed" in visit.card("node").locator(".sparkline").get_attribute("aria-label")


def test_a_backend_that_goes_down_turns_unreachable_and_the_change_is_announced(visit, site, fleet, backends):
    doomed = backends.start_healthy("nodejs-backend", None)
    visit.open(site.url(python=fleet["python", "star"].url, node=doomed.url, interval=0))
    assert visit.state("node") == "ok"

    doomed.stop()
    visit.page.get_by_role("button", name="Refresh now").click()
    visit.wait_refreshes(2)

    assert visit.state("node") == "network"
    assert _points(visit, "node") == ["spark-ok", "spark-fail"]
    announcer = visit.page.locator("#announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    visit.page.wait_for_function(
        "() => document.getElementById('announcer').textContent.startsWith('Node.js backend: Unreachable')"
    )
    assert visit.state("python") == "ok"


def test_auto_refresh_runs_on_the_configured_interval_and_the_pause_button_stops_it(visit, site, fleet):
    page = visit.page
    page.clock.install()  # timers under the test's control: no waiting for real seconds
    # No interval parameter: config.js's 10 s.
    visit.open(site.url(python=fleet["python", "star"].url, node=fleet["node", "star"].url))
    started = lambda: int(page.locator("body").get_attribute("data-started"))  # noqa: E731
    assert started() == 1
    assert "every 10 s" in page.locator("#refresh-status").inner_text()

    page.clock.run_for(10_000)
    visit.wait_refreshes(2)
    assert started() == 2

    pause = page.get_by_role("button", name="Pause auto-refresh")
    pause.click()
    assert pause.get_attribute("aria-pressed") == "true"
    assert "paused" in page.locator("#refresh-status").inner_text()
    page.clock.run_for(60_000)
    assert started() == 2

    pause.click()
    assert pause.get_attribute("aria-pressed") == "false"
    page.clock.run_for(10_000)
    visit.wait_refreshes(3)
    assert _points(visit, "python") == ["spark-ok"] * 3


def test_without_query_parameters_the_page_calls_the_urls_of_spaces_json(visit, site):
    visit.open(site.url())

    assert visit.card("python").locator(".url-link").inner_text() == "http://localhost:7860"
    assert visit.card("node").locator(".url-link").inner_text() == "http://localhost:7861"
    assert {"http://localhost:7860/", "http://localhost:7861/"} <= set(visit.requests)
    assert visit.page.get_by_label("Python backend URL").input_value() == "http://localhost:7860"
    assert visit.page.locator("#config-problems").is_hidden()


def test_the_urls_come_from_spaces_json_as_deploy_writes_it(visit, fleet, tmp_path):
    """What `hfspace deploy --all` does to the frontend Space: a spaces.json naming the backends'
    Hub URLs. The same page, served with that file, calls them with no query parameter."""
    import json
    import shutil

    from tests.browser.conftest import FRONTEND, _serve

    python, node = fleet["python", "star"], fleet["node", "star"]
    folder = tmp_path / "frontend"
    shutil.copytree(FRONTEND, folder)
    (folder / "spaces.json").write_text(json.dumps({"python-backend": python.url, "nodejs-backend": node.url}))
    with _serve(folder) as deployed:
        visit.open(deployed.url())
        visit.wait_refreshes(1)
        assert visit.card("python").locator(".url-link").inner_text() == python.url
        services = (visit.field("python", "service"), visit.field("node", "service"))
        assert services == ("python-backend", "nodejs-backend")
        assert not any(":7860/" in url or ":7861/" in url for url in visit.requests)
        assert visit.page.locator("#config-problems").is_hidden() and visit.errors == []


def test_a_backend_spaces_json_does_not_name_is_reported_not_called(visit, fleet, tmp_path):
    import json
    import shutil

    from tests.browser.conftest import FRONTEND, _serve

    folder = tmp_path / "frontend"
    shutil.copytree(FRONTEND, folder)
    (folder / "spaces.json").write_text(json.dumps({"nodejs-backend": fleet["node", "star"].url}))
    with _serve(folder) as deployed:
        visit.open(deployed.url())
        visit.wait_refreshes(1)
        problems = visit.page.locator("#config-problems")
        assert problems.is_visible() and "no http(s) URL for python-backend" in problems.inner_text()
        assert visit.state("python") == "network" and visit.state("node") == "ok"


def test_query_parameters_override_the_config(visit, site, fleet):
    python, node = fleet["python", "star"], fleet["node", "star"]
    visit.open(site.url(python=python.url, node=node.url, interval=30))

    assert visit.card("python").locator(".url-link").inner_text() == python.url
    assert visit.card("node").locator(".url-link").inner_text() == node.url
    assert (visit.field("python", "service"), visit.field("node", "service")) == ("python-backend", "nodejs-backend")
    assert not any(":7860/" in url or ":7861/" in url for url in visit.requests)
    assert "every 30 s" in visit.page.locator("#refresh-status").inner_text()
    assert visit.page.get_by_label("Node.js backend URL").input_value() == node.url


def test_a_malformed_query_parameter_is_reported_and_the_default_kept(visit, site, fleet):
    visit.open(site.url(python="ftp://example.invalid", node=fleet["node", "star"].url, interval=0))

    problems = visit.page.locator("#config-problems")
    assert problems.is_visible() and "?python=ftp://example.invalid" in problems.inner_text()
    assert visit.card("python").locator(".url-link").inner_text() == "http://localhost:7860"
    assert not any(urlsplit(url).hostname == "example.invalid" for url in visit.requests)


def _horizontal_overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_the_layout_fits_a_phone_and_sets_the_cards_side_by_side_on_a_desktop(visit, site, fleet):
    page = visit.page
    # The longest content there is: a refused backend's message next to a full card, and the settings open.
    visit.open(site.dashboard(fleet["python", "allow"], fleet["node", "elsewhere"]))
    page.locator("details.settings summary").click()

    python, node = visit.card("python").bounding_box(), visit.card("node").bounding_box()
    assert _horizontal_overflow(page) <= 0
    assert python["y"] == node["y"] and python["x"] + python["width"] <= node["x"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "layout_at_1280px.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    python, node = visit.card("python").bounding_box(), visit.card("node").bounding_box()
    assert _horizontal_overflow(page) <= 0
    assert node["y"] >= python["y"] + python["height"]  # stacked
    assert python["x"] >= 0 and python["x"] + python["width"] <= 375


def test_the_page_has_landmarks_headings_labels_and_a_live_region(visit, site, fleet):
    page = visit.page
    visit.open(site.dashboard(fleet["python", "star"], fleet["node", "star"]))

    for role in ("banner", "main", "contentinfo"):
        assert page.get_by_role(role).count() == 1, role
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_role("heading", level=2, name="Python backend").count() == 1
    assert page.get_by_role("heading", level=2, name="Node.js backend").count() == 1
    assert page.get_by_role("article", name="Node.js backend").count() == 1
    for label in ("Python backend URL", "Node.js backend URL", "Refresh every (seconds, 0 to start paused)"):
        assert page.get_by_label(label).count() == 1, label
    announcer = page.locator("#announcer")
    assert (announcer.get_attribute("role"), announcer.get_attribute("aria-live")) == ("status", "polite")
    # Both cards' first results, read out together as one message.
    page.wait_for_function(
        "() => /Python backend: Healthy.*Node.js backend: Healthy|Node.js backend: Healthy.*Python backend: Healthy/"
        ".test(document.getElementById('announcer').textContent)"
    )
    # Each state carries words and a symbol, not only a colour; each chart has a text alternative.
    assert page.locator("#card-python .badge").inner_text() == "✓ Healthy"
    assert page.get_by_role("img", name=re.compile(r"^Round-trip times of the last check: last \d+ ms")).count() == 2
    assert page.get_by_role("button", name="Send preflighted request").count() == 2

"""The frontend folder as a Space: a valid card, nothing dropped on upload, nothing loaded from elsewhere.
These need no browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

from tests.browser.conftest import FRONTEND
from tests.services import ROOT

CODE = ("*.html", "*.css", "*.js", "*.svg")
# The only absolute URLs the page's code may hold: the SVG namespace and the local backends.
ALLOWED_URL = re.compile(r"http://(www\.w3\.org/2000/svg|localhost:\d+)\b")


def _card() -> dict:
    text = (FRONTEND / "README.md").read_text()
    return yaml.safe_load(text.split("---", 2)[1])


def test_hfspace_validate_finds_nothing_in_the_frontend_folder():
    result = subprocess.run(
        [sys.executable, "-m", "hfspace", "validate", str(FRONTEND), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == [] and (report["errors"], report["warnings"]) == (0, 0)


def test_the_card_describes_a_static_space_served_from_index_html():
    card = _card()
    assert card["sdk"] == "static" and card["app_file"] == "index.html"
    assert (FRONTEND / card["app_file"]).is_file()
    assert card["license"] == "mit" and card["title"] and card["emoji"]
    assert len(card["short_description"]) <= 60
    readme = (FRONTEND / "README.md").read_text()
    assert "https://OWNER-NAME.static.hf.space" in readme and "CORS_ORIGINS" in readme


def test_the_config_defaults_are_the_ports_make_run_serves():
    # `make run` is `hfspace up python-backend nodejs-backend frontend --port 7860`: one port each, in that order.
    makefile = (ROOT / "Makefile").read_text()
    command = re.search(r"hfspace up ([\w\- ]+) --port \$\(RUN_PORT\)", makefile).group(1).split()
    first = int(re.search(r"^RUN_PORT \?= (\d+)$", makefile, re.MULTILINE).group(1))
    config = (FRONTEND / "config.js").read_text()
    wiring = json.loads((FRONTEND / "spaces.json").read_text())
    for name, key in (("python-backend", "python"), ("nodejs-backend", "node")):
        port = first + command.index(name)
        assert re.search(rf"key: '{key}'.*space: '{name}'", config), name
        assert wiring[name] == f"http://localhost:{port}", (name, port)


def _without_comments(text: str) -> str:
    text = re.sub(r"<!--.*?-->|/\*.*?\*/", "", text, flags=re.DOTALL)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def test_the_page_loads_nothing_from_another_site():
    for pattern in CODE:
        for path in FRONTEND.glob(pattern):
            code = _without_comments(path.read_text())
            for url in re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s'\"`)]*", code):
                assert ALLOWED_URL.match(url), f"{path.name}: {url}"
    html = (FRONTEND / "index.html").read_text()
    assert "script-src 'self'" in html and "style-src 'self'" in html  # the CSP keeps it that way


def test_the_gitignore_keeps_local_files_out_and_every_shipped_file_in(tmp_path):
    shipped = sorted(str(p.relative_to(FRONTEND)) for p in FRONTEND.rglob("*") if p.is_file())
    local = [".env", ".env.local", "node_modules/x/index.js", "debug.log"]
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True, timeout=30)
    (tmp_path / ".gitignore").write_text((FRONTEND / ".gitignore").read_text())
    result = subprocess.run(
        ["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin"],
        input="\n".join([*shipped, *local]),
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode in (0, 1), result.stderr
    assert set(result.stdout.split()) == set(local)

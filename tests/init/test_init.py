"""`hfspace init` without Docker: what it detects in each real app of tests/apps (with the line
that says so), the files it writes and the ones it leaves alone, --dry-run, --force, a second
run that changes nothing, and the adapters it writes (run for real: the Node preload under
node, the ASGI/WSGI wrappers and the Django settings module under Python)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from hfspace import init
from hfspace.cli import app
from hfspace.space import load
from tests.conftest import wait_until
from tests.services import free_ports

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "tests" / "apps"


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"SPACE_ID": None, "SPACE_HOST": None})


def copy_app(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(APPS / name / "app", folder)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# What init must find in each app: framework, app_port, the CMD (or the sdk), and notes that must be said.
EXPECTED = {
    "django-wagtail-start": (
        "django", 7860, ["gunicorn", "mysite.wsgi:application"],
        ["settings mysite.settings.dev", "mysite/settings/base.py:88", "XFrame", "mysite/settings/dev.py:7"],
    ),
    "express-generator-myapp": ("express", 7860, ["node", "bin/www"], ["bin/www:15", "no lockfile", "SIGTERM"]),
    "fastapi-docs-app-testing": ("fastapi", 7860, ["uvicorn", "hfspace_asgi:app"], ["HEAD", "(fastapi), unpinned"]),
    "fastify-cli-myapp": (
        "fastify", 7860, ["node", "node_modules/fastify-cli/cli.js", "start", "--address=0.0.0.0", "app.js"],
        ["fastify-cli serves the plugin app.js", "close-with-grace"],
    ),
    "nestjs-cli-myapp": (
        "@nestjs/core", 7860, ["node", "--require=./hfspace-preload.cjs", "dist/main"],
        ["start:prod", "`npm run build` (`nest build`)", "npm prune --omit=dev", "src/main.ts:8", "SIGTERM"],
    ),
    "flask-javascript-example": (
        "flask", 7860, ["gunicorn", "js_example:app"], ["js_example/__init__.py:3", "gunicorn==27.0.1"],
    ),
    "flask-tutorial-flaskr": (
        "flask", 7860, ["gunicorn", "flaskr:create_app()"], ["flask --app flaskr init-db", "flaskr/__init__.py:8"],
    ),
    "streamlit-hello": ("streamlit", 7860, ["streamlit", "run", "streamlit_app.py"], ["pydeck", "unpinned"]),
    "static-startbootstrap-resume": ("static", None, None, ["sdk: static"]),
}  # fmt: skip


def test_every_vendored_app_has_an_expectation():
    assert sorted(EXPECTED) == sorted(p.name for p in APPS.iterdir() if (p / "app").is_dir())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_init_detects_the_app_writes_a_space_that_validates_and_leaves_the_apps_files_alone(name, tmp_path):
    framework, port, command, said = EXPECTED[name]
    folder = copy_app(name, tmp_path)
    before = digest(folder)
    result = cli("init", str(folder))
    assert result.exit_code == 0, result.output
    assert "validate: 0 errors" in result.output
    for words in said:
        assert words in result.output, result.output
    after = digest(folder)
    changed = {path for path in before if after.get(path) != before[path]}
    assert changed <= {"README.md", ".gitignore", ".dockerignore"}, changed
    space = load(folder)
    if framework == "static":
        assert space.sdk == "static" and "Dockerfile" not in after
        return
    assert space.sdk == "docker" and space.app_port == port
    assert all(word in space.command.argv for word in command), space.command.argv
    assert space.listen.port in (port, None) and space.listen.host in ("0.0.0.0", None)  # None: all interfaces
    assert space.ownership.uid == 1000  # the container runs as uid 1000, which owns /app and HOME
    assert space.runtime_home in ("/home/user", "/home/node")
    assert space.dockerfile.config.healthcheck is not None
    assert len(space.dockerfile.stages) == 2
    if "README.md" in before:  # the app's own text is kept below the card
        assert (folder / "README.md").read_text().endswith((APPS / name / "app" / "README.md").read_text())


def test_a_second_run_changes_nothing_and_an_existing_file_is_only_replaced_with_force(tmp_path):
    folder = copy_app("flask-javascript-example", tmp_path)
    assert cli("init", str(folder)).exit_code == 0
    written = digest(folder)
    again = cli("init", str(folder))
    assert again.exit_code == 0 and digest(folder) == written
    assert "create" not in again.output and "unchanged Dockerfile" in " ".join(again.output.split())
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# mine\n")
    kept = cli("init", str(folder))
    assert "--force replaces it" in kept.output and dockerfile.read_text().endswith("# mine\n")
    forced = cli("init", str(folder), "--force")
    assert forced.exit_code == 0 and not dockerfile.read_text().endswith("# mine\n")


def test_dry_run_prints_the_files_and_writes_nothing(tmp_path):
    folder = copy_app("django-wagtail-start", tmp_path)
    before = digest(folder)
    result = cli("init", str(folder), "--dry-run")
    assert result.exit_code == 0 and digest(folder) == before
    for header in ("--- Dockerfile (create)", "--- hfspace_settings.py (create)", "--- README.md (create)"):
        assert header in result.output
    assert 'CMD ["gunicorn"' in result.output and "dry run: nothing was written" in result.output


def test_a_card_in_the_readme_keeps_its_keys_and_gets_the_missing_ones(tmp_path):
    folder = copy_app("fastify-cli-myapp", tmp_path)
    readme = "---\ntitle: Mine\nlicense: mit\napp_port: 8080\n---\n\n# my text\n"
    (folder / "README.md").write_text(readme)
    result = cli("init", str(folder))
    text = (folder / "README.md").read_text()
    assert "title: Mine" in text and "license: mit" in text and "sdk: docker" in text and text.endswith("# my text\n")
    assert "app_port: 8080" in text and "--force replaces it" in result.output
    assert "port-mismatch" in result.output and result.exit_code == 1  # validate says what the kept port breaks
    assert cli("init", str(folder), "--force").exit_code == 0
    assert "app_port: 7860" in (folder / "README.md").read_text()


def test_gradio_is_offered_as_sdk_gradio_and_as_docker_with_the_flag(tmp_path):
    folder = tmp_path / "gradio-app"
    folder.mkdir()
    (folder / "app.py").write_text(
        "import gradio as gr\n\ndemo = gr.Interface(lambda x: x, 'text', 'text')\ndemo.launch()\n"
    )
    (folder / "requirements.txt").write_text("gradio\n")
    native = cli("init", str(folder), "--dry-run")
    assert "sdk: gradio` is the native choice" in native.output and "Dockerfile" not in native.output
    assert "requirements.txt (0 of 1 pinned), installed by the Hub when it builds the Space" in native.output
    docker = cli("init", str(folder), "--docker")
    assert docker.exit_code == 0, docker.output
    space = load(folder)
    assert space.sdk == "docker" and space.command.argv == ["python", "hfspace_main.py"]
    assert space.run_env()["GRADIO_SERVER_NAME"] == "0.0.0.0"
    assert "python as PID 1 ignores the signal" in docker.output


def test_hfspace_main_puts_the_scripts_folder_first_on_sys_path_as_python_does(tmp_path):
    folder = tmp_path / "gradio-sub"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "helpers.py").write_text("WORD = 'imported beside the script'\n")
    (folder / "src" / "app.py").write_text("from helpers import WORD\n\nprint(WORD)\n# demo.launch(\n")
    from hfspace.init.files import python_main

    (folder / "hfspace_main.py").write_text(python_main("src/app.py"))
    done = subprocess.run([sys.executable, "hfspace_main.py"], cwd=folder, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout == "imported beside the script\n", done.stderr


def test_a_native_gradio_space_gets_the_python_the_app_wants_in_its_card(tmp_path):
    folder = tmp_path / "gradio-311"
    folder.mkdir()
    (folder / "app.py").write_text("import gradio as gr\n\ngr.Interface(lambda x: x, 'text', 'text').launch()\n")
    (folder / ".python-version").write_text("3.11\n")
    result = cli("init", str(folder))
    assert result.exit_code == 0, result.output
    assert load(folder).card.data["python_version"] == "3.11" and "the card's python_version" in result.output


def test_hfspace_main_runs_the_script_and_takes_sigterm_as_ctrl_c(tmp_path):
    """What Gradio's launch() does after it starts its server: block the main thread until Ctrl-C.
    (Measured on gradio_rangeslider 0.0.8's demo under `up --docker`: docker stop took 10.1 s and exit
    137 with `python app.py` as PID 1; 0.5 s and exit 0 through hfspace_main.py.)"""
    folder = tmp_path / "gradio-app"
    folder.mkdir()
    (folder / "app.py").write_text(
        "import sys\n\nimport gradio as gr\n\ndemo = gr.Interface(lambda x: x, 'text', 'text')\n"
        "print('launched', sys.argv[0], __name__, flush=True)\ndemo.launch()\n"
    )
    assert cli("init", str(folder), "--docker").exit_code == 0
    stand_in = tmp_path / "stand-in"  # a `gradio` whose launch() blocks as Gradio's does, and needs no install
    (stand_in / "gradio").mkdir(parents=True)
    (stand_in / "gradio" / "__init__.py").write_text(
        "import time\n\n\nclass Interface:\n    def __init__(self, *args):\n        pass\n\n"
        "    def launch(self):\n        try:\n            while True:\n                time.sleep(0.1)\n"
        "        except KeyboardInterrupt:\n"
        "            print('Keyboard interruption in main thread... closing server.', flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(stand_in)}
    process = subprocess.Popen(
        [sys.executable, "hfspace_main.py"], cwd=folder, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "launched app.py __main__\n"
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "closing server" in out, (process.returncode, out)


def _python_app(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "py-app"
    folder.mkdir()
    for path, text in files.items():
        (folder / path).write_text(textwrap.dedent(text))
    return folder


FLASK = "from flask import Flask\n\napp = Flask(__name__)\n"


@pytest.mark.parametrize(
    ("files", "install"),
    [
        ({"uv.lock": "version = 1\n", "pyproject.toml": "[project]\nname = 'a'\ndependencies = ['flask']\n"},
         "uv export --frozen --no-dev --no-emit-project"),
        ({"poetry.lock": "", "pyproject.toml": "[tool.poetry.dependencies]\npython = '^3.11'\nflask = '*'\n"},
         "poetry export --only main"),
        ({"requirements.txt": "flask==3.1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n"}, "--require-hashes -r"),
    ],
    ids=["uv-lock", "poetry-lock", "hash-pinned-requirements"],
)  # fmt: skip
def test_python_locks_are_installed_as_locked(tmp_path, files, install):
    folder = _python_app(tmp_path, {"app.py": FLASK, **files})
    found = init.scan(folder)
    dockerfile = next(c for c in init.plan(found) if c.path == "Dockerfile").text
    assert install in dockerfile and "gunicorn==27.0.1" in dockerfile


@pytest.mark.parametrize(
    ("lock", "install"),
    [("package-lock.json", "npm ci --omit=dev"), ("yarn.lock", "yarn install --frozen-lockfile --production"),
     ("pnpm-lock.yaml", "pnpm install --frozen-lockfile --prod"), (None, "npm install --omit=dev")],
)  # fmt: skip
def test_node_lockfiles_choose_the_install(tmp_path, lock, install):
    folder = tmp_path / "node-app"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"main": "server.js", "dependencies": {"express": "^5.0.0"}}))
    (folder / "server.js").write_text("const app = require('express')();\napp.listen(process.env.PORT || 3000);\n")
    if lock:
        (folder / lock).write_text("# yarn lockfile v1\n" if lock == "yarn.lock" else "{}\n")
    dockerfile = next(c for c in init.plan(init.scan(folder)) if c.path == "Dockerfile").text
    assert install in dockerfile and '"server.js"]' in dockerfile and "ENV NODE_ENV=production" in dockerfile


@pytest.mark.parametrize(
    ("package", "dist", "cmd"),
    [
        ({"main": "dist/index.js", "scripts": {"build": "tsc", "start": "node ."}}, False, "dist/index.js"),
        ({"scripts": {"build": "tsc", "start": "node dist"}}, False, "dist"),
        # Built here before (npm run build): dist/ is stale and ignored; the image builds it anew.
        ({"scripts": {"build": "tsc", "start:prod": "node dist/index"}}, True, "dist/index.js"),
    ],
    ids=["node-dot", "node-folder", "built-locally"],
)
def test_what_a_typescript_app_runs_is_what_its_build_makes(tmp_path, package, dist, cmd):
    folder = tmp_path / "ts-app"
    (folder / "src").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({**package, "dependencies": {"express": "^5.0.0"}}))
    (folder / "src" / "index.ts").write_text("import express from 'express';\nexpress().listen(3000);\n")
    if dist:
        (folder / "dist").mkdir()
        (folder / "dist" / "index.js").write_text("require('express')().listen(3000);\n")
        (folder / ".gitignore").write_text("/dist\n")
    result = cli("init", str(folder))
    assert result.exit_code == 0 and "validate: 0 errors" in result.output, result.output
    dockerfile = (folder / "Dockerfile").read_text()
    assert "run build" in dockerfile and dockerfile.rstrip().endswith(f'"{cmd}"]'), dockerfile


@pytest.mark.parametrize(
    ("lock", "everything", "prune"),
    [("package-lock.json", "npm ci --include=dev", "npm prune --omit=dev"),
     ("yarn.lock", "NODE_ENV=development yarn install --frozen-lockfile --non-interactive",
      "yarn install --frozen-lockfile --production --non-interactive --ignore-scripts --prefer-offline"),
     ("pnpm-lock.yaml", "NODE_ENV=development pnpm install --frozen-lockfile", "pnpm prune --prod"),
     (None, "npm install --include=dev", "npm prune --omit=dev")],
)  # fmt: skip
def test_a_typescript_app_is_built_in_the_build_stage_and_its_dev_dependencies_dropped(
    tmp_path, lock, everything, prune
):
    """`"build": "tsc"` and `"start": "node dist/index.js"`: dist/ is made by the build, never in the folder."""
    folder = tmp_path / "ts-app"
    (folder / "src").mkdir(parents=True)
    package = {"scripts": {"build": "tsc", "start": "node dist/index.js"}, "dependencies": {"express": "^5.0.0"}}
    (folder / "package.json").write_text(json.dumps(package))
    (folder / "src" / "index.ts").write_text(
        "import express from 'express';\nconst app = express();\napp.listen(Number(process.env.PORT) || 3000);\n"
    )
    if lock:
        (folder / lock).write_text("# yarn lockfile v1\n" if lock == "yarn.lock" else "{}\n")
    found = init.scan(folder)
    dockerfile = next(c for c in init.plan(found) if c.path == "Dockerfile").text
    build, runtime = dockerfile.split("FROM ${NODE_IMAGE} AS runtime")
    assert everything in build and "COPY . .\n" in build, build
    assert "run build" in build and build.index("run build") < build.index(prune), build
    assert (
        "COPY --chown=node:node --from=build /app /app\n" in runtime and "COPY --chown=node:node . /app" not in runtime
    )
    assert dockerfile.rstrip().endswith('"dist/index.js"]'), dockerfile
    port = next(n for n in found.notes if n.topic == "port")
    assert port.where == ("src/index.ts", 3), port  # read from the source the build compiles


@pytest.mark.parametrize(
    ("code", "line"),
    [
        # Flask's examples/celery (src/task_app/__init__.py): a Celery Task's `self.run` is not the app's start.
        ("def create_app():\n    app = Flask(__name__)\n    return app\n\nclass FlaskTask:\n"
         "    def __call__(self, *args):\n        return self.run(*args)\n", None),
        ("app = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run(port=5001)\n", 4),
        ("def create_app():\n    return Flask(__name__)\n\nif __name__ == '__main__':\n    create_app().run()\n", 5),
        ("app = Flask(__name__)\napp.run(debug=True)\n", 2),
    ],
    ids=["a-task-run", "main-block", "factory-in-main", "module-level"],
)  # fmt: skip
def test_the_apps_own_development_server_is_found_where_the_app_starts_it(tmp_path, code, line):
    folder = _python_app(tmp_path, {"app.py": "from flask import Flask\n\n" + code})
    result = cli("init", str(folder), "--dry-run")
    assert result.exit_code == 0, result.output
    (port,) = [text for text in result.output.splitlines() if text.lstrip().startswith("detected  port")]
    if line is None:
        assert "the server the image adds listens there" in port and ".run(" not in port
    else:
        assert "is not what the image runs" in port and f"(app.py:{line + 2})" in port, port


@pytest.mark.parametrize(
    ("files", "image", "said"),
    [
        ({".python-version": "3.11.4\n"}, "python:3.11-slim-trixie", "3.11, as .python-version says"),
        ({"runtime.txt": "python-3.12.1\n"}, "python:3.12-slim-trixie", "3.12, as runtime.txt says"),
        # The header of Flask 3.1.3's examples/celery/requirements.txt (celery 5.2.7 fails to import on 3.13).
        ({"requirements.txt": "#\n# This file is autogenerated by pip-compile with Python 3.11\n"
                              "# by the following command:\n#\nflask==3.0.0\n"},
         "python:3.11-slim-trixie", "(requirements.txt:2)"),
        ({"pyproject.toml": "[project]\nname = 'x'\nrequires-python = '>=3.10,<3.13'\n"},
         "python:3.12-slim-trixie", "3.12, as pyproject.toml says"),
        ({".python-version": "3.8\n"}, "python:3.13-slim-trixie", "says Python 3.8, which has no official slim-trixie"),
        ({".python-version": "3.13\n"}, "python:3.13-slim-trixie", None),
    ],
    ids=["python-version", "runtime-txt", "pip-compile", "requires-python", "too-old", "the-default"],
)  # fmt: skip
def test_the_image_runs_the_python_the_app_says_it_wants(tmp_path, files, image, said):
    folder = _python_app(tmp_path, {"app.py": FLASK, **files})
    result = cli("init", str(folder))
    assert result.exit_code == 0, result.output
    assert f"ARG PYTHON_IMAGE={image}\n" in (folder / "Dockerfile").read_text()
    python = [line for line in result.output.splitlines() if line.split()[1:2] == ["python"]]
    assert (said in python[0]) if said else not python, python


# mysite/urls.py as `django-admin startproject mysite` (Django 5.2.19) writes it, less its docstring.
STARTPROJECT_URLS = """\
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path('admin/', admin.site.urls),
]
"""


@pytest.mark.parametrize(
    ("urls", "said"),
    [
        (STARTPROJECT_URLS, True),
        (STARTPROJECT_URLS.replace("]", "    path('', admin.site.urls),\n]"), False),
        (STARTPROJECT_URLS.replace("]", "    re_path(r'^$', admin.site.urls),\n]"), False),
        (STARTPROJECT_URLS + "urlpatterns += [path('api/', admin.site.urls)]\n", True),
        (STARTPROJECT_URLS + "urlpatterns = urlpatterns + [path('', admin.site.urls)]\n", False),  # wagtail's shape
        (STARTPROJECT_URLS + "urlpatterns += static('/media/', document_root='media')\n", False),  # cannot tell
    ],
    ids=["startproject", "path-empty", "re_path-root", "augmented", "concatenated", "not-literal"],
)
def test_a_django_urlconf_with_nothing_at_slash_is_said_to_answer_404(tmp_path, urls, said):
    settings = (
        "INSTALLED_APPS = ['django.contrib.admin']\nROOT_URLCONF = 'mysite.urls'\n"
        "WSGI_APPLICATION = 'mysite.wsgi.application'\nALLOWED_HOSTS = []\nDEBUG = True\n"
    )
    wsgi = "import os\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n"
    files = {"manage.py": "import django\n", "mysite/__init__.py": "", "mysite/settings.py": settings,
             "mysite/urls.py": urls, "mysite/wsgi.py": wsgi, "requirements.txt": "django==5.2.9\n"}  # fmt: skip
    folder = tmp_path / "mysite-project"
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    result = cli("init", str(folder), "--dry-run")
    assert result.exit_code == 0, result.output
    note = "mysite/urls.py routes nothing at / (Django's welcome page shows only with DEBUG on): / answers 404"
    assert (note in result.output) is said, result.output
    if said:
        assert "(mysite/urls.py:4)" in result.output


def test_a_sigterm_handler_in_an_entry_with_no_extension_is_seen(tmp_path):
    """http-server 14.1.1 starts `node ./bin/http-server`, whose line 275 handles SIGTERM itself."""
    folder = tmp_path / "bin-app"
    (folder / "bin").mkdir(parents=True)
    (folder / "package.json").write_text('{"name": "b", "scripts": {"start": "node ./bin/serve"}}\n')
    (folder / "bin" / "serve").write_text(
        "#!/usr/bin/env node\nconst http = require('node:http');\n"
        "const server = http.createServer((q, s) => s.end('ok')).listen(process.env.PORT || 8080, '0.0.0.0');\n"
        "process.on('SIGTERM', () => server.close(() => process.exit(0)));\n"
    )
    result = cli("init", str(folder), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "no SIGTERM handler" not in result.output and "hfspace-preload.cjs" not in result.output, result.output


@pytest.mark.parametrize(
    ("build", "config", "app_file"),
    [
        ("vite build", None, "dist/index.html"),  # npm create vite@latest -- --template vanilla (create-vite 9.3.0)
        ("tsc -b && vite build", None, "dist/index.html"),  # its react-ts template
        ("vite build", "export default { build: { outDir: 'public_html' } }\n", "public_html/index.html"),
        ("vite build --outDir build", "export default { build: { outDir: 'ignored' } }\n", "build/index.html"),
        ("vite build", "export default { build: { outDir: './.output/public' } }\n", ".output/public/index.html"),
        ("parcel build index.html --dist-dir www", None, "www/index.html"),
        ("echo nothing to build", None, None),
    ],
    ids=["vite", "tsc-then-vite", "vite-outDir", "flag-over-config", "dot-folder", "parcel-dist-dir", "no-bundler"],
)
def test_a_site_a_bundler_builds_gets_the_hubs_build_step(tmp_path, build, config, app_file):
    folder = tmp_path / "site"
    (folder / "src").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"scripts": {"dev": "vite", "build": build}}))
    (folder / "index.html").write_text('<div id="app"></div><script type="module" src="/src/main.js"></script>\n')
    (folder / "src" / "main.js").write_text("import './style.css'\n")
    if config:
        (folder / "vite.config.js").write_text(config)
    result = cli("init", str(folder))
    assert result.exit_code == 0 and "validate: 0 errors" in result.output, result.output
    card = load(folder).card.data
    assert card["sdk"] == "static" and "Dockerfile" not in {p.name for p in folder.iterdir()}
    if app_file is None:
        assert card["app_file"] == "index.html" and "app_build_command" not in card
        assert "no bundler: the files are served as they are, unbuilt" in result.output
    else:
        assert card["app_build_command"] == "npm run build" and card["app_file"] == app_file, card
        assert f"entry point   {app_file}, built from index.html" in result.output


def test_a_folder_with_no_app_is_one_error_line(tmp_path):
    result = cli("init", str(tmp_path))
    assert result.exit_code == 1 and result.output.startswith(f"error: {tmp_path}: no app found")


# --- the adapters, run for real -------------------------------------------------------------------


def _node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("no node on PATH")
    return found


def test_the_node_preload_rebinds_loopback_answers_head_and_lets_the_hub_frame_the_app(tmp_path):
    port = free_ports(1)
    server = f"""\
        const http = require('node:http');
        http.createServer((req, res) => {{
          if (req.method !== 'GET') {{ res.writeHead(404); return res.end('no'); }}
          res.setHeader('X-Frame-Options', 'DENY');
          res.writeHead(200, {{'Content-Type': 'text/plain', 'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'"}});
          res.end('hello');
        }}).listen({port}, '127.0.0.1');
        setInterval(() => {{}}, 1000);  // what an agent or a pool keeps (NestJS's @nestjs/observe): the loop never empties
    """  # noqa: E501
    (tmp_path / "server.js").write_text(textwrap.dedent(server))
    from hfspace.init.files import node_preload

    preload = node_preload(rebind=True, head=True, framable=True, graceful=True)
    (tmp_path / "hfspace-preload.cjs").write_text(preload)
    process = subprocess.Popen([_node(), "--require=./hfspace-preload.cjs", "server.js"], cwd=tmp_path)
    try:
        assert wait_until(lambda: _answers(f"http://127.0.0.1:{port}/"), timeout=20)
        assert _listening_addresses(port) == {"0.0.0.0"}  # the app asked for 127.0.0.1
        get = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        head = requests.head(f"http://127.0.0.1:{port}/", timeout=5)
        assert get.status_code == head.status_code == 200 and head.content == b""
        assert "X-Frame-Options" not in get.headers
        assert (
            get.headers["Content-Security-Policy"]
            == "default-src 'self'; frame-ancestors 'self' https://huggingface.co"
        )
        process.terminate()  # SIGTERM: the preload closes the server, and node exits once it has (not after 8 s)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at `port`, from /proc/net/tcp (state 0A: LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_the_asgi_wrapper_answers_head_as_get_and_drops_x_frame_options(tmp_path):
    from hfspace.init.files import python_wrapper

    (tmp_path / "main.py").write_text(
        textwrap.dedent("""\
        async def app(scope, receive, send):
            if scope["method"] != "GET":
                await send({"type": "http.response.start", "status": 405, "headers": []})
                return await send({"type": "http.response.body", "body": b""})
            headers = [(b"x-frame-options", b"DENY"), (b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"hello"})
        """)
    )
    (tmp_path / "hfspace_asgi.py").write_text(python_wrapper("main:app", wsgi=False, head=True, framable=True))
    script = textwrap.dedent("""\
        import asyncio, hfspace_asgi
        sent = []
        async def send(message): sent.append(message)
        async def receive(): return {"type": "http.request", "body": b""}
        asyncio.run(hfspace_asgi.app({"type": "http", "method": "HEAD", "path": "/"}, receive, send))
        print(sent[0]["status"], sent[0]["headers"], sent[1]["body"])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "200 [(b'content-type', b'text/plain')] b''"


def test_the_django_settings_module_admits_the_space_host_and_the_iframe(tmp_path):
    folder = copy_app("django-wagtail-start", tmp_path)
    assert cli("init", str(folder)).exit_code == 0
    script = (  # mysite/settings/*.py import nothing of Django, so its settings read without it
        "import hfspace_settings as s; print(s.ALLOWED_HOSTS, s.DEBUG, s.STATIC_ROOT.name, s.SESSION_COOKIE_SAMESITE, "
        "[m.rsplit('.', 1)[1] for m in s.MIDDLEWARE][:2], 'XFrameOptionsMiddleware' in str(s.MIDDLEWARE), "
        "s.SECRET_KEY.startswith('django-insecure-'))"
    )
    env = {**os.environ, "SPACE_HOST": "me-app.hf.space"}
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "['*',", "'.hf.space',", "'localhost',", "'127.0.0.1',", "'[::1]',", "'me-app.hf.space']",
        "False", "static", "None", "['SecurityMiddleware',", "'WhiteNoiseMiddleware']", "False", "True",
    ]  # fmt: skip


def test_docs_your_app_shows_what_init_prints_on_flaskr(tmp_path):
    from tests.test_docs import console_commands

    doc = ROOT / "docs" / "your-app.md"
    (shown,) = [c for c in console_commands(doc) if c.words[:2] == ["hfspace", "init"]]
    shutil.copytree(APPS / "flask-tutorial-flaskr" / "app", tmp_path / "flaskr")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "hfspace", *shown.words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert [line.rstrip() for line in done.stdout.splitlines()] == shown.output


def test_a_flask_app_that_forbids_framing_is_served_through_a_wsgi_wrapper_that_lets_the_hub_frame_it(tmp_path):
    folder = _python_app(
        tmp_path,
        {
            "app.py": """\
                from flask import Flask
                from flask_talisman import Talisman

                app = Flask(__name__)
                Talisman(app)
            """,
            "requirements.txt": "flask\nflask-talisman\n",
        },
    )
    result = cli("init", str(folder))
    assert result.exit_code == 0 and "Flask-Talisman (X-Frame-Options: SAMEORIGIN)" in result.output
    assert "validate: 0 errors, 0 warnings" in result.output  # iframe-blocked knows the wrapper
    assert load(folder).command.argv[-1] == "hfspace_wsgi:app"
    (folder / "app.py").write_text(
        textwrap.dedent("""\
        def app(environ, start_response):
            headers = [("X-Frame-Options", "DENY"), ("Content-Security-Policy", "frame-ancestors 'none'")]
            start_response("200 OK", headers)
            return [b"hi"]
        """)
    )
    script = (
        "import hfspace_wsgi; seen = []; "
        "body = hfspace_wsgi.app({}, lambda status, headers, exc_info=None: seen.append(headers)); print(seen[0])"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[('Content-Security-Policy', \"frame-ancestors 'self' https://huggingface.co\")]"


def test_an_app_whose_start_command_cannot_be_told_gets_nothing_written_and_says_why(tmp_path):
    folder = tmp_path / "next-app"
    folder.mkdir()
    package = {"scripts": {"start": "next start -p 7860"}, "dependencies": {"next": "14.2.35"}}
    (folder / "package.json").write_text(json.dumps(package))
    before = digest(folder)
    result = cli("init", str(folder))
    assert result.exit_code == 1 and digest(folder) == before
    assert "not fixed entry point   `npm start` runs `next start -p 7860`" in result.output
    assert "error: next-app: could not tell how to start the app, so nothing was written" in result.output

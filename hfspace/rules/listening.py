"""Rules of where the app listens: the Space's proxy reaches it only on 0.0.0.0:app_port."""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, Hit, docker_only, rule
from hfspace.space import Space
from hfspace.space.listen import program

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "ip6-localhost")


@rule("port-mismatch", ERROR)
@docker_only
def port_mismatch(space: Space) -> Iterator[Hit]:
    """The port the image listens on by default is not app_port.

    Why: the Hub's proxy forwards only to app_port (7860 unless the card says otherwise) and
    waits for an answer there; an app on another port is never reached, and the Space ends in
    "Launch timed out".
    Severity: error: nothing answers on app_port.
    Fix: make the app listen on app_port, or set `app_port` in the card to the port it uses.
    Example:
        CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]      <- app_port is 7860
    """
    listen, app_port = space.listen, space.app_port
    if listen.port is not None and listen.port != app_port:
        file, line = listen.port_at
        told = "the card's app_port" if space.card and "app_port" in space.card else "the default app_port"
        yield Hit(
            file,
            line,
            f"the image listens on port {listen.port} but {told} is {app_port}",
            f"listen on {app_port}, or set `app_port: {listen.port}` in the card",
        )


@rule("bind-localhost", ERROR)
@docker_only
def bind_localhost(space: Space) -> Iterator[Hit]:
    """The server binds 127.0.0.1 or localhost, which the Space's proxy cannot reach.

    Why: the proxy connects to the container from outside it; a server on the loopback address
    only answers from inside, so the Space never becomes healthy.
    Severity: error: nothing answers on app_port.
    Fix: bind 0.0.0.0.
    Example:
        CMD ["uvicorn", "app:app", "--port", "7860"]      <- uvicorn binds 127.0.0.1 by default
    """
    host = space.listen.host
    if host is not None and host.strip("[]").lower() in LOCAL_HOSTS:
        file, line = space.listen.host_at
        yield Hit(
            file,
            line,
            f"the server binds {host}, which the Space proxy cannot reach",
            "bind 0.0.0.0 (e.g. `--host 0.0.0.0` or `-b 0.0.0.0:7860`)",
        )


def _calls_flask_run(text: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    imports_flask = any(
        (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "flask")
        or (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "flask" for a in n.names))
        for n in ast.walk(tree)
    )
    not_flask = {"uvicorn", "asyncio", "anyio", "trio", "subprocess", "waitress", "hypercorn"}
    runs = any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "run"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id not in not_flask
        for n in ast.walk(tree)
    )
    return imports_flask and runs


@rule("flask-dev-server", ERROR)
@docker_only
def flask_dev_server(space: Space) -> Iterator[Hit]:
    """The command is Flask's development server (`flask run`, or a script calling `app.run(`).

    Why: `flask run` and `app.run()` bind 127.0.0.1:5000 unless told otherwise, and the
    development server is not made to serve the public.
    Severity: error: as written it is not reachable on app_port.
    Fix: serve the app with gunicorn on 0.0.0.0:7860.
    Example:
        CMD ["python", "app.py"]        <- app.py ends with app.run()
    """
    command = space.command
    if command is None or command.at is None:
        return
    words, ins = command.words, command.at
    fix = 'serve the app with gunicorn: CMD ["gunicorn", "-b", "0.0.0.0:7860", "app:app"]'
    if program(words) == "flask" and "run" in words:
        yield Hit("Dockerfile", ins.line, "the command is Flask's development server (`flask run`)", fix)
        return
    for index, word in enumerate(words):
        if (
            re.fullmatch(r"python[\d.]*", posixpath.basename(word))
            and index + 1 < len(words)
            and words[index + 1].endswith(".py")
        ):
            script = space.file_in_image(words[index + 1])
            if script is not None and _calls_flask_run(space.text(script) or ""):
                yield Hit(
                    "Dockerfile",
                    ins.line,
                    f"the command runs {words[index + 1]}, which starts Flask's development server (`app.run(`)",
                    fix,
                )
            return

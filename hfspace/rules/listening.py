"""Rules of starting and listening: the Space's proxy waits for HTTP on 0.0.0.0:app_port."""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterator

from hfspace.rules.registry import ERROR, INFO, WARNING, Hit, docker_only, rule
from hfspace.space import Space, images
from hfspace.space.code import parse_python
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
    tree = parse_python(text)
    if tree is None:
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


@rule("flask-dev-server", INFO)
@docker_only
def flask_dev_server(space: Space) -> Iterator[Hit]:
    """The command is Flask's development server (`flask run`, or a script calling `app.run(`).

    Why: the development server is not made to serve the public (one process, no graceful stop);
    where it binds is judged apart (bind-localhost, port-mismatch read `app.run(host=, port=)`).
    Severity: info: on 0.0.0.0:app_port it answers, so the Space runs.
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


# Programs that, run as the whole command, serve no HTTP: a prompt, a shell, a wait.
_NOT_SERVERS = {
    "python": "a Python prompt", "python3": "a Python prompt", "node": "a Node.js prompt", "bash": "a shell",
    "sh": "a shell", "php-fpm": "php-fpm (FastCGI on port 9000, not HTTP)", "sleep": "a sleep",
    "true": "nothing", "irb": "a Ruby prompt", "R": "an R prompt",
}  # fmt: skip
_CHAINING = re.compile(r"&&|\|\||;|\||&\s")


def _serves_nothing(argv: list[str]) -> str | None:
    """What a command is when it plainly serves no HTTP (a bare interpreter, a shell, a wait)."""
    if not argv:
        return None
    if len(argv) >= 3 and posixpath.basename(argv[0]) in ("sh", "bash") and argv[1] == "-c":
        if _CHAINING.search(argv[2]):
            return None  # a command line of several programs: not ours to judge
        argv = argv[2].split()
    name = posixpath.basename(argv[0])
    name = "python3" if re.fullmatch(r"python[\d.]*", name) else name
    if name == "php-fpm":
        return _NOT_SERVERS[name]
    if name in ("tail",) and "-f" in argv and "/dev/null" in argv:
        return "a wait (tail -f /dev/null)"
    if name in _NOT_SERVERS and len([a for a in argv[1:] if not a.startswith("-")]) == 0:
        return _NOT_SERVERS[name]
    return None


@rule("no-http-server", ERROR)
@docker_only
def no_http_server(space: Space) -> Iterator[Hit]:
    """The container's command, its own or the one it inherits from its base image, serves no HTTP.

    Why: the platform waits for an HTTP answer on app_port. A final stage that sets no CMD or
    ENTRYPOINT runs its base image's command (`python3`, `node`: a prompt that exits; php-fpm:
    FastCGI on 9000, not HTTP); a CMD that is a bare interpreter or a wait serves nothing; a CMD
    given to a base image's ENTRYPOINT becomes that program's arguments. Nothing ever answers,
    and the Space ends in "Launch timed out" or a crash loop.
    Severity: error: nothing answers on app_port.
    Fix: end the final stage with a CMD that starts the web server on 0.0.0.0:app_port.
    Example:
        FROM php:8.3-fpm
        COPY . /var/www/html            <- no CMD: php-fpm speaks FastCGI on 9000
    """
    dockerfile = space.dockerfile
    config = dockerfile.config
    command = dockerfile.command
    known = images.known(config.image)
    final_from = dockerfile.final.from_
    if command.inherited:
        if known is not None and known.http_port is None and known.serves:
            yield Hit(
                "Dockerfile",
                final_from.line,
                f"the final stage sets no CMD or ENTRYPOINT: the container runs {config.image}'s own command, "
                f"{known.serves}, which answers no HTTP on app_port {space.app_port}",
                'end the Dockerfile with the command that starts your server, e.g. CMD ["gunicorn", "-b", '
                f'"0.0.0.0:{space.app_port}", "app:app"]',
            )
        return
    if known is not None and known.entrypoint and config.entrypoint is None and config.cmd is not None:
        cmd = config.cmd.argv or []
        if cmd[:1] == list(known.entrypoint[:1]):
            yield Hit(
                "Dockerfile",
                config.cmd.line,
                f"{config.image} already has ENTRYPOINT {list(known.entrypoint)}: this CMD becomes its arguments, so "
                f"the container runs `{' '.join([*known.entrypoint, *cmd])}`, which does not start the server",
                "remove the CMD (the base image's ENTRYPOINT starts it), or pass only that program's arguments",
            )
        return
    what = _serves_nothing(command.argv or [])
    if what is not None:
        yield Hit(
            "Dockerfile",
            command.at.line,
            f"the command is {what}: nothing will answer HTTP on app_port {space.app_port}",
            "run the web server itself, bound to 0.0.0.0 on app_port",
        )


@rule("cmd-not-json", ERROR)
@docker_only
def cmd_not_json(space: Space) -> Iterator[Hit]:
    """An exec-form CMD or ENTRYPOINT (a `[...]` list) that is not valid JSON.

    Why: Docker reads a CMD that is not valid JSON (single quotes, a trailing comma) as a shell
    command, brackets and quotes included: `/bin/sh -c "['python', 'app.py']"` fails at start
    with "not found", and the Space never answers.
    Severity: error: the container cannot start its command.
    Fix: write the list in JSON: double quotes, no trailing comma.
    Example:
        CMD ['python', 'app.py']
    """
    config = space.dockerfile.config
    for ins in (config.entrypoint, config.cmd):
        if ins is not None and ins.json_error:
            yield Hit(
                "Dockerfile",
                ins.line,
                f"{ins.name} looks like a JSON list but is not one ({ins.json_error}): Docker runs it as a shell "
                "command, brackets and quotes included, and it fails at start",
                f'write it with double quotes and no trailing comma: {ins.name} ["program", "arg"]',
            )


_XFO = re.compile(r"""X-Frame-Options['"]?\s*[,:=]\s*\(?\s*['"](DENY|SAMEORIGIN)['"]""", re.IGNORECASE)
_FRAME_ANCESTORS = re.compile(r"frame-ancestors\s+([^;\"'`]*(?:'(?:none|self)'[^;\"'`]*)+)", re.IGNORECASE)
_HELMET = re.compile(r"\bhelmet\s*\(\s*(\{[^)]*\})?\s*\)")
_TALISMAN = re.compile(r"\bTalisman\s*\(")
# What a wrapper or preload written by `hfspace init` declares when it drops X-Frame-Options and
# lets the Hub in frame-ancestors, whatever the app sends.
FRAMABLE_MARK = "hfspace: lets https://huggingface.co frame the app"
_EMBEDDERS = ("huggingface.co", "*.hf.space", "https:", "*")


def _without_comments(text: str, kind: str) -> str:
    """The code with its comment lines blanked (line numbers kept): commented-out code sends nothing."""
    if kind == "py":
        return re.sub(r"(?m)^[ \t]*#.*$", "", text)
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    return re.sub(r"(?m)^[ \t]*//.*$", "", text)


def blocks_embedding(code) -> tuple[int, str] | None:
    """(line, what) where code forbids being framed by huggingface.co, or None."""
    text = _without_comments(code.text, code.kind)
    for pattern, what in ((_XFO, "X-Frame-Options: {0}"),):
        match = pattern.search(text)
        if match:
            return text.count("\n", 0, match.start()) + 1, what.format(match.group(1).upper())
    for match in _FRAME_ANCESTORS.finditer(text):
        sources = match.group(1).split()
        if not any(source in _EMBEDDERS or "huggingface.co" in source for source in sources):
            return text.count("\n", 0, match.start()) + 1, f"CSP frame-ancestors {' '.join(sources)}"
    helmet = _HELMET.search(text) if code.kind == "js" else None
    if helmet and not re.search(r"frameguard\s*:\s*false", helmet.group(1) or "") and "frameAncestors" not in text:
        return text.count("\n", 0, helmet.start()) + 1, "helmet() (X-Frame-Options: SAMEORIGIN, frame-ancestors 'self')"
    talisman = _TALISMAN.search(text) if code.kind == "py" else None
    if talisman and not re.search(r"frame_options\s*=\s*(?:ALLOW_FROM|None)\b", text):
        return text.count("\n", 0, talisman.start()) + 1, "Flask-Talisman (X-Frame-Options: SAMEORIGIN)"
    if (
        code.kind == "py"
        and "XFrameOptionsMiddleware" in text
        and not re.search(r"X_FRAME_OPTIONS\s*=\s*['\"]ALLOWALL", text)
    ):
        line = text.count("\n", 0, text.index("XFrameOptionsMiddleware")) + 1
        return line, "Django's XFrameOptionsMiddleware (X-Frame-Options: DENY)"
    return None


@rule("iframe-blocked", WARNING)
@docker_only
def iframe_blocked(space: Space) -> Iterator[Hit]:
    """The app forbids being shown in a frame, and the Space page shows it in one.

    Why: the Space's page on huggingface.co embeds the app in an iframe. `X-Frame-Options: DENY`
    or `SAMEORIGIN`, a CSP `frame-ancestors 'none'` or `'self'`, the defaults of helmet() and
    Flask-Talisman, and Django's XFrameOptionsMiddleware make the browser refuse it: the page
    stays blank ("refused to connect"), only the direct *.hf.space address works. (A wrapper
    that `hfspace init` wrote to drop those headers says so, and the rule then holds.)
    Severity: warning: the app runs and answers; its Space page does not show it.
    Fix: send no X-Frame-Options, and `frame-ancestors 'self' https://huggingface.co`.
    Example:
        app.use(helmet())
    """
    if any(FRAMABLE_MARK in code.text for code in space.app_code):
        return  # served through a wrapper that drops X-Frame-Options and admits huggingface.co
    for code in space.app_code:
        found = blocks_embedding(code)
        if found:
            line, what = found
            yield Hit(
                code.file,
                line,
                f"{what}: the browser will not show the app in the Space page's iframe on huggingface.co",
                "drop X-Frame-Options and allow the Hub: frame-ancestors 'self' https://huggingface.co",
            )

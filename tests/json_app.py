"""One small app that answers GET with JSON, for the tests that need a server of their own.

`HANDLER` is its handler's source: `app_source()` makes it a Space's whole app (a script that
runs in a container or as a process), and `JsonHandler` is the same class for a server a test
runs in its own process.
"""

from __future__ import annotations

HANDLER = """\
import json, os, signal, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    delay = 0.0  # seconds to think before each answer
    log_requests = False

    def payload(self):
        return {"status": "pass"}

    def do_GET(self):
        time.sleep(self.delay)
        body = json.dumps(self.payload()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        if self.log_requests:
            print("request", self.path, flush=True)
"""

_namespace: dict = {}
exec(compile(HANDLER, __file__ + ":HANDLER", "exec"), _namespace)  # noqa: S102 (our own source, above)
JsonHandler = _namespace["JsonHandler"]


def app_source(payload: str, *, host: str = "0.0.0.0", banner: str = "listening on", log_requests: bool = False) -> str:
    """A Space's app: answers every GET with the JSON of `payload` (a Python expression), on
    HOST:PORT (PORT from the environment, else 7860); SIGTERM stops it."""
    return HANDLER + (
        "\n\nclass Handler(JsonHandler):\n"
        f"    log_requests = {log_requests}\n\n"
        "    def payload(self):\n"
        f"        return {payload}\n\n\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
        'port = int(os.environ.get("PORT", "7860"))\n'
        f'print("{banner}", port, flush=True)\n'
        f'HTTPServer(("{host}", port), Handler).serve_forever()\n'
    )

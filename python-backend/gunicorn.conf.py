"""gunicorn settings, all derived from the validated environment (see app/config.py).

The Dockerfile's CMD and `make run` both start the service exactly so:
    gunicorn --config gunicorn.conf.py "app:create_app()"
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from app.config import EX_CONFIG, ConfigError, environment, load_config
from app.logs import GunicornLogger, logging_config
from app.problems import raw_problem
from gunicorn import util as gunicorn_util

_env = environment()
try:
    _config = load_config(_env)
except ConfigError as exc:
    # Before anything binds: one line naming the variable, then out.
    print(exc, file=sys.stderr, flush=True)
    sys.exit(EX_CONFIG)

# The workers read the same values (including those from .env) when they build the app.
os.environ.update({k: v for k, v in _env.items() if k not in os.environ})

wsgi_app = "app:create_app()"
bind = [f"[{_config.host}]:{_config.port}" if ":" in _config.host else f"{_config.host}:{_config.port}"]
workers = _config.web_concurrency
# Threads keep idle keep-alive connections from the Space proxy off the worker's back.
worker_class = "gthread"
threads = 4
keepalive = 75  # longer than common proxy idle timeouts, so the proxy closes first
timeout = 30
graceful_timeout = int(_config.shutdown_timeout)  # gunicorn takes whole seconds; round down to stay within it
# Heartbeat files in memory: /tmp may be a slow disk, and the root file system is read-only.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
control_socket_disable = True  # would need a writable $HOME; the container's root file system is read-only

loglevel = _config.log_level
logger_class = GunicornLogger
logconfig_dict = logging_config(_config.log_level)
accesslog = "-"
errorlog = "-"
capture_output = False
proc_name = "python-backend"


def _write_problem(sock, status_int, reason, mesg):
    gunicorn_util.write_nonblock(sock, raw_problem(status_int, reason, mesg))


# Requests gunicorn refuses before the app sees them (a malformed request line,
# headers over its limits) get problem+json like every other error, not
# gunicorn's HTML page. Its workers call util.write_error for exactly these.
gunicorn_util.write_error = _write_problem


# A SIGTERM that reaches a worker while it boots must stop it too. Until gunicorn
# sets up a worker's own handlers, the child still has the master's, which queue
# the signal for a master that is not there: a worker booting when `docker stop`
# came would run on until SHUTDOWN_TIMEOUT ran out. Right after each fork, the
# child notes such a signal instead; post_worker_init acts on it.
_stop_requested_while_booting = False


def _note_stop_while_booting(sig, frame):
    global _stop_requested_while_booting
    _stop_requested_while_booting = True


os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, _note_stop_while_booting))


def post_worker_init(worker):
    """On SIGTERM, flip /health to "fail" before gunicorn's own graceful stop begins."""
    lifecycle = worker.wsgi.extensions["lifecycle"]
    stop = worker.handle_exit

    def handle_exit(sig, frame):
        lifecycle.begin_shutdown()
        stop(sig, frame)

    signal.signal(signal.SIGTERM, handle_exit)
    if _stop_requested_while_booting:
        handle_exit(signal.SIGTERM, None)

"""gunicorn settings for the Python baselines: python-backend's own serving
settings, read from its gunicorn.conf.py when the baseline starts, so a change
of worker class or count there is benchmarked on both sides alike.

Only how it serves is taken (worker class, workers, threads, connections,
keep-alive, timeouts, bind, access log on or off); the service's JSON logger,
hooks and app stay behind: the baselines log gunicorn's plain access lines.
"""

import os
import runpy
import signal
import sys

_SERVICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python-backend")
_SERVICE = os.path.normpath(_SERVICE)
_SERVING = (
    "bind",
    "worker_class",
    "workers",
    "threads",
    "worker_connections",
    "keepalive",
    "backlog",
    "timeout",
    "graceful_timeout",
    "worker_tmp_dir",
    "control_socket_disable",
)

sys.path.insert(0, _SERVICE)  # its config imports its app package (settings validation)
_service = runpy.run_path(os.path.join(_SERVICE, "gunicorn.conf.py"), run_name="python_backend_gunicorn_conf")
globals().update({name: _service[name] for name in _SERVING if name in _service})
accesslog = "-" if _service.get("accesslog") else None
errorlog = "-"


# A SIGTERM that reaches a worker still booting (the bench stops a server as soon
# as it answers) must stop it too, as python-backend's own post_worker_init makes
# sure for the service; otherwise it runs on until graceful_timeout.
_stop_requested_while_booting = False


def _note_stop_while_booting(sig, frame):
    global _stop_requested_while_booting
    _stop_requested_while_booting = True


os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, _note_stop_while_booting))


def post_worker_init(worker):
    if _stop_requested_while_booting:
        worker.handle_exit(signal.SIGTERM, None)

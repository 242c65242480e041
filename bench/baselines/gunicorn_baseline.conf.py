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


# A SIGTERM that reaches a worker still booting (the bench stops a server as soon as it
# answers) must stop it too. python-backend's gunicorn.conf.py, run above, already makes every
# forked child note such a signal; act on its note as the service's own post_worker_init does.
_booting = _service["_note_stop_while_booting"].__globals__


def post_worker_init(worker):
    if _booting["_stop_requested_while_booting"]:
        worker.handle_exit(signal.SIGTERM, None)

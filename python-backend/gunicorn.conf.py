"""gunicorn settings, all derived from the validated environment (see app/config.py).

The Dockerfile's CMD (and so `make run`, through `hfspace up`) starts the service
exactly so, the app being `wsgi_app` below:
    gunicorn --config gunicorn.conf.py
"""

import contextlib
import errno
import io
import os
import signal
import socket
import sys
import time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gevent
import gevent.event
from app.config import EX_CONFIG, ConfigError, environment, load_config
from app.logs import GunicornLogger, logging_config
from app.problems import raw_problem, timed_out
from gevent.pool import Pool
from gevent.server import StreamServer
from gunicorn import http
from gunicorn import util as gunicorn_util
from gunicorn.http.body import ChunkedReader
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestEntityTooLarge, RequestTimeout

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
# gevent: every connection is a greenlet, so clients that send slowly (or hold
# idle keep-alive connections) cost memory, not one of a few threads; see
# docs/robustness.md. worker_class is GracefulGeventWorker, at the end of this file.
worker_connections = 10_000  # per worker; past it, new connections wait in the backlog
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


def _bounded_chunk_size(parse):
    """A chunk that declares more than MAX_BODY_BYTES is refused as the 413 it
    will be, at once: gunicorn would wait for its bytes however long they take
    (`ffffffffffffffffffff`, and the client stalls). The app's read_body() turns
    this into the problem response and closes the connection."""

    def parse_chunk_size(self, unreader, data=None):
        size, rest = parse(self, unreader, data)
        if size > _config.max_body_bytes:
            raise RequestEntityTooLarge()
        return size, rest

    return parse_chunk_size


ChunkedReader.parse_chunk_size = _bounded_chunk_size(ChunkedReader.parse_chunk_size)


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
    lifecycle = worker.app.wsgi().extensions["lifecycle"]
    stop = worker.handle_exit

    def handle_exit(sig, frame):
        lifecycle.begin_shutdown()
        stop(sig, frame)

    signal.signal(signal.SIGTERM, handle_exit)
    if _stop_requested_while_booting:
        handle_exit(signal.SIGTERM, None)


class GracefulGeventWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline on every request and a stop that
    loses no request.

    A request's headers and body must all arrive within REQUEST_TIMEOUT of its
    first byte (for a new connection, of the connection), else 408 and the
    connection closes: a client trickling a byte a second cannot hold a
    greenlet and its buffers for ever (gunicorn bounds the headers of a request
    by `keepalive`, silently, and its body not at all).

    On SIGTERM it stops accepting at once, but first takes every connection
    already waiting in the listen backlog (closing a listener with connections
    queued resets them). Requests in flight, and any that arrive on an open
    connection within STOP_LINGER, are answered with `Connection: close`, once
    no process holds the listener any more (so that the clients answered do not
    connect again into a backlog about to be closed; at most STOP_LINGER);
    connections still idle after that are closed. The worker exits as soon as
    no connection is left, or at graceful_timeout (SHUTDOWN_TIMEOUT).
    """

    STOP_LINGER = 1.0  # seconds an idle keep-alive connection may still bring a request
    TICK = 0.05

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections: dict[socket.socket, bool] = {}  # client -> a request is being handled

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = _closing_when_asked(self.wsgi)

    def handle(self, listener, client, addr):
        """gunicorn's HTTP/1.x keep-alive loop (AsyncWorker.handle, without the TLS
        and HTTP/2 this service does not serve), reading through a _Deadline."""
        client.setblocking(1)
        self.connections[client] = False
        reader = _Deadline(client, _config.request_timeout, self.cfg.keepalive)
        parser = http.get_parser(self.cfg, reader, addr)
        req = None
        try:
            listener_name = listener.getsockname()
            while True:
                req = next(parser)
                self.handle_request(listener_name, req, client, addr)
                # A body the app left unread is still this request's: drained within its deadline.
                if not _drained(parser):
                    break
                reader.await_next(buffered=parser.unreader.buf.seek(0, io.SEEK_END) > 0)
        except RequestTimeout:
            gunicorn_util.write_nonblock(client, raw_problem(408, "Request Timeout", timed_out(reader.seconds)))
        except (StopIteration, NoMoreData):
            pass  # the connection ends: gunicorn said so, or the client closed it
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except Exception as exc:  # a request gunicorn refuses: its answer (problems.raw_problem)
            self.handle_error(req, client, addr, exc)
        finally:
            self.connections.pop(client, None)
            gunicorn_util.close(client)

    def handle_request(self, listener_name, req, sock, addr):
        self.connections[sock] = True
        if req._expected_100_continue:
            # gunicorn would send `100 Continue` before the app has looked at the request,
            # inviting a body it may refuse unread (413 at once): send it on the first read.
            req._expected_100_continue = False
            req.body.reader = _ContinueOnFirstRead(req.body.reader, sock)
        if not self.alive:
            # Answered now, the client would connect again at once, into the listen
            # backlog that this service's last worker is about to close (the listener is
            # shared): wait for that close (server.js holds its answers alike).
            self.listeners_gone.wait(self.STOP_LINGER)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            if sock in self.connections:
                self.connections[sock] = False
            # Let the other connections have a turn: a client that sends its next request
            # at once would otherwise be served again and again while they wait (at 8
            # keep-alive clients, p99 went from 140-320 ms to 20-40 ms with this).
            gevent.sleep(0)

    def run(self):
        self.listeners_gone = gevent.event.Event()
        servers = []
        for listener in self.sockets:
            listener.setblocking(1)
            handle = partial(self.handle, _Bound(listener.getsockname()))  # still named once it is closed
            server = StreamServer(listener, handle=handle, spawn=Pool(self.worker_connections))
            if self.cfg.workers > 1:
                server.max_accept = 1
            server.start()
            servers.append(server)

        last_notified = 0.0
        while self.alive:
            if time.monotonic() - last_notified >= 1:
                self.notify()
                last_notified = time.monotonic()
            gevent.sleep(self.TICK)

        shared = [_tcp_table_entry(listener) for listener in self.sockets]
        for listener, server in zip(self.sockets, servers, strict=True):
            self._take_backlog_and_close(listener, server)
        gevent.spawn(self._note_when_gone, shared)
        started = time.monotonic()
        while any(server.pool.free_count() != server.pool.size for server in servers):
            waited = time.monotonic() - started
            if waited > self.cfg.graceful_timeout:
                self.log.warning("Worker graceful timeout (pid:%s)", self.pid)
                for server in servers:
                    server.pool.kill(timeout=1)
                return
            if waited > self.STOP_LINGER:
                self._close_idle_connections()
            self.notify()
            gevent.sleep(self.TICK)

    @staticmethod
    def _take_backlog_and_close(listener, server) -> None:
        # Nothing between the last accept and the close of the listener: no switch to
        # another greenlet, not even the spawning of the handlers or gevent's
        # bookkeeping (closing the server took up to a millisecond, and connections
        # queued meanwhile were reset).
        server.stop_accepting()
        listener.setblocking(False)
        taken = []
        while True:
            try:
                taken.append(listener.accept())
            except OSError:  # BlockingIOError: the backlog is empty
                break
        listener.close()
        for client, address in taken:
            server.do_handle(client, address)
        server.close()

    def _note_when_gone(self, entries) -> None:
        """Set listeners_gone once no process holds the listeners any more (the master
        and every worker have closed them), or after STOP_LINGER."""
        give_up = time.monotonic() + self.STOP_LINGER
        while any(_in_tcp_table(entry) for entry in entries) and time.monotonic() < give_up:
            gevent.sleep(0.005)
        self.listeners_gone.set()

    def _close_idle_connections(self) -> None:
        for client, busy in list(self.connections.items()):
            if busy or _has_unread_bytes(client):
                continue
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)  # the greenlet reading it sees the end and closes it


class _Deadline:
    """The client socket as gunicorn's parser reads it (headers, then the body
    through wsgi.input): every read ends by the request's deadline, else
    RequestTimeout (the app answers it with 408 while it reads the body; the
    worker writes it otherwise). Between two requests the wait is keep-alive
    idleness instead: after `idle_seconds` the connection ends, without an
    answer; the next request's first byte starts its clock."""

    def __init__(self, sock: socket.socket, seconds: float, idle_seconds: float):
        self.sock, self.seconds, self.idle_seconds = sock, seconds, idle_seconds
        self.expires: float | None = time.monotonic() + seconds

    def await_next(self, buffered: bool) -> None:
        """The request is answered and read; the next one's clock starts with its first byte."""
        self.expires = time.monotonic() + self.seconds if buffered else None

    def recv(self, size: int) -> bytes:
        if self.expires is None:
            data = self._recv(size, self.idle_seconds)
            self.expires = time.monotonic() + self.seconds
            return data
        remaining = self.expires - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout()
        try:
            return self._recv(size, remaining)
        except TimeoutError:
            raise RequestTimeout() from None

    def _recv(self, size: int, timeout: float) -> bytes:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            if self.expires is None:
                return b""  # idle past keepalive: the end of the connection
            raise
        finally:
            self.sock.settimeout(None)


def _drained(parser) -> bool:
    """Whether the body the app left unread could be read (and dropped), so that the
    connection can serve another request. A deadline passed meanwhile is a 408."""
    try:
        return parser.finish_body()
    except RequestTimeout:
        raise
    except Exception:  # an invalid chunk, or one over the limit: the answer is out already; close
        return False


def _closing_when_asked(app):
    """gunicorn drops hop-by-hop headers the app sets; a `Connection: close` from
    the app (a 413 leaves the body unread) closes the connection after the answer.
    So does an answer to a request that expected 100-continue and was never
    invited to send its body: whether the client sends it anyway is unknown."""

    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            reader = getattr(environ["wsgi.input"], "reader", None)
            uninvited = isinstance(reader, _ContinueOnFirstRead) and reader.answer_begins()
            if uninvited or any(k.lower() == "connection" and v.strip().lower() == "close" for k, v in headers):
                start_response.__self__.force_close()  # the bound method of gunicorn's Response
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wsgi


class _ContinueOnFirstRead:
    """The body reader of a request that expects 100-continue: the first read,
    and only one before the answer begins, sends the `100 Continue` that invites
    the body. A request answered without reading its body gets no interim answer."""

    CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

    def __init__(self, reader, sock):
        self.reader, self.sock = reader, sock
        self.invited = self.answered = False

    def read(self, size):
        if not (self.invited or self.answered):
            self.invited = True
            gunicorn_util.write(self.sock, self.CONTINUE)
        return self.reader.read(size)

    def answer_begins(self) -> bool:
        """The final answer starts: no invitation from now on. True when none was sent."""
        self.answered = True
        return not self.invited


class _Bound:
    """What the handlers need of a listener: its address, also after it is closed."""

    def __init__(self, address):
        self.address = address

    def getsockname(self):
        return self.address


def _tcp_table_entry(listener: socket.socket) -> tuple[str, str] | None:
    """Where the kernel lists a listening socket (Linux: its inode in /proc/net/tcp or tcp6)."""
    try:
        inode = os.readlink(f"/proc/self/fd/{listener.fileno()}").removeprefix("socket:[").removesuffix("]")
    except OSError:
        return None
    return ("/proc/net/tcp6" if listener.family == socket.AF_INET6 else "/proc/net/tcp", inode)


def _in_tcp_table(entry: tuple[str, str] | None) -> bool:
    if entry is None:
        return False
    table, inode = entry
    try:
        with open(table, encoding="latin-1") as lines:
            next(lines)  # the column names
            for line in lines:
                fields = line.split()  # sl local remote st tx_queue:rx_queue tr:when retr uid timeout inode
                if fields[3] != "0A":  # listening sockets come first: past them, it is gone
                    return False
                if fields[9] == inode:
                    return True
    except (OSError, StopIteration, IndexError):
        pass
    return False


def _has_unread_bytes(client: socket.socket) -> bool:
    try:
        return bool(client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except OSError:  # nothing to read (EAGAIN), or the connection is gone
        return False


worker_class = GracefulGeventWorker

"""JSON-line logs on stdout: gunicorn's error and access logs and the app's own."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from gunicorn.glogging import Logger

SERVICE = "python-backend"
# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
            "service": SERVICE,
            "logger": record.name,
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(level: str) -> dict:
    """A dictConfig for gunicorn's `logconfig_dict`: every logger, JSON, to stdout."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": handler},
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }


class GunicornLogger(Logger):
    """gunicorn's logger with one structured JSON line per request."""

    def access(self, resp, req, environ, request_time) -> None:
        headers = {name.lower(): value for name, value in resp.headers}
        try:
            self.access_log.info(
                "request",
                extra={
                    "request_id": headers.get("x-request-id"),
                    "method": req.method,
                    "path": req.path,
                    "status": resp.status_code,
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    # ProxyFix has already replaced this with the forwarded client address.
                    "client": environ.get("REMOTE_ADDR"),
                },
            )
        except Exception:  # a log line must never take a request down
            self.exception("access log failed")

"""The contract's endpoints: status, health, echo and the OpenAPI document."""

from __future__ import annotations

import platform
from importlib.metadata import version as package_version
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, g, request

from .headers import HEALTH_JSON
from .lifecycle import Lifecycle
from .middleware import read_json
from .origin import public_origin

bp = Blueprint("contract", __name__)
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


def _lifecycle() -> Lifecycle:
    return current_app.extensions["lifecycle"]


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def status() -> Response:
    config = current_app.config["SERVICE"]
    space = None
    if config.space_id or config.space_host:
        space = {
            "id": config.space_id,
            "host": config.space_host,
            "url": f"https://{config.space_host}" if config.space_host else None,
        }
    origin = public_origin(config.space_host, request.environ)
    body = {
        "service": "python-backend",
        "status": "ok",
        "version": current_app.config["VERSION"],
        "environment": config.app_env,
        "started_at": _lifecycle().started_at,
        "uptime_seconds": _lifecycle().uptime_seconds,
        "runtime": current_app.config["RUNTIME"],
        "space": space,
        "links": {"health": f"{origin}/health", "openapi": f"{origin}/openapi.json"},
    }
    return _no_store(current_app.json.response(body))


@bp.get("/health")
def health() -> Response:
    failing = _lifecycle().shutting_down
    body = {
        "status": "fail" if failing else "pass",
        "service": "python-backend",
        "version": current_app.config["VERSION"],
        "uptime_seconds": _lifecycle().uptime_seconds,
    }
    response = Response(current_app.json.dumps(body), status=503 if failing else 200, mimetype=HEALTH_JSON)
    if failing:
        response.headers["Connection"] = "close"
    return _no_store(response)


@bp.post("/echo")
def echo() -> Response:
    if not request.is_json:
        abort(415, "Send a JSON body with Content-Type: application/json.")
    received = read_json()
    return current_app.json.response({"received": received, "request_id": g.request_id})


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(current_app.config["OPENAPI_DOCUMENT"], mimetype="application/json")


def runtime() -> dict[str, str]:
    """What the status reports the service runs on; read once, when the app is built
    (importlib.metadata reads the installed package's metadata from disk: on every
    request it took more time than the rest of the status)."""
    return {
        "language": "python",
        "language_version": platform.python_version(),
        "framework": "flask",
        "framework_version": package_version("flask"),
    }


def load_openapi() -> bytes:
    return OPENAPI_PATH.read_bytes()

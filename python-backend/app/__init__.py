"""python-backend: the Space contract in Flask, served by gunicorn."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cors, middleware, problems, routes
from .config import Config, environment, load_config
from .lifecycle import Lifecycle

__version__ = "0.1.0"


def create_app(config: Config | Mapping[str, str] | None = None) -> Flask:
    """Build the app. `config` is a Config, a mapping of environment variables
    (validated like the real environment; handy in tests), or None to read the
    process environment over the service folder's `.env`."""
    if not isinstance(config, Config):
        config = load_config(environment() if config is None else config)

    app = Flask(__name__)
    app.config.update(
        SERVICE=config,
        APP_ENV=config.app_env,
        VERSION=__version__,
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        OPENAPI_DOCUMENT=routes.load_openapi(),
        RUNTIME=routes.runtime(),
    )
    app.json.sort_keys = False
    app.json.compact = True
    # One trusted hop (the Space's proxy): the client address comes from it. The
    # scheme of the links is origin.py's (only http or https, and not at all under SPACE_HOST).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=0)
    app.extensions["lifecycle"] = Lifecycle()

    problems.init_app(app)
    middleware.init_app(app)
    cors.init_app(app, config)
    app.register_blueprint(routes.bp)
    return app

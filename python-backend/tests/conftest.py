import logging

import pytest
from app import create_app


@pytest.fixture
def make_app():
    """Build an app from environment-style settings, as the process would read them."""

    def make(**env: str):
        return create_app({"APP_ENV": "test", **env})

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.CRITICAL + 1)

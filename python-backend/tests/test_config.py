import os
import re

import pytest
from app.config import Config, ConfigError, environment, load_config


def test_defaults_apply_when_nothing_is_set():
    config = load_config({})
    assert config == Config()
    assert (config.port, config.host, config.app_env, config.log_level) == (7860, "0.0.0.0", "production", "info")
    assert config.cors_origins is None
    assert config.max_body_bytes == 1048576
    assert config.shutdown_timeout == 8.0
    assert config.request_timeout == 60.0
    assert config.web_concurrency == 2
    assert (config.space_id, config.space_host) == (None, None)


def test_empty_values_count_as_unset():
    assert load_config({"PORT": "", "LOG_LEVEL": "  ", "CORS_ORIGINS": ""}) == Config()


def test_valid_values_are_parsed():
    config = load_config(
        {
            "PORT": "8080",
            "HOST": "::",
            "LOG_LEVEL": "DEBUG",
            "APP_ENV": "development",
            "WEB_CONCURRENCY": "4",
            "MAX_BODY_BYTES": "10",
            "SHUTDOWN_TIMEOUT": "2.5",
            "REQUEST_TIMEOUT": "1.5",
            "SPACE_ID": "me/app",
            "SPACE_HOST": "me-app.hf.space",
        }
    )
    assert (config.port, config.host, config.log_level, config.app_env) == (8080, "::", "debug", "development")
    assert (config.web_concurrency, config.max_body_bytes, config.shutdown_timeout) == (4, 10, 2.5)
    assert config.request_timeout == 1.5
    assert (config.space_id, config.space_host) == ("me/app", "me-app.hf.space")


@pytest.mark.parametrize("value", ["me-app.hf.space", "localhost:7860", "127.0.0.1", "[::1]:8080"])
def test_space_host_is_a_host_with_an_optional_port(value):
    assert load_config({"SPACE_HOST": value}).space_host == value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "abc", "an integer from 1 to 65535"),
        ("PORT", "70000", "an integer from 1 to 65535"),
        ("PORT", "0", "an integer from 1 to 65535"),
        ("PORT", "80.5", "an integer from 1 to 65535"),
        ("PORT", "1e3", "an integer from 1 to 65535"),
        ("HOST", "bad host!", "an IP address or host name"),
        ("LOG_LEVEL", "loud", "one of debug, info, warning, error, critical"),
        ("APP_ENV", "staging", "one of production, development, test"),
        ("WEB_CONCURRENCY", "0", "an integer from 1 to 64"),
        ("MAX_BODY_BYTES", "-1", "an integer from 1 to 1073741824"),
        ("SHUTDOWN_TIMEOUT", "0.5", "a number of seconds from 1 to 300"),
        ("SHUTDOWN_TIMEOUT", "soon", "a number of seconds from 1 to 300"),
        ("REQUEST_TIMEOUT", "0.5", "a number of seconds from 1 to 3600"),
        ("REQUEST_TIMEOUT", "3601", "a number of seconds from 1 to 3600"),
        ("REQUEST_TIMEOUT", "1m", "a number of seconds from 1 to 3600"),
        ("SPACE_HOST", "https://me-app.hf.space", "a host name or IP address with an optional port"),
        ("SPACE_HOST", "me-app.hf.space/x", "a host name or IP address with an optional port"),
        ("SPACE_HOST", "a b", "a host name or IP address with an optional port"),
        ("CORS_ORIGINS", "example.com", "origins such as https://example.com"),
        ("CORS_ORIGINS", "https://example.com/", "origins such as https://example.com"),
        ("CORS_ORIGINS", "https://example.com/path", "origins such as https://example.com"),
        ("CORS_ORIGINS", "ftp://example.com", "origins such as https://example.com"),
        ("CORS_ORIGINS", "*,https://example.com", "origins such as https://example.com"),
        ("CORS_ORIGINS", "https://a.*.com", "origins such as https://example.com"),
        ("CORS_ORIGINS", "https://example.com:99999", "origins such as https://example.com"),
        ("CORS_ORIGINS", "null", "origins such as https://example.com"),
        ("CORS_ORIGINS", "http://[:::]:8080", "origins such as https://example.com"),
        ("CORS_ORIGINS", "http://[*.1]", "origins such as https://example.com"),
    ],
)
def test_an_invalid_value_names_the_variable_the_value_and_what_is_allowed(name, value, expected):
    with pytest.raises(ConfigError) as error:
        load_config({name: value})
    message = str(error.value)
    assert message.startswith(f'invalid configuration: {name}="{value}": expected ')
    assert expected in message
    assert "\n" not in message


def test_every_bad_variable_is_reported_on_one_line_in_contract_order():
    with pytest.raises(ConfigError) as error:
        load_config({"LOG_LEVEL": "loud", "PORT": "abc"})
    assert str(error.value) == (
        'invalid configuration: PORT="abc": expected an integer from 1 to 65535; '
        'LOG_LEVEL="loud": expected one of debug, info, warning, error, critical'
    )


def test_cors_star_means_any_origin():
    assert load_config({"CORS_ORIGINS": "*"}).cors_origins is None


def test_cors_list_keeps_exact_origins_and_compiles_wildcards():
    origins = load_config(
        {"CORS_ORIGINS": "https://Example.com, http://localhost:3000,http://[::1]:8080,https://*.hf.space"}
    ).cors_origins
    assert origins[:3] == ("https://example.com", "http://localhost:3000", "http://[::1]:8080")
    assert isinstance(origins[3], re.Pattern)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://me-app.hf.space", True),
        ("https://ME-APP.hf.space", True),
        ("https://hf.space", False),
        ("https://a.b.hf.space", False),
        ("http://me-app.hf.space", False),
        ("https://me-app.hf.space:444", False),
        ("https://evil.hf.space.example.com", False),
        ("https://evilhf.space", False),
        ("https://me-app.hf.space\n", False),
    ],
)
def test_wildcard_origin_matches_exactly_one_label(origin, allowed):
    (pattern,) = load_config({"CORS_ORIGINS": "https://*.hf.space"}).cors_origins
    assert bool(pattern.match(origin)) is allowed


def test_dotenv_is_read_and_real_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PORT=9001\nLOG_LEVEL=debug\n")
    monkeypatch.setenv("LOG_LEVEL", "error")
    monkeypatch.delenv("PORT", raising=False)
    env = environment(tmp_path)
    assert (env["PORT"], env["LOG_LEVEL"]) == ("9001", "error")


def test_without_dotenv_the_environment_is_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORT", "7001")
    assert environment(tmp_path) == dict(os.environ)

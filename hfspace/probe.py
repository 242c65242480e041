"""Check a running Space over HTTP: what `hfspace check URL` reports.

`check(url, ...)` returns a Report: one Result (pass, fail or skip, a detail,
the milliseconds it took) per check, in this order:

- `tls` (https only): the certificate verifies; nothing else runs if it does not.
- `reachable`: the Space answers HTTP on `GET /`. With `wait` it is polled with
  backoff while it refuses connections or answers 502/503 (starting, waking).
- `redirects`: the chain `GET /` followed; a redirect from https to http fails.
- `GET /`, `HEAD /`: 200 (the platform's readiness probe sends both; a 405 on
  HEAD keeps a Space in "Starting").
- `GET /health`, `HEAD /health`: 200 with a health content type. On a Space that
  is not one of ours a 404 is a skip: /health is our contract, not the platform's.
- `contract GET /`, `contract GET /health`, `contract 404`: only when `GET /`
  names one of our services; the bodies are validated against the contract's
  JSON Schemas (the copy in hfspace/contract/openapi.json).
- `embedding`: no X-Frame-Options DENY/SAMEORIGIN and a CSP `frame-ancestors`
  (if any) that lets https://huggingface.co frame the app.
- `cors simple ORIGIN`, `cors preflight ORIGIN`: for each origin asked for.

The token goes only to the Space's own origin, never across a redirect to
another one, and never appears in a Result (every detail is scrubbed of it).
Nothing here prints or exits; an invalid URL raises HfspaceError (exit 2).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from urllib.parse import urljoin, urlsplit

import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hfspace import __version__
from hfspace.errors import HfspaceError

PASS, FAIL, SKIP = "pass", "fail", "skip"
EMBEDDER = "https://huggingface.co"  # the page that shows every Space in an iframe
DEFAULT_TIMEOUT = 10.0
BACKOFF_START, BACKOFF_MAX = 0.5, 5.0
MAX_REDIRECTS = 10
WAKING = (502, 503)  # what the proxy answers while a Space starts or wakes up
NOT_FOUND_PATH = "/hfspace-check-does-not-exist"
_CONTRACT = "urn:hfspace:contract"
_HEALTH_TYPES = ("application/health+json", "application/json", "text/plain")
# The preflight asks for what a JSON POST from a page needs. POST is one of Fetch's
# CORS-safelisted methods, which browsers allow whatever Allow-Methods lists.
_PREFLIGHT_METHOD, _PREFLIGHT_HEADER = "POST", "content-type"
_SAFELISTED_METHODS = ("GET", "HEAD", "POST")


@dataclass
class Result:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str
    duration_ms: float = 0.0


@dataclass
class Report:
    url: str
    service: str | None = None  # python-backend or nodejs-backend when the Space is one of ours
    redirects: list[str] = field(default_factory=list)  # "301 URL -> URL", in order
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.status != FAIL for result in self.results)

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def parse_url(url: str) -> str:
    """The origin (`scheme://host[:port]`) to check; HfspaceError with exit 2 unless an http(s) address."""
    hint = "give the Space's address, e.g. http://127.0.0.1:7860 or https://owner-name.hf.space"
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise HfspaceError(f"{url!r} is not an http:// or https:// URL", hint, exit_code=2)
    if "@" in parts.netloc:
        raise HfspaceError("a URL with credentials (user:password@) is not accepted", "pass a token with --token", 2)
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise HfspaceError(f"{url!r} has an invalid port", hint, exit_code=2) from None
    if not parts.hostname:
        raise HfspaceError(f"{url!r} has no host", hint, exit_code=2)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise HfspaceError(f"{url!r} has a path: check takes the Space's address only", hint, exit_code=2)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def is_hf_space(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme == "https" and (parts.hostname or "").endswith(".hf.space")


def resolve_token(origin: str, explicit: str | None, environ: dict[str, str]) -> str | None:
    """--token is sent wherever the user points it; HF_TOKEN from the environment only to an
    https://*.hf.space Space, so a token that happens to be set never reaches another server."""
    if explicit:
        return explicit
    return (environ.get("HF_TOKEN") or None) if is_hf_space(origin) else None


# --- HTTP ---------------------------------------------------------------------


@dataclass
class Exchange:
    response: requests.Response
    chain: list[str]  # the redirects followed, "301 URL -> URL"
    downgrade: str | None  # "URL -> http://..." when an https redirect pointed at http (not followed)
    ms: float


class Client:
    """One Session; every call has a timeout, redirects are followed by hand to see the chain."""

    def __init__(self, origin: str, token: str | None, timeout: float) -> None:
        self.origin, self.token, self.timeout = origin, token, timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"hfspace/{__version__} check"

    def close(self) -> None:
        self.session.close()

    def send(self, method: str, path: str, headers: dict[str, str] | None = None, follow: bool = True) -> Exchange:
        url, chain, start = self.origin + path, [], time.monotonic()
        for _ in range(MAX_REDIRECTS + 1):
            sent = dict(headers or {})
            if self.token and _origin_of(url) == self.origin:
                sent["Authorization"] = f"Bearer {self.token}"
            response = self.session.request(method, url, headers=sent, timeout=self.timeout, allow_redirects=False)
            if not (follow and response.is_redirect):
                return Exchange(response, chain, None, _ms(start))
            target = urljoin(url, response.headers["Location"])
            if url.startswith("https://") and target.lower().startswith("http://"):
                return Exchange(response, chain, f"{url} -> {target}", _ms(start))
            chain.append(f"{response.status_code} {url} -> {target}")
            url = target
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {self.origin}{path}")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


def describe(error: Exception, origin: str) -> str:
    """One line a person can act on, for what requests raised."""
    text = str(error)
    host = urlsplit(origin).netloc
    if isinstance(error, requests.exceptions.SSLError):
        reason = re.search(r"certificate verify failed: ([^(')]+)", text)
        if reason:
            return f"TLS certificate of {host} does not verify: {reason.group(1).strip()} (a browser refuses it too)"
        return f"TLS handshake with {host} failed: {_tail(text)}"
    if isinstance(error, requests.exceptions.Timeout):
        return f"no answer from {host} within the timeout"
    if isinstance(error, requests.TooManyRedirects):
        return text
    if "Connection refused" in text:
        return f"connection refused: nothing listens on {host}"
    if "Name or service not known" in text or "Failed to resolve" in text or "nodename nor servname" in text:
        return f"cannot resolve the host {urlsplit(origin).hostname}"
    return f"cannot connect to {host}: {_tail(text)}"


def _tail(text: str) -> str:
    """The innermost reason in a requests/urllib3 error chain."""
    inner = re.findall(r"\(([^()]*)\)", text)
    return (inner[-1] if inner else text)[:200]


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _json(response: requests.Response):
    try:
        return json.loads(response.content)
    except ValueError:
        return None


# --- the contract ---------------------------------------------------------------


@cache
def contract() -> dict:
    """The contract copy shipped with the tool (scripts/sync_contract.py writes it)."""
    return json.loads(resources.files("hfspace").joinpath("contract", "openapi.json").read_text())


@cache
def _validator(schema: str) -> Draft202012Validator:
    registry = Registry().with_resource(_CONTRACT, Resource.from_contents(contract(), DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"{_CONTRACT}#/components/schemas/{schema}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def our_services() -> tuple[str, ...]:
    return tuple(contract()["components"]["schemas"]["Status"]["properties"]["service"]["enum"])


def schema_error(schema: str, body) -> str | None:
    """Why `body` does not match the contract's components/schemas/`schema`, or None."""
    error = best_match(_validator(schema).iter_errors(body))
    if error is None:
        return None
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    return f"{where}: {message}"


# --- the checks -----------------------------------------------------------------


def check(
    url: str,
    origins: Iterable[str] = (),
    wait: float = 0.0,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Run every check against the Space at `url`."""
    origin = parse_url(url)
    report = Report(origin)
    client = Client(origin, token, timeout)
    try:
        first = _reach(client, wait, sleep, report.results)
        if first is not None:
            _run_checks(client, first, list(origins), report)
    finally:
        client.close()
    if token:  # belt and braces: no detail may carry the token, whatever a server echoed
        for result in report.results:
            result.detail = result.detail.replace(token, "***")
        report.redirects = [hop.replace(token, "***") for hop in report.redirects]
    return report


def _reach(client: Client, wait: float, sleep, results: list[Result]) -> Exchange | None:
    """GET /, polled with backoff for up to `wait` seconds while unreachable or 502/503."""
    start, delay, attempts = time.monotonic(), BACKOFF_START, 0
    https = client.origin.startswith("https://")
    while True:
        attempts += 1
        exchange, error = None, None
        try:
            exchange = client.send("GET", "/")
        except requests.exceptions.SSLError as exc:  # a certificate does not fix itself: no retry
            results.append(Result("tls", FAIL, describe(exc, client.origin), _ms(start)))
            return None
        except requests.RequestException as exc:
            error = exc
        waiting = error is not None or exchange.response.status_code in WAKING
        remaining = wait - (time.monotonic() - start)
        if not waiting or remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * 2, BACKOFF_MAX)
    took = _ms(start)
    if https and error is None:
        results.append(Result("tls", PASS, "certificate verified", took))
    waited = f"still so after waiting {wait:g} s ({attempts} attempts)"
    if error is not None:
        advice = waited if wait else "while the Space starts, use --wait SECONDS"
        results.append(Result("reachable", FAIL, f"{describe(error, client.origin)}; {advice}", took))
        return None
    status = exchange.response.status_code
    if status in WAKING:
        advice = waited if wait else "retry with --wait SECONDS"
        detail = f"answers {status} {exchange.response.reason}: the Space is starting or waking up; {advice}"
        results.append(Result("reachable", FAIL, detail, took))
        return None
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    results.append(Result("reachable", PASS, f"HTTP {status}{tries}", took))
    return exchange


def _run_checks(client: Client, first: Exchange, origins: list[str], report: Report) -> None:
    results = report.results
    report.redirects = [*first.chain, *([f"{first.response.status_code} {first.downgrade}"] if first.downgrade else [])]
    results.append(_redirects(first))
    report.service = _service_of(first.response)
    results.append(_get_root(first, report.service))
    results.append(_head(client, "/", "HEAD /", _head_root))
    health = _try(client, "GET", "/health")
    results.append(_get_health(health, report.service, first))
    if results[-1].status == SKIP:
        results.append(Result("HEAD /health", SKIP, "no /health on this Space"))
    else:
        results.append(_head(client, "/health", "HEAD /health", _head_health(health)))
    if report.service:
        results.extend(_contract(client, first, health, report.service))
    else:
        names = " or ".join(our_services())
        detail = f"not one of ours (GET / names no {names} service): reachability checks only"
        results.append(Result("contract", SKIP, detail))
    results.append(_embedding(first))
    for origin in origins:
        results.extend(_cors(client, origin))


def _try(client: Client, method: str, path: str, **kwargs) -> Exchange | str:
    """The exchange, or what went wrong as one line."""
    try:
        return client.send(method, path, **kwargs)
    except requests.RequestException as exc:
        return describe(exc, client.origin)


def _redirects(first: Exchange) -> Result:
    if first.downgrade:
        detail = (
            f"{first.downgrade}: an https Space must never redirect to http:// "
            "(TLS ends at the platform's proxy: build URLs from X-Forwarded-Proto)"
        )
        return Result("redirects", FAIL, detail, first.ms)
    return Result("redirects", PASS, "; ".join(first.chain) or "none", first.ms)


def _service_of(response: requests.Response) -> str | None:
    if response.status_code != 200 or not _content_type(response).endswith("json"):
        return None
    body = _json(response)
    service = body.get("service") if isinstance(body, dict) else None
    return service if service in our_services() else None


def _get_root(first: Exchange, service: str | None) -> Result:
    response = first.response
    if response.status_code != 200:
        why = " (the redirect to http:// was not followed)" if first.downgrade else ""
        detail = f"answers {response.status_code} {response.reason}{why}: the platform's readiness probe wants 200"
        return Result("GET /", FAIL, detail, first.ms)
    kind = _content_type(response) or "no content type"
    return Result("GET /", PASS, f"200 {kind}" + (f", {service}" if service else ""), first.ms)


def _head(client: Client, path: str, name: str, judge: Callable[[requests.Response], str | None]) -> Result:
    exchange = _try(client, "HEAD", path)
    if isinstance(exchange, str):
        return Result(name, FAIL, exchange)
    problem = judge(exchange.response)
    if problem:
        return Result(name, FAIL, problem, exchange.ms)
    answer = f"{exchange.response.status_code} {_content_type(exchange.response)}".strip()
    return Result(name, PASS, answer, exchange.ms)


def _head_root(response: requests.Response) -> str | None:
    status = response.status_code
    if status == 405:
        return '405 Method Not Allowed: the platform probes HEAD / and a Space that refuses it stays in "Starting"'
    if status != 200:
        return f"answers {status} {response.reason}: the platform probes HEAD / and wants 200"
    return None


def _head_health(get: Exchange | str) -> Callable[[requests.Response], str | None]:
    expected = _content_type(get.response) if isinstance(get, Exchange) else ""

    def judge(response: requests.Response) -> str | None:
        if response.status_code != 200:
            return f"answers {response.status_code} {response.reason}, expected 200 as GET /health"
        if expected and _content_type(response) != expected:
            return f"content type {_content_type(response) or 'missing'}, but GET /health says {expected}"
        return None

    return judge


def _get_health(health: Exchange | str, service: str | None, first: Exchange | None = None) -> Result:
    name = "GET /health"
    if isinstance(health, str):
        return Result(name, FAIL, health)
    response, kind = health.response, _content_type(health.response)
    if response.status_code == 404 and not service:
        return Result(name, SKIP, "404: this Space has no /health (only our services must have one)", health.ms)
    if not service and kind == "text/html" and first is not None and response.content == first.response.content:
        # A single-page app (Streamlit, a static site's fallback) answers every path with its page.
        detail = (
            "the same page as GET / (a catch-all route): this Space has no /health (only our services must have one)"
        )
        return Result(name, SKIP, detail, health.ms)
    if response.status_code != 200:
        return Result(name, FAIL, f"answers {response.status_code} {response.reason}, expected 200", health.ms)
    if service and kind != "application/health+json":
        detail = f"content type {kind or 'missing'}, expected application/health+json (the contract)"
        return Result(name, FAIL, detail, health.ms)
    if kind == "text/html":
        detail = "content type text/html: a web page, not a health check (a catch-all route answering every path?)"
        return Result(name, FAIL, detail, health.ms)
    if not (kind in _HEALTH_TYPES or kind.endswith("+json")):
        detail = f"content type {kind or 'missing'}, expected JSON (application/health+json) or text/plain"
        return Result(name, FAIL, detail, health.ms)
    return Result(name, PASS, f"200 {kind}", health.ms)


def _contract(client: Client, first: Exchange, health: Exchange | str, service: str) -> list[Result]:
    results = [_conforms("contract GET /", first, 200, "application/json", "Status")]
    if isinstance(health, str):
        results.append(Result("contract GET /health", FAIL, health))
    else:
        result = _conforms("contract GET /health", health, 200, "application/health+json", "Health")
        body = _json(health.response)
        if result.status == PASS and body.get("service") != service:
            result = Result(result.name, FAIL, f"service is {body.get('service')!r}, GET / says {service!r}", health.ms)
        results.append(result)
    missing = _try(client, "GET", NOT_FOUND_PATH)
    if isinstance(missing, str):
        results.append(Result("contract 404", FAIL, missing))
    else:
        results.append(_conforms("contract 404", missing, 404, "application/problem+json", "Problem"))
    return results


def _conforms(name: str, exchange: Exchange, status: int, kind: str, schema: str) -> Result:
    response = exchange.response
    if response.status_code != status:
        return Result(name, FAIL, f"answers {response.status_code}, the contract says {status}", exchange.ms)
    if _content_type(response) != kind:
        detail = f"content type {_content_type(response) or 'missing'}, the contract says {kind}"
        return Result(name, FAIL, detail, exchange.ms)
    body = _json(response)
    if body is None:
        return Result(name, FAIL, "the body is not JSON", exchange.ms)
    problem = schema_error(schema, body)
    if problem:
        return Result(name, FAIL, f"does not match {schema}: {problem}", exchange.ms)
    return Result(name, PASS, f"{status} {kind} matches {schema}", exchange.ms)


# --- embedding in the huggingface.co iframe --------------------------------------


def frame_ancestors(headers) -> list[list[str]]:
    """The source lists of every enforced CSP's frame-ancestors directive (several policies may be sent)."""
    lists = []
    for policy in headers.get("Content-Security-Policy", "").split(","):
        for directive in policy.split(";"):
            words = directive.split()
            if words and words[0].lower() == "frame-ancestors":
                lists.append(words[1:])
    return lists


def allows_embedder(sources: list[str]) -> bool:
    """Whether a frame-ancestors source list matches https://huggingface.co (CSP3 source matching)."""
    for source in (s.lower() for s in sources):
        if source in ("*", "https:"):
            return True
        match = re.fullmatch(r"(?:(https?)://)?(\*\.)?([a-z0-9.-]+)(?::(\d+|\*))?(/.*)?", source)
        if not match or source.startswith("'"):
            continue  # 'none', 'self' (the Space's own origin), schemes other than https
        _, wildcard, host, port, _ = match.groups()
        host_ok = host == "huggingface.co" if not wildcard else "huggingface.co".endswith("." + host)
        if host_ok and port in (None, "443", "*"):
            return True
    return False


def _embedding(first: Exchange) -> Result:
    headers, problems = first.response.headers, []
    frame_options = headers.get("X-Frame-Options")
    if frame_options and any(v.strip().upper() in ("DENY", "SAMEORIGIN") for v in frame_options.split(",")):
        problems.append(f"X-Frame-Options: {frame_options} forbids the iframe on {EMBEDDER}")
    for sources in frame_ancestors(headers):
        if not allows_embedder(sources):
            listed = " ".join(sources) or "(empty)"
            problems.append(f"Content-Security-Policy frame-ancestors {listed} does not allow {EMBEDDER}")
    if problems:
        return Result("embedding", FAIL, "; ".join(problems) + ": the Space page cannot show the app", first.ms)
    ancestors = frame_ancestors(headers)
    detail = f"frame-ancestors allows {EMBEDDER}" if ancestors else "no X-Frame-Options, no frame-ancestors"
    return Result("embedding", PASS, detail, first.ms)


# --- CORS -----------------------------------------------------------------------


def _cors(client: Client, origin: str) -> list[Result]:
    simple = _try(client, "GET", "/", headers={"Origin": origin})
    results = [_cors_simple(f"cors simple {origin}", simple, origin)]
    preflight_headers = {
        "Origin": origin,
        "Access-Control-Request-Method": _PREFLIGHT_METHOD,
        "Access-Control-Request-Headers": _PREFLIGHT_HEADER,
    }
    preflight = _try(client, "OPTIONS", "/", headers=preflight_headers, follow=False)  # browsers do not follow
    results.append(_cors_preflight(f"cors preflight {origin}", preflight, origin))
    return results


def _allow_origin_problem(headers, origin: str) -> str | None:
    allowed = headers.get("Access-Control-Allow-Origin")
    credentials = headers.get("Access-Control-Allow-Credentials", "").strip().lower() == "true"
    if allowed is None:
        return f"no Access-Control-Allow-Origin for Origin {origin}: pages there cannot read the answers"
    if allowed.strip() == "*" and credentials:
        return (
            "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true: browsers refuse "
            "credentials with a wildcard (echo the origin instead)"
        )
    if allowed.strip() not in ("*", origin):
        return f"Access-Control-Allow-Origin is {allowed.strip()!r}, not {origin} or *"
    return None


def _cors_simple(name: str, exchange: Exchange | str, origin: str) -> Result:
    if isinstance(exchange, str):
        return Result(name, FAIL, exchange)
    problem = _allow_origin_problem(exchange.response.headers, origin)
    if problem:
        return Result(name, FAIL, problem, exchange.ms)
    allowed = exchange.response.headers["Access-Control-Allow-Origin"]
    return Result(name, PASS, f"Access-Control-Allow-Origin: {allowed}", exchange.ms)


def _listed(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def _cors_preflight(name: str, exchange: Exchange | str, origin: str) -> Result:
    if isinstance(exchange, str):
        return Result(name, FAIL, exchange)
    response = exchange.response
    if not 200 <= response.status_code < 300:
        detail = f"OPTIONS / answers {response.status_code} {response.reason}: a preflight needs a 2xx"
        return Result(name, FAIL, detail, exchange.ms)
    problem = _allow_origin_problem(response.headers, origin)
    if problem:
        return Result(name, FAIL, problem, exchange.ms)
    credentials = response.headers.get("Access-Control-Allow-Credentials", "").strip().lower() == "true"
    methods = _listed(response.headers.get("Access-Control-Allow-Methods"))
    headers = _listed(response.headers.get("Access-Control-Allow-Headers"))
    wildcard = not credentials  # with credentials a `*` is a literal name, not a wildcard
    method = _PREFLIGHT_METHOD
    if not (method in _SAFELISTED_METHODS or method.lower() in methods or (wildcard and "*" in methods)):
        return Result(name, FAIL, f"Access-Control-Allow-Methods does not cover {method}", exchange.ms)
    if not (_PREFLIGHT_HEADER in headers or (wildcard and "*" in headers)):
        listed = response.headers.get("Access-Control-Allow-Headers") or "nothing"
        detail = f"Access-Control-Allow-Headers ({listed}) does not cover {_PREFLIGHT_HEADER}: a JSON POST is refused"
        return Result(name, FAIL, detail, exchange.ms)
    allowed = f"methods {response.headers.get('Access-Control-Allow-Methods') or '(safelisted only)'}"
    return Result(name, PASS, f"{response.status_code}, {allowed}, headers {', '.join(sorted(headers))}", exchange.ms)

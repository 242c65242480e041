"""Rules of the image's HEALTHCHECK (which Docker and compose use; the platform does not)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hfspace.rules.registry import INFO, Hit, docker_only, rule
from hfspace.space import Space
from hfspace.space.words import expand

_PROBE = re.compile(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\])(?::([^/\s\"']+))?")


@rule("healthcheck-missing", INFO)
@docker_only
def healthcheck_missing(space: Space) -> Iterator[Hit]:
    """No HEALTHCHECK in the final stage.

    Why: local runs and compose cannot tell when the app is up. The platform itself does not
    use Docker's HEALTHCHECK.
    Severity: info: advice for running the image elsewhere; the Space runs without it.
    Fix: add a HEALTHCHECK that asks the app on app_port.
    Example:
        CMD ["python", "app.py"]        <- and no HEALTHCHECK
    """
    config = space.dockerfile.config
    ins = config.healthcheck
    if ins is None or ins.rest.strip().upper() == "NONE":
        line = ins.line if ins else space.dockerfile.final.from_.line
        yield Hit(
            "Dockerfile",
            line,
            "no HEALTHCHECK: local runs and compose cannot tell when the app is up",
            f'add `HEALTHCHECK CMD curl --fail "http://127.0.0.1:{space.app_port}/" || exit 1` (the image '
            "needs curl; python3 -c with urllib works in Python images)",
        )


@rule("healthcheck-port", INFO)
@docker_only
def healthcheck_port(space: Space) -> Iterator[Hit]:
    """The HEALTHCHECK probes a port other than app_port.

    Why: wherever Docker runs the image (compose, `docker run`, a local `hfspace up --docker`), a
    probe of the wrong port marks a healthy container unhealthy.
    Severity: info: the platform does not run it; elsewhere the image reports itself broken while
    it serves.
    Fix: probe http://127.0.0.1:APP_PORT/.
    Example:
        HEALTHCHECK CMD curl -f http://127.0.0.1:8080/      <- app_port is 7860
    """
    config = space.dockerfile.config
    ins = config.healthcheck
    match = _PROBE.search(ins.value) if ins else None
    if match is None:
        return
    port_text = expand(match.group(1), config.env) if match.group(1) else "80"
    port = int(port_text) if port_text and port_text.isdigit() else None
    app_port = space.app_port
    if port is not None and port != app_port:
        yield Hit(
            "Dockerfile",
            ins.line,
            f"the HEALTHCHECK probes port {port} but app_port is {app_port}",
            f"probe http://127.0.0.1:{app_port}/",
        )

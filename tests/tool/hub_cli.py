"""`hfspace` as a real process against the Hub emulator, as test_deploy and test_release run it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HFSPACE = ROOT / ".venv" / "bin" / "hfspace"


def runner(emulator, home: Path, outputs: list[str], token: str) -> Callable[..., subprocess.CompletedProcess]:
    """run(*args, token=..., cwd=..., env=..., timeout=...): `hfspace <args>` with HF_ENDPOINT at the
    emulator, HF_HOME at `home` and HF_TOKEN `token` (None: no token); every output lands in `outputs`."""

    def run(
        *args: str,
        token: str | None = token,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
        timeout: float = 180,
    ) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        environ.update({"HF_ENDPOINT": emulator.url, "HF_HOME": str(home)})
        if token is not None:
            environ["HF_TOKEN"] = token
        environ.update(env or {})
        result = subprocess.run(
            [str(HFSPACE), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout, check=False
        )
        outputs.append(result.stdout + result.stderr)
        return result

    return run

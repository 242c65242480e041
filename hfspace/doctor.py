"""`hfspace doctor OWNER/NAME`: why a live Space is failing, in plain words, with the fix.

`read()` gathers what the Hub knows, through the client: the runtime (stage, error message,
hardware current and requested, sleep time), `space_info` (last commit, sdk, URL), the names
of its variables and secrets, its build and run logs (best effort: a log that cannot be read
is said, and the runtime alone still diagnoses), and `validate` over the Space's files as the
Hub holds them. `diagnose()` holds that against one table of causes, `CAUSES` (data: each a
pattern over the error message, a log, or the stage, with whose it is, what to do, and the
validate rule that would have caught it). `doctor()` does both and, for a RUNNING Space,
runs `hfspace check` against its URL.

The texts the patterns match are the Hub's and the tools' own, quoted in public reports; the
tests build each state from such an excerpt and cite its thread. Wording drifts ("space was
not healthy" became "workload was not healthy"): the patterns match loosely. Where a cause is
recognised by no pattern, the error message and the log lines around the first error are
given, labelled as not recognised.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.utils import disable_progress_bars

from hfspace import hub, probe, rules
from hfspace.errors import HfspaceError
from hfspace.space import DEFAULT_APP_PORT, load

SPACE, PLATFORM = "space", "platform"
HEALTHY, SPACE_CAUSE, UNREADABLE, PLATFORM_CAUSE = 0, 1, 2, 3  # the exit codes (2: the Space could not be read)
MAX_FILE = 1024 * 1024  # files larger than this are not downloaded for validate (a stand-in of their size is)
STUCK_MINUTES = 30.0  # a build with no step in its log after this long is the platform's


@dataclass
class Facts:
    """What the Hub knows of a Space, read once."""

    space_id: str
    stage: str
    error: str | None = None
    hardware: str | None = None
    requested: str | None = None
    sleep_time: int | None = None
    sdk: str | None = None
    url: str | None = None
    private: bool = False
    minutes_since_commit: float | None = None
    app_port: int = DEFAULT_APP_PORT
    defined: set[str] | None = field(default_factory=set)  # names of its variables and secrets; None: not read
    build_log: list[str] | None = None  # None: could not be read
    run_log: list[str] | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, and why
    findings: list[rules.Finding] = field(default_factory=list)  # validate over its files on the Hub


@dataclass(frozen=True)
class Cause:
    id: str
    owner: str  # SPACE (its code, Dockerfile, card, settings) or PLATFORM
    summary: str
    evidence: str
    fix: str
    rule: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Pattern:
    """One cause the table knows: where to look, what says it, and what to tell the user."""

    id: str
    owner: str
    where: tuple[str, ...]  # "error" (the runtime's message), "build", "run" (log lines), "stage"
    regex: str
    summary: str  # str.format with the match's groups as {m[1]}... and the Facts' fields
    fix: str
    rules: tuple[str, ...] = ()  # the validate rules that catch it before a push
    stages: tuple[str, ...] = ()  # only in these stages (none: any)
    when: Callable[[re.Match, Facts], bool] | None = None
    supersedes: tuple[str, ...] = ()  # causes this one explains better, dropped when it is found
    generic: bool = False  # a catch-all: dropped when any other cause is found
    ref: str = ""  # a public report showing the text


def _local_bind(match: re.Match, facts: Facts) -> bool:
    """A loopback address in a startup line, and no line saying the server also listens on all of them."""
    text = "\n".join(facts.run_log or [])
    return not re.search(r"Running on all addresses|0\.0\.0\.0:\d+|\[::\]:\d+", text)


def _other_port(match: re.Match, facts: Facts) -> bool:
    return match.group("port").isdigit() and int(match.group("port")) != facts.app_port


def _on_app_port(match: re.Match, facts: Facts) -> bool:
    return match.group("port").isdigit() and int(match.group("port")) == facts.app_port


def _undefined(name: str, facts: Facts) -> bool:
    """Not among the Space's variables and secrets (or they could not be read: the log is the evidence)."""
    return facts.defined is None or name not in facts.defined


def _restarts(match: re.Match, facts: Facts) -> bool:
    return sum("===== Application Startup at" in line for line in facts.run_log or []) >= 2


def _stuck(match: re.Match, facts: Facts) -> bool:
    steps = [line for line in facts.build_log or [] if line.strip() and "===== Build Queued" not in line]
    return not steps and (facts.minutes_since_commit or 0) >= STUCK_MINUTES


def _not_lfs(match: re.Match, facts: Facts) -> bool:
    return ".lfs.hf.co" not in match.group(0)


_LISTEN = (
    r"(?:Uvicorn running on|Listening at:|Running on(?: local URL:)?|Local URL:|listening on|running on|started on)"
)
_TIMEOUT = r"Launch timed out, (?:workload|space) was not healthy after (?P<minutes>\d+) ?min"
_LAUNCH_RULES = ("bind-localhost", "port-mismatch", "no-http-server", "cmd-not-json", "card-key-typo")

# The table of causes. Order matters only for the order they are shown in.
CAUSES: tuple[Pattern, ...] = (
    # The platform could not place the Space (mostly GPU tiers).
    # github.com/jwkirchenbauer/lm-watermarking/issues/13, github.com/PantoMatrix/PantoMatrix/issues/218
    Pattern(
        "scheduling-failure",
        PLATFORM,
        ("error",),
        r"Scheduling failure: (?P<what>[^\n.]+)",
        "the platform could not find hardware to run it ({m[what]}) for {requested}",
        "nothing to change in your code: wait and restart (`hf spaces restart OWNER/NAME`), or choose other "
        "hardware (`hf spaces settings OWNER/NAME --hardware ...`)",
        ref="https://github.com/PantoMatrix/PantoMatrix/issues/218",
    ),
    # The run log says the server listens on a loopback address: the proxy cannot reach it.
    # (No Hub log with these lines was found; the texts are each server's own startup line.)
    Pattern(
        "bound-to-localhost",
        SPACE,
        ("run",),
        _LISTEN + r".*?(?:https?://)?(?P<host>127\.0\.0\.1|localhost|\[::1\]):(?P<port>\d+)",
        "the app listens on {m[host]}:{m[port]}, which the Space's proxy cannot reach, so the Space never "
        "becomes healthy",
        'bind 0.0.0.0 (uvicorn/gunicorn --host/-b 0.0.0.0, app.run(host="0.0.0.0"), launch(server_name="0.0.0.0"))',
        rules=("bind-localhost",),
        stages=("RUNTIME_ERROR", "APP_STARTING"),
        when=_local_bind,
        supersedes=("launch-timeout",),
        ref="https://huggingface.co/spaces/NewtonKimathi/Sepsis_Prediction_FastApi/discussions/2",
    ),
    # A Flask app on 3000 in a Space stuck at Starting: github.com/xLmiler/grok2api_python/issues/72
    Pattern(
        "wrong-port",
        SPACE,
        ("run",),
        _LISTEN + r".*?(?:https?://)?[\w.\[\]:-]*?:(?P<port>\d{2,5})\b",
        "the app listens on port {m[port]}, but the platform sends requests to app_port {app_port}",
        "listen on {app_port}, or set `app_port: {m[port]}` in README.md's front matter",
        rules=("port-mismatch", "card-key-typo"),
        stages=("RUNTIME_ERROR", "APP_STARTING"),
        when=_other_port,
        supersedes=("launch-timeout",),
        ref="https://github.com/xLmiler/grok2api_python/issues/72",
    ),
    # Timed out while the log shows the app on 0.0.0.0:app_port: the platform's side.
    # huggingface.co/spaces/multimodalart/dreambooth-training/discussions/56
    Pattern(
        "launch-timeout-listening",
        PLATFORM,
        ("run",),
        _LISTEN + r".*?(?:https?://)?(?:0\.0\.0\.0|\[::\]):(?P<port>\d+)",
        "it timed out while the app said it listened on 0.0.0.0:{m[port]}, where the platform looks",
        "restart it (`hf spaces restart OWNER/NAME`); if it happens again, check that GET / and HEAD / "
        "answer 200 quickly (`hfspace check`)",
        when=lambda m, f: _on_app_port(m, f) and bool(re.search(_TIMEOUT, f.error or "")),
        supersedes=("launch-timeout",),
        ref="https://huggingface.co/spaces/multimodalart/dreambooth-training/discussions/56",
    ),
    # github.com/modelscope/facechain/issues/560 (models downloaded at wake-up)
    Pattern(
        "slow-start",
        SPACE,
        ("run",),
        r"(?i)\b(downloading|fetching \d+ files|loading (?:checkpoint|model))\b.*",
        "it was still starting ({m[0]}) when the start-up time ran out",
        "download models at build time (or to a volume), or raise `startup_duration_timeout` in the card",
        when=lambda m, f: bool(re.search(_TIMEOUT, f.error or "")),
        supersedes=("launch-timeout",),
        ref="https://github.com/modelscope/facechain/issues/560",
    ),
    # huggingface.co/spaces/awacke1/Docker.VSCode.Integration.HF; github.com/KyanChen/RSPrompter/issues/105
    Pattern(
        "launch-timeout",
        SPACE,
        ("error",),
        _TIMEOUT,
        "nothing answered HTTP on app_port {app_port} within {m[minutes]} minutes",
        "listen on 0.0.0.0:{app_port} and answer GET / and HEAD / with 200 quickly; for a slow start, raise "
        "`startup_duration_timeout`",
        rules=_LAUNCH_RULES,
        ref="https://github.com/KyanChen/RSPrompter/issues/105",
    ),
    # github.com/mhrice/RemFx/issues/47; huggingface.co/spaces/Xintao/GFPGAN/discussions/40 (exit 137)
    Pattern(
        "memory-limit",
        SPACE,
        ("error",),
        r"Memory limit exceeded \((?P<limit>[^)]+)\)|(?:Space failed\. )?Exit code: 137\b",
        "the app used more memory than {hardware} gives it, and was killed",
        "use less memory (load models lazily, smaller batches), or a larger hardware tier "
        "(`hf spaces settings OWNER/NAME --hardware ...`)",
        stages=("RUNTIME_ERROR",),
        ref="https://github.com/mhrice/RemFx/issues/47",
    ),
    # github.com/Cinnamon/kotaemon/issues/725 ("Job failed with exit code: 137")
    Pattern(
        "build-out-of-memory",
        SPACE,
        ("error", "build"),
        r"exit code:? 137\b|^\s*(?:#\d+ [\d.]+ )?Killed\s*$",
        "the build ran out of memory and was killed (the Space's hardware does not change what a build gets)",
        "make the build lighter: install prebuilt wheels, fewer parallel jobs (npm, webpack, make -j), or move "
        "the heavy step to start-up",
        stages=("BUILD_ERROR",),
        ref="https://github.com/Cinnamon/kotaemon/issues/725",
    ),
    # huggingface.co/spaces/nvidia/Cosmos-Predict2/discussions/2
    Pattern(
        "storage-evicted",
        SPACE,
        ("error",),
        r"Workload evicted, storage limit exceeded \((?P<limit>[^)]+)\)",
        "the container filled its {m[limit]} of disk (caches, downloads, /tmp, logs) and was evicted",
        "keep caches and downloads small, or put them in a mounted volume; a restart starts from an empty disk",
        ref="https://huggingface.co/spaces/nvidia/Cosmos-Predict2/discussions/2",
    ),
    # huggingface.co/spaces/luguog/Gucci23; forum /t/permission-denied-when-writing-to-local-directory-.../169093
    Pattern(
        "permission-denied",
        SPACE,
        ("error", "run"),
        r"PermissionError: \[Errno 13\] Permission denied: '(?P<path>[^']+)'"
        r"|EACCES: permission denied, \w+ '(?P<path2>[^']+)'|unable to open database file",
        "the app could not write {path}: the user the container runs as does not own it",
        "give that user the folder (`COPY --chown=user`, `USER` before `WORKDIR`), or write under /tmp or $HOME",
        rules=("write-root-owned",),
        ref="https://huggingface.co/spaces/luguog/Gucci23",
    ),
    # github.com/OHF-Voice/wyoming-faster-whisper/issues/27 (not seen on a Space: the Python wording)
    Pattern(
        "read-only-filesystem",
        SPACE,
        ("error", "run"),
        r"\[Errno 30\] Read-only file system: '(?P<path>[^']+)'",
        "the app wrote to {m[path]}, which is read-only (a mounted repository, or a read-only root)",
        "write under /tmp or $HOME, or to a read-write volume",
        ref="https://github.com/OHF-Voice/wyoming-faster-whisper/issues/27",
    ),
    # huggingface.co/spaces/DenviWorking/Unit4-Final-Certificate (KeyError: 'HUGGINGFACE_TOKEN');
    # huggingface.co/spaces/tudeplom/vits-tts ("Missing HF_API_KEY")
    Pattern(
        "missing-variable",
        SPACE,
        ("error", "run"),
        r"KeyError: '(?P<name>[A-Z][A-Z0-9_]{2,})'"
        r"|(?i:missing)(?: required)?(?: environment variable| env var| secret)?:? ['\"]?(?P<name2>[A-Z][A-Z0-9_]{2,})"
        r"|the (?P<name3>[A-Z][A-Z0-9_]*) environment variable",
        "the app reads the variable or secret {name}, which is not set where it runs",
        "add {name} in the Space's settings: `hf spaces secrets add OWNER/NAME {name}` (or a variable, if it "
        "is not secret); a duplicated Space does not copy secrets",
        when=lambda m, f: _undefined(m.group("name") or m.group("name2") or m.group("name3"), f),
        ref="https://huggingface.co/spaces/DenviWorking/Unit4-Final-Certificate",
    ),
    # pip: github.com/google-deepmind/alphageometry/issues/62, github.com/fodorad/BlinkLinMulT/pull/17;
    # npm: github.com/codegenieapp/serverless-express/issues/665
    Pattern(
        "dependency-install",
        SPACE,
        ("build",),
        r"No matching distribution found for (?P<pkg>\S+)|Could not find a version that satisfies the requirement"
        r" (?P<pkg2>\S+)|ResolutionImpossible|requires a different Python|npm (?:ERR!|error) code (?:ERESOLVE|E404)"
        r"|404 Not Found - GET https://registry\.npmjs\.org/(?P<pkg3>\S+)",
        "a dependency cannot be installed: {m[0]}",
        "pin versions that exist for the image's Python or Node (and resolve together); reproduce the build "
        "locally with `hfspace up --docker`",
        stages=("BUILD_ERROR",),
        ref="https://github.com/fodorad/BlinkLinMulT/pull/17",
    ),
    # github.com/TUMcps/human-robot-gym/issues/10 (libgl1-mesa-glx is gone from Debian trixie)
    Pattern(
        "apt-package-missing",
        SPACE,
        ("build",),
        r"E: (?:Unable to locate package (?P<pkg>\S+)|Package '(?P<pkg2>[^']+)' has no installation candidate)",
        "the base image's Debian has no package {pkg}",
        "check the package's name in that Debian release (on trixie, libgl1-mesa-glx is now libgl1), and run "
        "`apt-get update` in the same RUN",
        stages=("BUILD_ERROR",),
        ref="https://github.com/TUMcps/human-robot-gym/issues/10",
    ),
    # BuildKit's line for any RUN step that fails, as the Hub's build log shows it:
    # huggingface.co/spaces/Plachta/VITS-Umamusume-voice-synthesizer/discussions/23 (exit code: 1);
    # the Space page's own summary: huggingface.co/spaces/Sirisha335/ExtraaLearn_API
    # ("Job failed with exit code: 1. Reason: cache miss: ... RUN pip install ...").
    Pattern(
        "build-step-failed",
        SPACE,
        ("build", "error"),
        r'process "(?:/bin/sh -c )?(?P<step>[^"]+)" did not complete successfully: exit code: (?P<code>\d+)'
        r"|Job failed with exit code: (?P<code2>\d+)(?:\. Reason: .*?cache miss: \[[^\]]+\] (?P<step2>RUN [^{]+?)"
        r"(?= cache miss:| \{|$))?",
        "a build step exited with code {code}" + "{step_said}",
        "the build log lines just above it say why; run the same build locally with `hfspace up --docker DIR` "
        "(`hf spaces logs OWNER/NAME --build` shows the whole log)",
        stages=("BUILD_ERROR",),
        generic=True,
        ref="https://huggingface.co/spaces/Plachta/VITS-Umamusume-voice-synthesizer/discussions/23",
    ),
    # huggingface.co/spaces/Menouar/LLM-FineTuning-Notebook-Generator/discussions/1 (the Hub's own mount)
    Pattern(
        "lfs-mount-failure",
        PLATFORM,
        ("build", "error"),
        r"\"/\.lfs\.hf\.co\": not found",
        "the build could not mount the Space's LFS files: the platform's side",
        "factory rebuild it (`hf spaces restart OWNER/NAME --factory-reboot`); if it persists, tell the Hub's support",
        ref="https://huggingface.co/spaces/Menouar/LLM-FineTuning-Notebook-Generator/discussions/1",
    ),
    # github.com/genepi/cloudgene/issues/89 (BuildKit's wording)
    Pattern(
        "copy-missing",
        SPACE,
        ("build",),
        r"failed to compute cache key: .*?\"(?P<path>/[^\"]+)\":? not found",
        "a COPY names {m[path]}, which the build context (the Space's files) does not hold",
        "commit that file to the Space, or fix the path (and what .dockerignore leaves out)",
        rules=("copy-missing", "gitignore-drops"),
        stages=("BUILD_ERROR",),
        when=_not_lfs,
        ref="https://github.com/genepi/cloudgene/issues/89",
    ),
    # github.com/livebook-dev/livebook/issues/2985
    Pattern(
        "uid-taken",
        SPACE,
        ("build",),
        r"useradd: UID (?P<uid>\d+) is not unique",
        "the base image already has a user with uid {m[uid]} (node: `node`; ubuntu 24.04: `ubuntu`)",
        "use that user (`USER node`) instead of creating one",
        rules=("docker-useradd-node",),
        ref="https://github.com/livebook-dev/livebook/issues/2985",
    ),
    # github.com/huggingface/datasets/issues/7530
    Pattern(
        "build-platform-error",
        PLATFORM,
        ("error", "build"),
        r"Unexpected job error|failed to push spaces-registry\.huggingface\.tech",
        "the build failed on the platform's side ({m[0]})",
        "nothing to change in your code: try again later (a restart, or a factory rebuild); check the Hub's "
        "status page",
        ref="https://github.com/huggingface/datasets/issues/7530",
    ),
    # github.com/huggingface/huggingface_hub/issues/3452 (no build logs at all)
    Pattern(
        "build-stuck",
        PLATFORM,
        ("stage",),
        r"^(?:RUNNING_)?BUILDING$",
        "it has been building for {minutes_since_commit:.0f} minutes with no step in its build log",
        "nothing to change in your code: wait, or factory rebuild it (`hf spaces restart OWNER/NAME "
        "--factory-reboot`); check the Hub's status page",
        when=_stuck,
        ref="https://github.com/huggingface/huggingface_hub/issues/3452",
    ),
    # huggingface.co/spaces/luoyawen/Docker
    Pattern(
        "command-not-found",
        SPACE,
        ("error", "run"),
        r"exec: \"(?P<program>[^\"]+)\": executable file not found",
        "the container's command runs {m[program]}, which the image does not have",
        "install it in the image, or run it by its full path (e.g. `python -m uvicorn`)",
        rules=("cmd-not-json",),
        ref="https://huggingface.co/spaces/luoyawen/Docker",
    ),
    # huggingface.co/spaces/imageomics/drexel_metadata_app/discussions/1; github.com/pablovela5620/mini-dust3r/issues/8
    Pattern(
        "container-start-failure",
        PLATFORM,
        ("error",),
        r"failed to create (?:containerd|shim) task: .*?(?:context canceled|context deadline exceeded|namespace path)",
        "the platform could not start the container ({m[0]})",
        "nothing to change in your code: restart it, or factory rebuild it "
        "(`hf spaces restart OWNER/NAME --factory-reboot`)",
        ref="https://huggingface.co/spaces/imageomics/drexel_metadata_app/discussions/1",
    ),
    # huggingface.co/spaces/Aakarsh14n/llama-fine-tune-with-chat
    Pattern(
        "module-missing",
        SPACE,
        ("error", "run"),
        r"ModuleNotFoundError: No module named '(?P<module>[^']+)'",
        "the app imports {m[module]}, which the image does not install",
        "add it to the dependencies the Dockerfile installs (requirements.txt, package.json)",
        ref="https://huggingface.co/spaces/Aakarsh14n/llama-fine-tune-with-chat",
    ),
    # huggingface.co/spaces/Irfshaikh/Final_Agents_Course_Assignment/discussions/1
    Pattern(
        "exited-without-serving",
        SPACE,
        ("error",),
        r"Exit code: 0\. Reason: application does not seem to be",
        "the container's command ended (status 0) instead of serving",
        "make the command start the server and keep it in the foreground",
        rules=("no-http-server",),
        ref="https://huggingface.co/spaces/Irfshaikh/Final_Agents_Course_Assignment/discussions/1",
    ),
    # Startup banners repeated in one run log (the pattern is a guess: no report kept one whole).
    Pattern(
        "restart-loop",
        SPACE,
        ("run",),
        r"===== Application Startup at (?P<at>[^=]+) =====",
        "the app crashed and was restarted, again and again (its run log starts over several times)",
        "read the error before each restart in the run log (`hf spaces logs OWNER/NAME`) and fix it",
        when=_restarts,
        ref="https://github.com/pabloruizponce/in2IN/issues/4",
    ),
    # huggingface.co/spaces/panda47/pp ("missing field `sdk`"); /Lidane/Voice-Cloner ("missing configuration")
    Pattern(
        "config-error",
        SPACE,
        ("stage",),
        r"^CONFIG_ERROR$",
        "the Hub cannot read its configuration (README.md's front matter): {error}",
        "fix the card (`hfspace validate` names the key); the Spaces configuration reference lists them",
        rules=("card-missing", "card-yaml", "card-sdk", "card-misplaced", "card-app-port", "card-startup-timeout"),
        ref="https://huggingface.co/spaces/panda47/pp",
    ),
    # github.com/pigzillaaaaa/daddylive/issues/3 ("This Space is missing an app file")
    Pattern(
        "no-app-file",
        SPACE,
        ("stage",),
        r"^NO_APP_FILE$",
        "the Space has no app file: a Docker Space needs a file named exactly `Dockerfile` at its root",
        "commit a `Dockerfile` at the root (case matters), or the static Space's app_file",
        rules=("docker-missing", "static-app-file"),
        ref="https://github.com/pigzillaaaaa/daddylive/issues/3",
    ),
    # huggingface.co/spaces/zfe/g ("This Space has been paused by its owner")
    Pattern(
        "paused",
        SPACE,
        ("stage",),
        r"^PAUSED$",
        "it is paused (by its owner, or because the account reached its hardware quota)",
        "restart it: `hf spaces restart OWNER/NAME` (or pause another Space, when it is the quota)",
        ref="https://huggingface.co/spaces/zfe/g",
    ),
    # huggingface.co/spaces/pcuenq/paella/discussions/3
    Pattern(
        "sleeping",
        PLATFORM,
        ("stage",),
        r"^SLEEPING$",
        "it is asleep after a while without visits; the next request wakes it (503s while it wakes)",
        "nothing to fix: open it, or `hf spaces restart OWNER/NAME`; the sleep time is `hf spaces settings "
        "OWNER/NAME --sleep-time`",
        ref="https://huggingface.co/spaces/pcuenq/paella/discussions/3",
    ),
)
FAILING = frozenset({"BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE", "PAUSED", "SLEEPING", "STOPPED"})
_ERROR_LINE = re.compile(r"Traceback|Error|error:|ERR!|Exception|failed|FATAL|panic", re.IGNORECASE)


def _named(match: re.Match) -> dict[str, str]:
    """The first non-empty of each group family (`name`, `name2`, `name3` -> `name`)."""
    found: dict[str, str] = {}
    for key, value in match.groupdict().items():
        base = key.rstrip("0123456789")
        if value and base not in found:
            found[base] = value
    return found


def _texts(pattern: Pattern, facts: Facts) -> list[tuple[str, str]]:
    """(where, text) pairs a pattern looks at: the error message, each log line, the stage."""
    found: list[tuple[str, str]] = []
    for where in pattern.where:
        if where == "error" and facts.error:
            found.append(("error message", facts.error))
        elif where == "build":
            found += [("build log", line) for line in facts.build_log or []]
        elif where == "run":
            found += [("run log", line) for line in facts.run_log or []]
        elif where == "stage":
            found.append(("stage", facts.stage))
    return found


def _quote(where: str, text: str) -> str:
    text = " ".join(text.split())
    return f'{where}: "{text[:240]}{"..." if len(text) > 240 else ""}"'


def diagnose(facts: Facts) -> list[Cause]:
    """Every cause of the table that the facts show, the better-explained ones dropped."""
    found: list[Cause] = []
    reported_rules = {f.rule: f for f in facts.findings}
    values = {k: v for k, v in asdict(facts).items() if isinstance(v, str | int | float) or v is None}
    for pattern in CAUSES:
        if pattern.stages and facts.stage not in pattern.stages:
            continue
        if facts.stage == "RUNNING" and "stage" not in pattern.where:
            continue  # a running Space's old message or log lines are not why it fails: its check says
        for where, text in _texts(pattern, facts):
            match = re.search(pattern.regex, text, re.MULTILINE)
            if match is None or (pattern.when is not None and not pattern.when(match, facts)):
                continue
            named = _named(match)
            groups: dict = {0: match.group(0).strip(), **named}
            fields = {**values, **named, "minutes_since_commit": facts.minutes_since_commit or 0}
            fields.setdefault("path", "a path")
            fields.setdefault("name", "")
            fields.setdefault("pkg", "")
            fields["step_said"] = f": {' '.join(named['step'].split())[:160]}" if named.get("step") else ""
            fields["requested"] = facts.requested or facts.hardware or "its hardware"
            fields["hardware"] = facts.hardware or facts.requested or "its hardware"
            summary = pattern.summary.format(m=groups, **{k: v for k, v in fields.items() if k != "m"})
            fix = pattern.fix.format(m=groups, **{k: v for k, v in fields.items() if k != "m"})
            evidence = _quote(where, match.group(0) if where == "error message" else text)
            rule = next((r for r in pattern.rules if r in reported_rules), None)
            if rule:
                finding = reported_rules[rule]
                evidence += f"; validate: {finding.path}:{finding.line} {rule}"
            elif len(pattern.rules) == 1:
                rule = pattern.rules[0]
            found.append(Cause(pattern.id, pattern.owner, summary, evidence, fix, rule))
            break
    dropped = {gone for cause in found for pattern in CAUSES if pattern.id == cause.id for gone in pattern.supersedes}
    generic = {pattern.id for pattern in CAUSES if pattern.generic}
    if any(cause.id not in generic for cause in found):
        dropped |= generic
    return [cause for cause in found if cause.id not in dropped]


def unrecognised(facts: Facts) -> Cause:
    """The failure as the Hub tells it, for what no pattern recognises."""
    log = facts.build_log if facts.stage == "BUILD_ERROR" else facts.run_log
    lines = log or []
    first = next((i for i, line in enumerate(lines) if _ERROR_LINE.search(line)), None)
    around = lines[max(0, first - 3) : first + 4] if first is not None else lines[-5:]
    parts = [_quote("error message", facts.error)] if facts.error else []
    if around:
        parts.append(("build" if facts.stage == "BUILD_ERROR" else "run") + " log:\n    " + "\n    ".join(around))
    return Cause(
        "unrecognised",
        SPACE,
        f"the Space is {facts.stage}, for a reason this tool does not recognise",
        "\n".join(parts) or "no error message, and no log lines",
        "read the whole log: `hf spaces logs OWNER/NAME" + (" --build" if facts.stage == "BUILD_ERROR" else "") + "`",
    )


# --- reading what the Hub knows --------------------------------------------------------------------------


def _log(api: HfApi, space_id: str, build: bool, notes: list[str]) -> list[str] | None:
    kind = "build" if build else "run"
    try:
        with hub.hub_errors(space_id):
            return [line.rstrip("\n") for line in api.fetch_space_logs(space_id, build=build)]
    except HfspaceError as error:
        notes.append(f"the {kind} log could not be read: {error.message}")
    except (httpx2.HTTPError, OSError) as error:
        notes.append(f"the {kind} log could not be read: {type(error).__name__}")
    return None


def _files(api: HfApi, space_id: str, revision: str | None, dest: Path, notes: list[str]) -> bool:
    """The Space's files at `revision` into `dest` (large ones as stand-ins of their size); False if it fails."""
    try:
        with hub.hub_errors(space_id):
            info = api.space_info(space_id, revision=revision, files_metadata=True)
            small = [s.rfilename for s in info.siblings or [] if (s.size or 0) <= MAX_FILE]
            disable_progress_bars()  # a download's progress bars would write over doctor's own output
            if small:
                api.snapshot_download(
                    repo_id=space_id, repo_type="space", revision=info.sha, local_dir=str(dest), allow_patterns=small
                )
    except (HfspaceError, httpx2.HTTPError, OSError) as error:
        notes.append(f"its files could not be read for validate: {getattr(error, 'message', type(error).__name__)}")
        return False
    for sibling in info.siblings or []:
        if (sibling.size or 0) > MAX_FILE:
            path = dest / sibling.rfilename
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                handle.truncate(sibling.size)
    shutil.rmtree(dest / ".cache", ignore_errors=True)  # the client's download metadata, not the Space's
    return True


def read(api: HfApi, space_id: str) -> Facts:
    hub.check_space_id(space_id)
    with hub.hub_errors(space_id):
        info = api.space_info(space_id)
        runtime = api.get_space_runtime(space_id)
    facts = Facts(
        space_id=space_id,
        stage=runtime.stage,
        error=runtime.raw.get("errorMessage"),
        hardware=runtime.hardware,
        requested=runtime.requested_hardware,
        sleep_time=runtime.sleep_time,
        sdk=info.sdk,
        url=hub.space_url(info.host),
        private=bool(info.private),
    )
    if info.last_modified:
        facts.minutes_since_commit = (datetime.now(UTC) - info.last_modified).total_seconds() / 60
    if api.token:
        for kind, call in (("variables", api.get_space_variables), ("secrets", api.get_space_secrets)):
            try:
                with hub.hub_errors(space_id):
                    facts.defined |= set(call(space_id))
            except HfspaceError as error:
                facts.notes.append(f"its {kind} could not be read: {error.message}")
                facts.defined = None
                break
        facts.build_log = _log(api, space_id, build=True, notes=facts.notes)
        facts.run_log = _log(api, space_id, build=False, notes=facts.notes)
    else:  # the Hub shows a Space's logs, variables and secrets to its owner's members only
        facts.defined = None
        owner = space_id.split("/", 1)[0]
        facts.notes.append(
            f"no token: its logs, variables and secrets were not read (they need a token of {owner} or one of "
            "its members: `hf auth login`); this diagnosis is from its runtime, its files and its URL"
        )
    with tempfile.TemporaryDirectory(prefix="hfspace-doctor-") as tmp:
        folder = Path(tmp) / space_id.split("/")[1]
        folder.mkdir()
        if _files(api, space_id, info.sha, folder, facts.notes):
            space = load(folder)
            facts.app_port = space.app_port
            facts.findings = [  # paths inside the Space, as its repository shows them
                replace(f, path=f.path.replace(f"{folder}/", "", 1))
                for f in rules.validate_space(space, str(folder)).findings
                if f.severity != rules.INFO
            ]
    return facts


@dataclass
class Diagnosis:
    facts: Facts
    causes: list[Cause]
    report: probe.Report | None = None  # the check of a RUNNING Space

    @property
    def healthy(self) -> bool:
        return self.facts.stage == "RUNNING" and not self.causes and (self.report is None or self.report.ok)

    @property
    def exit_code(self) -> int:
        if self.healthy:
            return HEALTHY
        return SPACE_CAUSE if any(c.owner == SPACE for c in self.causes) or not self.causes else PLATFORM_CAUSE

    def as_dict(self) -> dict:
        return {
            "space": self.facts.space_id,
            "stage": self.facts.stage,
            "healthy": self.healthy,
            "causes": [cause.as_dict() for cause in self.causes],
            "error": self.facts.error,
            "hardware": {"current": self.facts.hardware, "requested": self.facts.requested},
            "url": self.facts.url,
            "notes": self.facts.notes,
            "findings": [finding.as_dict() for finding in self.facts.findings],
            "check": self.report.as_dict() if self.report else None,
        }


def examine(facts: Facts, check: Callable[[str], probe.Report] | None = None) -> Diagnosis:
    """The causes the facts show; for a RUNNING Space, what its check says too."""
    causes = diagnose(facts)
    report = None
    if facts.stage == "RUNNING" and facts.url and check is not None:
        report = check(facts.url)
        failed = [r for r in report.results if r.status == probe.FAIL]
        if failed:
            causes.append(
                Cause(
                    "check-failed",
                    SPACE,
                    f"it runs, but {len(failed)} check(s) fail at {facts.url}: " + ", ".join(r.name for r in failed),
                    "; ".join(f"{r.name}: {r.detail}" for r in failed[:3]),
                    "see `hfspace check` for each failing check and its fix",
                )
            )
    elif not causes and facts.stage in FAILING:
        causes.append(unrecognised(facts))
    return Diagnosis(facts, causes, report)


def doctor(api: HfApi, space_id: str, *, timeout: float = probe.DEFAULT_TIMEOUT) -> Diagnosis:
    facts = read(api, space_id)

    def check(url: str) -> probe.Report:
        token = probe.resolve_token(url, api.token, {}) if facts.private else None
        return probe.check(url, [], 0, token, timeout)

    return examine(facts, check)

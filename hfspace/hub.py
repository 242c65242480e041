"""The Hub, through the official client: plan and apply a deploy, wait for its build, read a status.

Everything goes through `huggingface_hub.HfApi`: the endpoint is `HF_ENDPOINT`
(default https://huggingface.co), the token `--token`, else `HF_TOKEN`, else the
one `hf auth login` saved. A deploy is, in order:

1. plan():  read the remote Space (does it exist, which files it holds), and list
            what to create, set, upload and delete (the folder's upload set comes
            from the Space model: `Space.upload_set()`);
2. apply(): create the Space (its card's sdk, never the client's gradio default),
            set variables and secrets, and commit the upload set as an exact
            mirror (files gone locally are deleted remotely);
3. wait():  watch the runtime: first for a build stage (right after a commit the
            runtime may still report the previous build's RUNNING), then for a
            terminal stage;
`deploy.py` strings them together (validation first, the check of the running app
last) and reports typed events for the CLI to render.

Nothing here prints or exits: progress goes to an `on_event(message)` callback,
failures raise HfspaceError with one line and a hint. Secret values are held
only to be sent to the API; they are never in an event, an error or a plan.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, HFValidationError
from huggingface_hub.utils import disable_progress_bars, validate_repo_id
from huggingface_hub.utils import logging as hf_logging

from hfspace.errors import HfspaceError
from hfspace.space import Space

DEFAULT_ENDPOINT = "https://huggingface.co"
# Stages the Hub reports while it builds or starts; anything else is where a build ends.
BUILD_STAGES = frozenset({"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"})
FAILED_STAGES = frozenset({"BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE"})
VISIBILITIES = ("public", "private", "protected")
Event = Callable[[str], None]
PLACEHOLDER_OWNER = "YOUR-HF-USERNAME"  # what spaces.toml ships with


# --- the client, and its errors as one line each ------------------------------------------------------------


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT


def connect(token: str | None, *, anonymous: bool = False) -> HfApi:
    """An HfApi for HF_ENDPOINT with the token: explicit, else HF_TOKEN, else the saved login.

    With `anonymous`, no token is no error: what a public Space shows anyone can still be read."""
    token = token or get_token()
    if not token and not anonymous:
        raise HfspaceError(
            "no Hugging Face token", hint="run `hf auth login`, set HF_TOKEN, or pass --token (a write token)"
        )
    hf_logging.set_verbosity_error()  # the client's own warnings would interleave with ours
    return HfApi(endpoint=endpoint(), token=token)


def _server_message(error: HfHubHTTPError) -> str:
    message = getattr(error, "server_message", None) or ""
    return message.strip().splitlines()[0] if message.strip() else ""


@contextlib.contextmanager
def hub_errors(space_id: str, sdk: str | None = None) -> Iterator[None]:
    """Turn what the client raises into one HfspaceError line, by status code."""
    owner = space_id.split("/", 1)[0]
    try:
        yield
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        said = _server_message(error)
        said = f" ({said})" if said else ""
        if status == 401:
            raise HfspaceError(
                f"the Hub refused the token: 401 Unauthorized{said}",
                hint="the token is invalid or expired: run `hf auth login` again, or check HF_TOKEN",
            ) from None
        if status == 402:
            kind = f"a {sdk} Space" if sdk else "this Space"
            raise HfspaceError(
                f"creating {kind} under {owner} needs a paid plan (PRO for a user, Team or Enterprise for an "
                f"organization): the Hub answered 402 Payment Required{said}",
                hint="a static Space (`sdk: static`) is free; otherwise upgrade the account, then deploy again",
            ) from None
        if status == 403:
            raise HfspaceError(
                f"the token may not do this for {space_id}: 403 Forbidden{said}",
                hint=f"use a token with the write role for {owner} (https://huggingface.co/settings/tokens)",
            ) from None
        if status == 404:
            raise HfspaceError(
                f"{space_id} or its owner {owner} was not found: 404 Not Found{said}",
                hint="check the owner and name (owner/name); a private Space needs a token of a user who can see it",
            ) from None
        raise HfspaceError(
            f"the Hub answered {status}{said}", hint="try again; if it persists, see the Hub's status page"
        ) from None
    except httpx2.TransportError as error:
        raise HfspaceError(
            f"cannot reach the Hub at {endpoint()}: {error.__class__.__name__}: {error}",
            hint="check the network, or HF_ENDPOINT if you set it",
        ) from None


# --- the plan -----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    space_id: str
    folder: str
    sdk: str
    exists: bool
    visibility: str | None
    hardware: str | None
    variables: dict[str, str]
    secrets: dict[str, str] = field(repr=False)  # values never shown: as_dict() lists names only
    uploads: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    source: str = ""
    generated: dict[str, bytes] = field(default_factory=dict, repr=False)  # files the deploy writes (wiring)

    def as_dict(self) -> dict:
        return {
            "space": self.space_id,
            "folder": self.folder,
            "sdk": self.sdk,
            "create": not self.exists,
            "visibility": self.visibility,
            "hardware": self.hardware,
            "variables": sorted(self.variables),
            "secrets": sorted(self.secrets),
            "upload": self.uploads,
            "delete": self.deletes,
        }


def check_space_id(space_id: str) -> str:
    owner, sep, name = space_id.partition("/")
    try:
        if not sep or not owner or not name or "/" in name:
            raise HFValidationError(space_id)
        validate_repo_id(space_id)
    except HFValidationError:
        raise HfspaceError(
            f"{space_id!r} is not a Space id",
            hint="write it owner/name: letters, digits, '-', '_' and '.', e.g. my-user/python-backend",
        ) from None
    return space_id


def source_commit(folder: Path) -> str:
    """`abc1234` (or `abc1234, with local changes`) when the folder is in a git work tree, else ''."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)  # noqa: S603, S607
        return result.stdout.strip() if result.returncode == 0 else ""

    sha = git("rev-parse", "--short", "HEAD")
    if not sha:
        return ""
    dirty = git("status", "--porcelain", "--", ".")
    return f"{sha}, with local changes" if dirty else sha


def plan(
    api: HfApi,
    space: Space,
    space_id: str,
    *,
    visibility: str | None = None,
    hardware: str | None = None,
    variables: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
) -> Plan:
    """Compare the folder with the remote Space. Reads only."""
    check_space_id(space_id)
    sdk = space.sdk or "docker"
    uploads = space.upload_set()
    with hub_errors(space_id, sdk):
        api.whoami()  # a bad token fails here, with 401, before anything else
        exists = api.repo_exists(space_id, repo_type="space")
        remote = api.list_repo_files(space_id, repo_type="space") if exists else []
        current = {k: v.value for k, v in api.get_space_variables(space_id).items()} if exists else {}
    keep = set(uploads) | {".gitattributes"}  # the Hub's own .gitattributes stays
    # A variable the Space already has with that value is not set again: setting one restarts
    # the Space. Secrets cannot be compared (the Hub never returns their values).
    variables = {k: v for k, v in (variables or {}).items() if current.get(k) != v}
    return Plan(
        space_id=space_id,
        folder=str(space.root),
        sdk=sdk,
        exists=exists,
        visibility=visibility,
        hardware=hardware,
        variables=dict(variables or {}),
        secrets=dict(secrets or {}),
        uploads=uploads,
        deletes=sorted(path for path in remote if path not in keep),
        source=source_commit(space.root),
    )


# --- applying it --------------------------------------------------------------------------------------------


@dataclass
class Applied:
    committed: bool  # False: the folder matched the Space, the Hub made no commit
    commit: str | None
    before: str | None


def apply(api: HfApi, plan: Plan, on_event: Event) -> Applied:
    """Create, upload, set. Returns whether a commit was made (an unchanged folder makes none).

    The commit goes first and the variables and secrets after it: each of them restarts the
    Space, and set first they would restart the previous build, whose RUNNING would pass
    for the new one. A new Space gets them with its creation instead.
    """
    space_id = plan.space_id
    settings = [("variable", plan.variables, api.add_space_variable), ("secret", plan.secrets, api.add_space_secret)]
    with hub_errors(space_id, plan.sdk):
        if not plan.exists:
            kwargs = {"visibility": plan.visibility} if plan.visibility else {}
            api.create_repo(
                space_id, repo_type="space", space_sdk=plan.sdk, space_hardware=plan.hardware, exist_ok=True,
                space_variables=[{"key": k, "value": v} for k, v in plan.variables.items()] or None,
                space_secrets=[{"key": k, "value": v} for k, v in plan.secrets.items()] or None, **kwargs,
            )  # fmt: skip
            on_event(f"created {space_id} (sdk: {plan.sdk}{', ' + plan.visibility if plan.visibility else ''})")
        before = api.space_info(space_id).sha
        root = Path(plan.folder)
        operations = [
            CommitOperationAdd(
                path_in_repo=p, path_or_fileobj=plan.generated[p] if p in plan.generated else str(root / p)
            )
            for p in plan.uploads
        ]
        operations += [CommitOperationDelete(path_in_repo=p) for p in plan.deletes]
        message = f"Deploy {root.name}" + (f" from {plan.source}" if plan.source else "")
        info = api.create_commit(space_id, operations, repo_type="space", commit_message=message)
        for kind, values, add in settings:
            if plan.exists:
                for key, value in values.items():
                    add(space_id, key, value)
            if values:
                on_event(f"set {len(values)} {kind}(s): {', '.join(sorted(values))}")
    return Applied(committed=info.oid != before, commit=info.oid, before=before)


def ensure_exists(api: HfApi, space_id: str, sdk: str, visibility: str | None, hardware: str | None) -> bool:
    """Create the Space when it does not exist (its card's sdk); whether it was created."""
    with hub_errors(space_id, sdk):
        if api.repo_exists(space_id, repo_type="space"):
            return False
        kwargs = {"visibility": visibility} if visibility else {}
        api.create_repo(space_id, repo_type="space", space_sdk=sdk, space_hardware=hardware, exist_ok=True, **kwargs)
    return True


def restart(api: HfApi, space_id: str) -> None:
    with hub_errors(space_id):
        api.restart_space(space_id)


# --- waiting for the build, reading status ------------------------------------------------------------------


@dataclass
class Status:
    space_id: str
    stage: str
    hardware: str | None
    url: str | None
    commit: str | None
    error: str | None
    private: bool | None = None
    good: str | None = None  # the last revision a deploy found RUNNING and passing its check

    def as_dict(self) -> dict:
        return {
            "space": self.space_id,
            "stage": self.stage,
            "hardware": self.hardware,
            "url": self.url,
            "commit": self.commit,
            "good": self.good,
            "error": self.error,
            "private": self.private,
        }


def space_url(host: str | None) -> str | None:
    """A Space's address from what space_info().host says (a host name, or a URL)."""
    if not host:
        return None
    return host if "://" in host else f"https://{host}"


def status(api: HfApi, space_id: str) -> Status:
    check_space_id(space_id)
    with hub_errors(space_id):
        info = api.space_info(space_id)
        runtime = api.get_space_runtime(space_id)
    good = good_revision(api, space_id)
    return Status(
        space_id=space_id,
        stage=runtime.stage,
        hardware=runtime.hardware,
        url=space_url(info.host),
        commit=info.sha,
        error=runtime.raw.get("errorMessage"),
        private=info.private,
        good=good.commit if good else None,
    )


def wait(
    api: HfApi,
    space_id: str,
    *,
    rebuilding: bool,
    timeout: float,
    on_stage: Event,
    settle: float | None = None,
    poll: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Status:
    """Watch the runtime until the build that was just asked for ends; its final Status.

    With `rebuilding`, a terminal stage counts only once a build stage (or a change of
    stage) has been seen: right after a commit the Hub may still report the previous
    build's RUNNING, and trusting it would report a build that never ran. `settle`
    bounds that wait where a restart is likely but not certain (only a secret was set,
    perhaps to the value it had): after that many seconds the stage is taken as it is.
    """
    started_at = time.monotonic()
    deadline = started_at + timeout
    with hub_errors(space_id):
        first = last = api.get_space_runtime(space_id).stage
        on_stage(first)
        started = not rebuilding
        while True:
            started = started or last in BUILD_STAGES or last != first
            settled = settle is not None and time.monotonic() - started_at >= settle
            if (started or settled) and last not in BUILD_STAGES:
                return status(api, space_id)
            if time.monotonic() >= deadline:
                raise HfspaceError(
                    f"{space_id} is still {last} after {timeout:g} s",
                    hint=f"builds can take minutes: wait longer (--timeout), or see `hfspace status {space_id}`",
                )
            sleep(poll)
            stage = api.get_space_runtime(space_id).stage
            if stage != last:
                on_stage(stage)
                last = stage


# --- good revisions, kept on the Hub as tags ----------------------------------------------------------------

GOOD_TAG = "hfspace-good-"  # + the commit's first 12 hex digits: a revision a deploy found healthy


@dataclass(frozen=True)
class Revision:
    commit: str
    title: str
    good: bool


def history(api: HfApi, space_id: str) -> list[Revision]:
    """The Space's commits, newest first, each marked good when a good tag points at it."""
    with hub_errors(space_id):
        tags = {
            ref.target_commit
            for ref in api.list_repo_refs(space_id, repo_type="space").tags
            if ref.name.startswith(GOOD_TAG)
        }
        commits = api.list_repo_commits(space_id, repo_type="space")
    return [Revision(c.commit_id, c.title, c.commit_id in tags) for c in commits]


def good_revision(api: HfApi, space_id: str, *, before: str | None = None) -> Revision | None:
    """The newest good revision; with `before`, the newest one older than that commit."""
    revisions = history(api, space_id)
    if before is not None:
        index = next((i for i, r in enumerate(revisions) if r.commit.startswith(before)), None)
        revisions = revisions[index + 1 :] if index is not None else []
    return next((r for r in revisions if r.good), None)


def mark_good(api: HfApi, space_id: str, commit: str) -> str:
    """Tag `commit` as good on the Hub (a tag changes no file: the Space is not rebuilt). The tag."""
    tag = GOOD_TAG + commit[:12]
    with hub_errors(space_id):
        api.create_tag(space_id, tag=tag, revision=commit, repo_type="space", exist_ok=True)
    return tag


def resolve_revision(api: HfApi, space_id: str, rev: str) -> str:
    """The full commit id a revision (a commit id or its first 4+ hex digits, a tag, a branch) names;
    one error line otherwise."""
    revisions = history(api, space_id)
    prefix = rev.lower() if re.fullmatch(r"[0-9a-fA-F]{4,40}", rev) else None
    match = next((r.commit for r in revisions if prefix and r.commit.startswith(prefix)), None)
    if match is None:
        with hub_errors(space_id):
            refs = api.list_repo_refs(space_id, repo_type="space")
        match = {ref.name: ref.target_commit for ref in [*refs.tags, *refs.branches]}.get(rev)
    if match is None:
        raise HfspaceError(
            f"{space_id} has no revision {rev}", hint=f"`hfspace status {space_id}` shows the last good one"
        )
    return match


@dataclass(frozen=True)
class Restored:
    commit: str
    files: int  # what the commit holds
    deleted: int
    committed: bool  # False: the head already held exactly those files (the Hub made no commit)


def restore(api: HfApi, space_id: str, revision: str, message: str) -> Restored:
    """One new commit whose files are exactly those of `revision` (the history keeps what came
    between)."""
    with tempfile.TemporaryDirectory(prefix="hfspace-restore-") as tmp, hub_errors(space_id):
        disable_progress_bars()
        folder = Path(api.snapshot_download(repo_id=space_id, repo_type="space", revision=revision, local_dir=tmp))
        wanted = {path for path in api.list_repo_files(space_id, repo_type="space", revision=revision)}
        present = set(api.list_repo_files(space_id, repo_type="space"))
        operations = [
            CommitOperationAdd(path_in_repo=p, path_or_fileobj=(folder / p).read_bytes()) for p in sorted(wanted)
        ]
        operations += [CommitOperationDelete(path_in_repo=p) for p in sorted(present - wanted)]
        before = api.space_info(space_id).sha
        info = api.create_commit(space_id, operations, repo_type="space", commit_message=message)
    return Restored(info.oid, len(wanted), len(present - wanted), info.oid != before)


# --- the repository's deploy plan (spaces.toml) ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    folder: Path
    space_id: str
    name: str = ""  # its entry's name in the plan
    calls: tuple[str, ...] = ()  # the names of the plan's Spaces it calls (their URLs, their CORS)


def read_targets(config: Path, owner: str | None = None) -> list[Target]:
    """The folders and Space ids of a spaces.toml; `owner` replaces its owner (for forks)."""
    if not config.is_file():
        raise HfspaceError(f"{config} not found", hint="--all reads spaces.toml at the repository root")
    try:
        data = tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as error:
        raise HfspaceError(f"{config} is not valid TOML: {error}") from None
    owner = owner or os.environ.get("HFSPACE_OWNER") or data.get("owner")
    entries = data.get("space") or []
    if owner == PLACEHOLDER_OWNER:
        raise HfspaceError(
            f"{config} still names the placeholder owner {PLACEHOLDER_OWNER}",
            hint="set `owner` there to your user or organization, or pass --owner (or set HFSPACE_OWNER)",
        )
    if not owner or not entries:
        raise HfspaceError(
            f"{config} needs an `owner` and [[space]] entries (folder, name)",
            hint="or pass --owner YOUR-USER-OR-ORG",
        )
    targets = []
    for entry in entries:
        folder, name = entry.get("folder"), entry.get("name") or entry.get("folder")
        if not folder:
            raise HfspaceError(f"{config}: a [[space]] entry has no folder")
        calls = entry.get("calls") or []
        if not isinstance(calls, list) or not all(isinstance(c, str) for c in calls):
            raise HfspaceError(f"{config}: [[space]] {name}: `calls` is not a list of names")
        targets.append(Target(config.parent / folder, check_space_id(f"{owner}/{name}"), str(name), tuple(calls)))
    ids = [t.space_id for t in targets]
    if len(set(ids)) != len(ids):
        raise HfspaceError(f"{config} sends two folders to one Space", hint="give each [[space]] its own name")
    names = {t.name for t in targets}
    for target in targets:
        unknown = [c for c in target.calls if c not in names]
        if unknown:
            hint = f"name one of: {', '.join(sorted(names))}"
            raise HfspaceError(
                f"{config}: {target.name} calls {unknown[0]}, which is no [[space]] of the plan", hint=hint
            )
    return _callees_first(targets, config)


def _callees_first(targets: list[Target], config: Path) -> list[Target]:
    """The plan's order, moved so that each Space comes after those it calls; a cycle is an error."""
    by_name = {t.name: t for t in targets}
    done: list[Target] = []
    visiting: set[str] = set()

    def visit(target: Target) -> None:
        if target in done:
            return
        if target.name in visiting:
            raise HfspaceError(f"{config}: {target.name} calls itself through `calls`", hint="remove the cycle")
        visiting.add(target.name)
        for callee in target.calls:
            visit(by_name[callee])
        visiting.discard(target.name)
        done.append(target)

    for target in targets:
        visit(target)
    return done


def target_for(folder: Path, config: Path, owner: str | None = None) -> Target:
    """The plan's Space for one folder."""
    if not config.is_file():
        raise HfspaceError(
            f"which Space should {folder} go to? --space OWNER/NAME is missing and there is no {config}",
            hint="pass --space OWNER/NAME",
        )
    wanted = folder.resolve()
    for target in read_targets(config, owner):
        if target.folder.resolve() == wanted:
            return target
    raise HfspaceError(f"{config} has no [[space]] for {folder}", hint="pass --space OWNER/NAME, or add it there")

"""`hfspace deploy`: one Space folder to its Space, validated first and checked last.

`prepare()` validates the folder and compares it with the remote Space (hub.plan);
`deploy()` applies the plan, waits for the build it caused, and checks the running app.
Each step is reported as a typed event (below) for the CLI to render; nothing here prints.
Failures raise HfspaceError with one line and a hint. Secret values are never in an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from huggingface_hub import HfApi

from hfspace import doctor, hub, probe, rules
from hfspace.errors import HfspaceError
from hfspace.space import Space, load

# The .gitignore rules guard uploads that carry the .gitignore (git push, hf upload): a deploy
# never does, so they cannot stop it.
DEPLOY_IGNORES = frozenset({"gitignore-drops", "gitignore-env"})
# Seconds to wait for a restart that may not come: only a secret was set (perhaps to the
# value it had), or a static Space, which may show no build stage at all.
SECRET_RESTART_SETTLE = 30.0
CHECK_WAIT = 120.0  # seconds the check polls a Space that answers 502/503 while it wakes


@dataclass(frozen=True)
class Validated:
    """What validate found in the folder; `forced` when errors are deployed anyway (--force)."""

    space: str
    findings: list[rules.Finding]
    forced: bool


@dataclass(frozen=True)
class DryRun:
    plan: hub.Plan


@dataclass(frozen=True)
class Progress:
    space: str
    text: str


@dataclass(frozen=True)
class Committed:
    space: str
    commit: str | None  # None: the folder matched the Space, the Hub made no commit
    uploads: int
    deletes: int


@dataclass(frozen=True)
class Stage:
    space: str
    stage: str


@dataclass(frozen=True)
class Failed:
    """The build or the start failed: the final status and doctor's diagnosis of it."""

    space: str
    status: hub.Status
    diagnosis: doctor.Diagnosis


@dataclass(frozen=True)
class Checked:
    space: str
    report: probe.Report


@dataclass(frozen=True)
class RollingBack:
    """Restoring the files of a good revision in a new commit."""

    space: str
    revision: str


@dataclass(frozen=True)
class Deployed:
    space: str
    url: str | None


Event = Validated | DryRun | Progress | Committed | Stage | Failed | Checked | RollingBack | Deployed


@dataclass
class Prepared:
    plan: hub.Plan
    findings: list[rules.Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[rules.Finding]:
        return [finding for finding in self.findings if finding.severity == rules.ERROR]


def prepare(api: HfApi, space: Space, space_id: str, **given) -> Prepared:
    """Validate the folder (the findings a deploy shows: errors and warnings) and plan the deploy."""
    report = rules.validate_space(space, space.root.name)
    findings = [f for f in report.findings if f.rule not in DEPLOY_IGNORES and f.severity != rules.INFO]
    return Prepared(hub.plan(api, space, space_id, **given), findings)


def deploy(
    api: HfApi,
    prepared: Prepared,
    on_event: Callable[[Event], None],
    *,
    force: bool = False,
    dry_run: bool = False,
    restart: bool = False,
    rollback: bool = True,
    timeout: float = 1800.0,
    origins: list[str] | None = None,
) -> str | None:
    """Validate, apply, wait, check one plan; the Space's URL (None on a dry run).

    A revision that runs and passes its check is recorded as good on the Hub (a tag). One that
    fails to build, to start, or its check is rolled back (unless `rollback` is off): a new
    commit restores the files of the last good revision, which is then waited for and checked;
    either way the deploy fails, saying what failed and where the Space is now.
    `origins`: pages the Space must admit (CORS), checked from each.
    """
    plan = prepared.plan
    name = plan.space_id
    if prepared.findings:
        on_event(Validated(name, prepared.findings, forced=bool(prepared.errors) and force))
    if prepared.errors and not force:
        raise HfspaceError(
            f"{plan.folder} has {len(prepared.errors)} validation error(s): not deploying to {name}",
            hint="fix them (see above; `hfspace validate`), or deploy anyway with --force",
        )
    if dry_run:
        on_event(DryRun(plan))
        return None
    applied = hub.apply(api, plan, lambda text: on_event(Progress(name, text)))
    on_event(Committed(name, applied.commit if applied.committed else None, len(plan.uploads), len(plan.deletes)))
    # A commit, a new Space, a changed variable or --restart always rebuild or restart a Docker
    # Space; a secret set again may not (its old value is unknown), nor may a static Space show a
    # build stage at all: there the Hub gets a while to show one, then the stage is taken as it is.
    certain = (applied.committed or not plan.exists or bool(plan.variables) or restart) and plan.sdk != "static"
    if restart:
        hub.restart(api, name)
        on_event(Progress(name, "restarting (--restart)"))
    final = hub.wait(
        api,
        name,
        rebuilding=certain or bool(plan.secrets) or applied.committed,
        timeout=timeout,
        settle=None if certain else SECRET_RESTART_SETTLE,
        on_stage=lambda stage: on_event(Stage(name, stage)),
    )
    failure = _failure(api, final, plan.sdk, origins or [], on_event)
    if failure is None:
        _record_good(api, final, on_event)
        on_event(Deployed(name, final.url))  # the URL, last
        return final.url
    if not rollback:
        hint = "--no-rollback: the failed revision stays; fix it and deploy again"
        raise HfspaceError(f"{name}: {failure}", hint=hint)
    raise _roll_back_after(api, final, plan.sdk, failure, timeout, on_event, origins or [])


def _failure(api: HfApi, final: hub.Status, sdk: str, origins: list[str], on_event) -> str | None:
    """What failed in a revision the Hub finished with (its stage, or its check), or None when it is healthy."""
    name = final.space_id
    if final.stage != "RUNNING":
        on_event(Failed(name, final, doctor.examine(doctor.read(api, name))))
        return f"it ended in {final.stage}"
    if sdk == "static" or not final.url:
        return None
    # The token goes to the app only when the Space is private (the Hub's proxy asks for it then).
    token = probe.resolve_token(final.url, api.token, {}) if final.private else None
    report = probe.check(final.url, origins, CHECK_WAIT, token, probe.DEFAULT_TIMEOUT)
    on_event(Checked(name, report))
    return None if report.ok else f"it runs, but its checks failed at {final.url}"


def _record_good(api: HfApi, final: hub.Status, on_event) -> None:
    if final.commit:
        tag = hub.mark_good(api, final.space_id, final.commit)
        on_event(Progress(final.space_id, f"recorded {final.commit[:12]} as its last good revision (tag {tag})"))


def _roll_back_after(
    api: HfApi, final: hub.Status, sdk: str, failure: str, timeout: float, on_event, origins: list[str]
) -> HfspaceError:
    """Restore the last good revision before the failed one, wait, check; the error that says what happened."""
    name = final.space_id
    failed = final.commit or ""
    if any(r.good and r.commit == failed for r in hub.history(api, name)):
        return HfspaceError(
            f"{name}: {failure}, on a revision that passed before: nothing to roll back to",
            hint=f"likely the platform's or a setting's: see the diagnosis above (`hfspace doctor {name}`)",
        )
    good = hub.good_revision(api, name, before=failed)
    if good is None:
        return HfspaceError(
            f"{name}: {failure}; nothing to roll back to: no revision of it has passed a deploy's check yet",
            hint="fix the folder and deploy again (see the diagnosis above)",
        )
    message = f"Roll back to {good.commit[:12]}: {failed[:12]} failed ({failure})"
    now = _restore(api, name, sdk, good.commit, message, timeout, on_event, origins)
    state = "back on" if now.stage == "RUNNING" else f"restored to (but {now.stage} on)"
    return HfspaceError(
        f"{name}: {failure}; rolled back: the Space is {state} {good.commit[:12]}, the last good revision "
        f"(commit {now.commit[:12] if now.commit else '?'}); {failed[:12]} stays in its history",
        hint="fix the folder (see the diagnosis above) and deploy again; --no-rollback keeps a failed revision",
    )


def _restore(
    api: HfApi, name: str, sdk: str, revision: str, message: str, timeout: float, on_event, origins: list[str]
) -> hub.Status:
    on_event(RollingBack(name, revision))
    restored = hub.restore(api, name, revision, message)
    on_event(Committed(name, restored.commit if restored.committed else None, restored.files, restored.deleted))
    now = hub.wait(
        api, name, rebuilding=restored.committed, timeout=timeout, on_stage=lambda stage: on_event(Stage(name, stage))
    )
    if _failure(api, now, sdk, origins, on_event) is None:
        _record_good(api, now, on_event)
    return now


def rollback(
    api: HfApi, space_id: str, on_event: Callable[[Event], None], *, to: str | None = None, timeout: float = 1800.0
) -> hub.Status:
    """Restore a Space's files to a good revision (the last one before its head, or `to`) in one new
    commit, wait for it and check it; the Space's status then."""
    hub.check_space_id(space_id)
    with hub.hub_errors(space_id):
        info = api.space_info(space_id)
    if to is not None:
        target = hub.resolve_revision(api, space_id, to)
    else:
        good = hub.good_revision(api, space_id, before=info.sha or "")
        if good is None:
            raise HfspaceError(
                f"{space_id} has no good revision before its head to roll back to",
                hint="a revision becomes good when `hfspace deploy` sees it run and pass its check; or pass --to REV",
            )
        target = good.commit
    message = f"Roll back to {target[:12]} (hfspace rollback)"
    now = _restore(api, space_id, info.sdk or "docker", target, message, timeout, on_event, [])
    if now.stage != "RUNNING":
        raise HfspaceError(f"{space_id} ended in {now.stage} on {target[:12]}", hint=f"`hfspace doctor {space_id}`")
    on_event(Deployed(space_id, now.url))
    return now


# --- the plan's Spaces, wired to each other -----------------------------------------------------------

WIRING_FILE = "spaces.json"  # what a caller gets: {NAME: URL} of the plan's Spaces it calls


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def space_origin(api: HfApi, space_id: str, sdk: str) -> str:
    """A Space's origin as the Hub reports it: its host, else its subdomain's address."""
    with hub.hub_errors(space_id):
        info = api.space_info(space_id)
    url = hub.space_url(info.host)
    if url:
        return _origin(url)
    return f"https://{info.subdomain}{'.static' if sdk == 'static' else ''}.hf.space"


def deploy_all(
    api: HfApi,
    targets: list[hub.Target],
    on_event: Callable[[Event], None],
    *,
    given: dict | Callable[[hub.Target], dict],
    plan: list[hub.Target] | None = None,
    force: bool = False,
    dry_run: bool = False,
    restart: bool = False,
    rollback: bool = True,
    timeout: float = 1800.0,
) -> list[tuple[str, str | None]]:
    """Deploy `targets` (Spaces of `plan`, default all of it), those called first. A Space the plan
    says others call gets CORS_ORIGINS naming their origins (unless given) and its check asks CORS
    from each; a caller gets `spaces.json`, the URLs of the Spaces it calls as the Hub reports them
    (deployed now, or already there). A caller deployed now is created first, to learn its origin.
    `given`: prepare()'s settings (visibility, hardware, variables, secrets), or a function of the
    target that returns them. [(space id, URL)] in the order deployed."""
    settings_of = given if callable(given) else (lambda _target: given)
    plan = plan or targets
    with hub.hub_errors(plan[0].space_id):
        exists = {t.name: api.repo_exists(t.space_id, repo_type="space") for t in plan}
    origins: dict[str, str] = {}
    for caller in (t for t in plan if t.calls):
        sdk = load(caller.folder).sdk or "docker"
        if caller in targets and not dry_run and not exists[caller.name]:
            settings = settings_of(caller)
            hub.ensure_exists(api, caller.space_id, sdk, settings.get("visibility"), settings.get("hardware"))
            on_event(Progress(caller.space_id, f"created {caller.space_id} (sdk: {sdk}), to learn its address"))
            exists[caller.name] = True
        if exists[caller.name]:
            origins[caller.name] = space_origin(api, caller.space_id, sdk)
    urls: dict[str, str | None] = {}
    deployed = []
    for target in targets:
        callers = [c for c in plan if target.name in c.calls and c.name in origins]
        settings = settings_of(target)
        variables = dict(settings.get("variables") or {})
        if callers and "CORS_ORIGINS" not in variables:
            variables["CORS_ORIGINS"] = ",".join(origins[c.name] for c in callers)
            on_event(Progress(target.space_id, f"CORS_ORIGINS={variables['CORS_ORIGINS']} (its callers)"))
        prepared = prepare(api, load(target.folder), target.space_id, **{**settings, "variables": variables})
        if target.calls:
            _wire(api, prepared.plan, target, plan, urls, exists, on_event, dry_run=dry_run)
        url = deploy(
            api, prepared, on_event, force=force, dry_run=dry_run, restart=restart, rollback=rollback,
            timeout=timeout, origins=[origins[c.name] for c in callers],
        )  # fmt: skip
        urls[target.name] = url
        deployed.append((target.space_id, url))
    return deployed


def _wire(
    api, upload: hub.Plan, caller: hub.Target, plan: list[hub.Target], urls: dict, exists: dict, on_event, *, dry_run
):
    """Put spaces.json into the caller's upload: {name: URL} of the Spaces it calls, as the Hub reports them."""
    by_name = {t.name: t for t in plan}
    wiring = {}
    for name in caller.calls:
        if name not in urls and exists[name]:
            urls[name] = hub.status(api, by_name[name].space_id).url
        wiring[name] = urls.get(name)
    missing = [name for name, url in wiring.items() if not url]
    if missing and dry_run:
        wiring.update({name: "(its URL, once deployed)" for name in missing})
    elif missing:
        raise HfspaceError(
            f"{caller.space_id} calls {', '.join(missing)}, which has no URL on the Hub yet",
            hint="deploy them first, or all together: `hfspace deploy --all`",
        )
    upload.generated[WIRING_FILE] = (json.dumps(wiring, indent=2) + "\n").encode()
    upload.uploads = sorted({*upload.uploads, WIRING_FILE})
    upload.deletes = [p for p in upload.deletes if p != WIRING_FILE]
    on_event(Progress(caller.space_id, f"{WIRING_FILE}: " + ", ".join(f"{k} {v}" for k, v in wiring.items())))

"""`hfspace deploy`: one Space folder to its Space, validated first and checked last.

`prepare()` validates the folder and compares it with the remote Space (hub.plan);
`deploy()` applies the plan, waits for the build it caused, and checks the running app.
Each step is reported as a typed event (below) for the CLI to render; nothing here prints.
Failures raise HfspaceError with one line and a hint. Secret values are never in an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from huggingface_hub import HfApi

from hfspace import doctor, hub, probe, rules
from hfspace.errors import HfspaceError
from hfspace.space import Space

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
class Deployed:
    space: str
    url: str | None


Event = Validated | DryRun | Progress | Committed | Stage | Failed | Checked | Deployed


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
    timeout: float = 1800.0,
) -> str | None:
    """Validate, apply, wait, check one plan; the Space's URL (None on a dry run)."""
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
    if final.stage != "RUNNING":
        on_event(Failed(name, final, doctor.examine(doctor.read(api, name))))
        raise HfspaceError(
            f"{name} ended in {final.stage}", hint=f"fix the folder and deploy again; `hfspace status {name}`"
        )
    if plan.sdk == "static" or not final.url:
        on_event(Deployed(name, final.url))
        return final.url
    # The token goes to the app only when the Space is private (the Hub's proxy asks for it then).
    token = probe.resolve_token(final.url, api.token, {}) if final.private else None
    report = probe.check(final.url, [], CHECK_WAIT, token, probe.DEFAULT_TIMEOUT)
    on_event(Checked(name, report))
    on_event(Deployed(name, final.url))
    if not report.ok:
        raise HfspaceError(f"{name} runs, but its checks failed at {final.url}", hint="see the table above")
    return final.url

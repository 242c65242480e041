"""`hfspace preview`: a private Space per pull request, `OWNER/NAME-pr-N`, opened, updated, closed, pruned.

`open_preview()` deploys a folder to the preview Space (created private when missing) with the
production Space's variables (read from the Hub) and, only when asked, its secrets: the
Hub never gives secret values back, so each of the production Space's secrets takes its
value from the environment variable of the same name (a CI job maps its own secrets there,
and never for a pull request from a fork). It returns a Markdown summary for a pull-request
comment. `close_preview()` deletes one preview; `prune()` the previews of pull requests that
are no longer open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from huggingface_hub import HfApi

from hfspace import deploy, hub, probe
from hfspace.errors import HfspaceError
from hfspace.space import load

MARKER = "<!-- hfspace-preview -->"  # the comment the workflow finds to update


def preview_id(space_id: str, pr: int) -> str:
    hub.check_space_id(space_id)
    if pr < 1:
        raise HfspaceError(f"--pr {pr}: a pull request number is 1 or more")
    return hub.check_space_id(f"{space_id}-pr-{pr}")


@dataclass
class Summary:
    space_id: str  # the preview's
    production: str
    pr: int
    folder: str
    stage: str = "?"
    url: str | None = None
    commit: str | None = None
    error: str | None = None
    report: probe.Report | None = None
    secrets: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.stage == "RUNNING"

    def markdown(self) -> str:
        state = "✅ running" if self.ok else f"❌ {self.stage}"
        lines = [
            MARKER,
            f"### Preview of `{self.folder}` for #{self.pr}: {state}",
            "",
            "| | |",
            "|---|---|",
            f"| Space | [{self.space_id}](https://huggingface.co/spaces/{self.space_id}) (private) |",
            f"| URL | {self.url or '-'} |",
            f"| Stage | {self.stage} |",
            f"| Commit | `{(self.commit or '?')[:12]}` |",
            f"| Variables | from `{self.production}` |",
            f"| Secrets | {', '.join(f'`{s}`' for s in self.secrets) if self.secrets else 'none'} |",
        ]
        if self.error:
            lines += ["", f"**Failed:** {self.error}"]
        if self.report is not None:
            lines += ["", "| check | result | detail |", "|---|---|---|"]
            lines += [f"| {r.name} | {r.status} | {r.detail} |" for r in self.report.results]
        lines += ["", f"Opened by `hfspace preview open`; `hfspace doctor {self.space_id}` explains a failure."]
        return "\n".join(lines) + "\n"


def open_preview(
    api: HfApi,
    folder: str,
    space_id: str,
    pr: int,
    on_event: Callable[[deploy.Event], None],
    *,
    with_secrets: bool = False,
    environ: Mapping[str, str] | None = None,
    timeout: float = 1800.0,
) -> Summary:
    """Deploy `folder` to the private preview of `space_id` for pull request `pr`; its summary."""
    target = preview_id(space_id, pr)
    space = load(folder)
    with hub.hub_errors(space_id):
        variables = {k: v.value for k, v in api.get_space_variables(space_id).items()}
        names = sorted(api.get_space_secrets(space_id)) if with_secrets else []
    environ = environ or {}
    missing = [name for name in names if not environ.get(name)]
    if missing:
        raise HfspaceError(
            f"--with-secrets: no environment variable holds {', '.join(missing)} (secrets of {space_id})",
            hint="the Hub never returns secret values: export each one under its own name first",
        )
    secrets = {name: environ[name] for name in names}
    summary = Summary(target, space_id, pr, space.name, secrets=names)

    def seen(event: deploy.Event) -> None:
        if isinstance(event, deploy.Checked):
            summary.report = event.report
        on_event(event)

    prepared = deploy.prepare(api, space, target, visibility="private", variables=variables, secrets=secrets)
    try:
        summary.url = deploy.deploy(api, prepared, seen, rollback=False, timeout=timeout)
    except HfspaceError as error:
        summary.error = error.message
    status = hub.status(api, target)
    summary.stage, summary.commit, summary.url = status.stage, status.commit, summary.url or status.url
    return summary


def close_preview(api: HfApi, space_id: str, pr: int) -> bool:
    """Delete the preview; whether there was one."""
    target = preview_id(space_id, pr)
    with hub.hub_errors(target):
        if not api.repo_exists(target, repo_type="space"):
            return False
        api.delete_repo(target, repo_type="space")
    return True


def prune(api: HfApi, space_id: str, open_prs: set[int]) -> list[str]:
    """Delete the previews of `space_id` whose pull request is not in `open_prs`; their ids."""
    hub.check_space_id(space_id)
    owner, name = space_id.split("/")
    pattern = re.compile(rf"{re.escape(owner)}/{re.escape(name)}-pr-(\d+)")
    with hub.hub_errors(space_id):
        found = [s.id for s in api.list_spaces(author=owner, search=f"{name}-pr-")]
    deleted = []
    for preview in sorted(found):
        match = pattern.fullmatch(preview)
        if match and int(match.group(1)) not in open_prs:
            with hub.hub_errors(preview):
                api.delete_repo(preview, repo_type="space")
            deleted.append(preview)
    return deleted

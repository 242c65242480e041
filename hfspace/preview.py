"""`hfspace preview`: a private Space per pull request, `OWNER/NAME-pr-N`, opened, updated, closed, pruned.

`open_preview()` deploys folders to their preview Spaces (created private when missing) with the
production Spaces' variables (read from the Hub) and, only when asked, their secrets: the Hub
never gives secret values back, so each of a production Space's secrets takes its value from the
environment variable of the same name (a CI job maps its own secrets there, and never for a pull
request from a fork). Folders of spaces.toml are wired as `deploy --all` wires them, to this pull
request's previews where it has some. Each preview gets a summary; `markdown()` makes them the
pull request's comment. `close_preview()` deletes one preview; `prune()` the previews of pull
requests that are no longer open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

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


def previews(
    api: HfApi, folders: list[str], pr: int, *, space_id: str | None = None, config: Path = Path("spaces.toml")
) -> tuple[list[tuple[hub.Target, str]], list[hub.Target] | None]:
    """[(the preview's target, its production Space)] in the order to open them, and the plan they
    are wired in: spaces.toml's Spaces, each one this pull request previews (now, or before) as its
    preview, the others as in production. With `space_id` (one folder outside the plan): no plan."""
    if space_id is not None:
        if len(folders) != 1:
            raise HfspaceError("--space names the production Space of one folder", hint="pass one DIR with --space")
        folder = Path(folders[0])
        return [(hub.Target(folder, preview_id(space_id, pr), folder.resolve().name), space_id)], None
    production = hub.read_targets(config)
    chosen = {hub.target_for(Path(folder), config).name for folder in folders}
    plan, opened = [], []
    for target in production:
        preview = replace(target, space_id=preview_id(target.space_id, pr))
        with hub.hub_errors(preview.space_id):
            previewed = target.name in chosen or api.repo_exists(preview.space_id, repo_type="space")
        plan.append(preview if previewed else target)
        if target.name in chosen:
            opened.append((preview, target.space_id))
    return opened, plan


def open_preview(
    api: HfApi,
    folders: list[str],
    pr: int,
    on_event: Callable[[deploy.Event], None],
    *,
    space_id: str | None = None,
    config: Path = Path("spaces.toml"),
    with_secrets: bool = False,
    environ: Mapping[str, str] | None = None,
    timeout: float = 1800.0,
) -> list[Summary]:
    """Deploy each folder to the private preview of its production Space (`space_id`, else its
    Space in `config`) for pull request `pr`; a summary each. Folders of the plan are wired as
    `deploy --all` wires them, to the previews of this pull request where there are some and to
    production elsewhere: a preview the others call admits its callers' origins (not production's
    CORS_ORIGINS), a caller's spaces.json names the URLs it calls. A preview that fails is not
    rolled back, and the others are still opened."""
    opened, plan = previews(api, folders, pr, space_id=space_id, config=config)
    environ = environ or {}
    settings: dict[str, dict] = {}
    for target, production in opened:
        with hub.hub_errors(production):
            variables = {k: v.value for k, v in api.get_space_variables(production).items()}
            names = sorted(api.get_space_secrets(production)) if with_secrets else []
        missing = [name for name in names if not environ.get(name)]
        if missing:
            raise HfspaceError(
                f"--with-secrets: no environment variable holds {', '.join(missing)} (secrets of {production})",
                hint="the Hub never returns secret values: export each one under its own name first",
            )
        if plan and any(target.name in other.calls for other in plan):
            variables.pop("CORS_ORIGINS", None)  # the wiring names its callers, previews or production
        secrets = {name: environ[name] for name in names}
        settings[target.space_id] = {"visibility": "private", "variables": variables, "secrets": secrets}
    for target, _ in opened:  # a caller's preview first: the previews it calls admit its origin
        sdk = load(target.folder).sdk or "docker"
        if plan and target.calls and hub.ensure_exists(api, target.space_id, sdk, "private", None):
            on_event(deploy.Progress(target.space_id, f"created {target.space_id} (private), to learn its address"))
    summaries = []
    for target, production in opened:
        summary = Summary(target.space_id, production, pr, load(target.folder).name)
        summary.secrets = sorted(settings[target.space_id]["secrets"])

        def seen(event: deploy.Event, summary: Summary = summary) -> None:
            if isinstance(event, deploy.Checked):
                summary.report = event.report
            on_event(event)

        try:
            deploy.deploy_all(
                api, [target], seen, given=lambda t: settings[t.space_id], plan=plan, rollback=False, timeout=timeout
            )
        except HfspaceError as error:
            summary.error = error.message
        status = hub.status(api, target.space_id)
        summary.stage, summary.commit, summary.url = status.stage, status.commit, status.url
        summaries.append(summary)
    return summaries


def markdown(summaries: list[Summary]) -> str:
    """The pull request's comment: the marker once, then each preview."""
    return MARKER + "\n" + "\n".join(summary.markdown() for summary in summaries)


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

"""The `hfspace` command line: parses arguments, calls the library, prints.

Only this module prints or exits. A failure a user can cause ends with
`error: <what>` (and a `hint:` line) on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hfspace import __version__
from hfspace.errors import HfspaceError

app = typer.Typer(
    name="hfspace",
    help="Validate, run, deploy and check Hugging Face Docker Spaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # help paragraphs reflow to the terminal's width
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Default: HF_TOKEN, else `hf auth login`'s. With none, a public Space is read as anyone sees it.",
        show_default=False,
    ),
]
DeployTimeout = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", min=1, help="How long to wait for the build and start.")
]
WriteToken = Annotated[
    str | None,
    typer.Option("--token", help="A write token. Default: HF_TOKEN, else `hf auth login`'s.", show_default=False),
]


def fail(error: HfspaceError) -> typer.Exit:
    """Print an HfspaceError the way every command does; the Exit to raise."""
    err.print(f"[bold red]error:[/] {error.message}", markup=True)
    if error.hint:
        err.print(f"[bold cyan]hint:[/] {error.hint}", markup=True)
    return typer.Exit(error.exit_code)


def _version(value: bool) -> None:
    if value:
        out.print(f"hfspace {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Validate, run, deploy and check Hugging Face Docker Spaces."""


@app.command()
def check(
    url: Annotated[
        list[str],
        typer.Argument(metavar="URL", help="A running Space: http://127.0.0.1:7860 or https://owner-name.hf.space."),
    ],
    origins: Annotated[
        list[str] | None,
        typer.Option("--origin", metavar="ORIGIN", help="Check CORS for pages on this origin (repeatable)."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", min=0, help="Poll up to this long while the Space starts or wakes (502/503)."
        ),
    ] = 0.0,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Sent as a Bearer token (private Spaces). Default: HF_TOKEN, sent only to https://*.hf.space.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", min=0.1, help="Timeout of each request.")
    ] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Check a running Space: readiness (GET/HEAD /), /health, the contract, embedding, CORS, TLS.

    Exits 1 when a check fails. An https URL verifies against certifi's CAs, or REQUESTS_CA_BUNDLE.
    """
    import json

    from hfspace import probe

    try:
        spaces = [probe.parse_url(each) for each in url]
        origins = [probe.parse_url(origin) for origin in origins or ()]
    except HfspaceError as error:
        raise fail(error) from None
    reports = [
        probe.check(space, origins, wait, probe.resolve_token(space, token, dict(os.environ)), timeout)
        for space in spaces
    ]
    if as_json:
        out.print(json.dumps([report.as_dict() for report in reports], indent=2), markup=False, emoji=False)
    else:
        for report in reports:
            _print_check(report)
    if not all(report.ok for report in reports):
        raise typer.Exit(1)


def _print_check(report, console: Console = out) -> None:
    """One `hfspace check` report as a table: check, result, detail, milliseconds."""
    from rich.table import Table
    from rich.text import Text

    from hfspace import probe

    styles = {probe.PASS: "green", probe.FAIL: "bold red", probe.SKIP: "dim"}
    title = report.url + (f" ({report.service})" if report.service else "")
    table = Table(title=Text(title), title_justify="left", title_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("detail")
    table.add_column("ms", justify="right", no_wrap=True)
    for result in report.results:
        table.add_row(
            Text(result.name), Text(result.status, style=styles[result.status]), Text(result.detail),
            f"{result.duration_ms:.0f}",
        )  # fmt: skip
    console.print(table)


@app.command()
def up(
    folders: Annotated[
        list[str] | None, typer.Argument(metavar="[DIR]...", help="Space folders to run (default: this one).")
    ] = None,
    port: Annotated[
        str, typer.Option("--port", metavar="BASE", help="The first Space's port; the next ones count up from it.")
    ] = "7860",
    docker: Annotated[bool, typer.Option("--docker", help="Build each image and run it as the platform does.")] = False,
    variables: Annotated[
        list[str] | None,
        typer.Option(
            "--var", metavar="KEY=VALUE", help="A Space variable (repeatable); with --docker, a build arg too if ARG."
        ),
    ] = None,
    secrets: Annotated[
        list[str] | None,
        typer.Option(
            "--secret", metavar="KEY", help="A Space secret (repeatable), its value read from the variable KEY."
        ),
    ] = None,
    build_args: Annotated[
        list[str] | None,
        typer.Option("--build-arg", metavar="KEY=VALUE", help="Passed to docker build as is (with --docker)."),
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout",
            metavar="DURATION",
            help="How long each Space gets to answer GET / (90s, 5m); default: the card's startup_duration_timeout.",
            show_default=False,
        ),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="With --docker: a read-only root and a tmpfs /tmp (hardening).")
    ] = False,
) -> None:
    """Run Space folders locally, the way the platform runs them; Ctrl-C stops them all.

    Each Space runs its Dockerfile's CMD (after ENTRYPOINT) from its folder:

    - **Python**: its .venv, else hfspace's own environment, else a new .venv from its requirements.txt
    - **Node**: its node_modules (npm ci when missing) and the node on PATH
    - **static**: its files, app_file (index.html) at /

    Environment, lowest first: the final stage's ENV (not PATH or HOME), the platform's SPACE_*
    (SPACE_ID=local/FOLDER; not SPACE_HOST, the platform's https host), .env, your environment, --var and --secret,
    then PORT. Each Space gets its port (--port, then one up) as PORT. The platform never sets PORT
    (the app must listen on app_port); locally PORT is what lets several Spaces run side by side.

    --docker builds each image and runs it as the platform does: as the image's USER (root when
    it sets none), writable where the build gave that user ownership, the memory and CPUs of the
    card's suggested_hardware (else the free tier's 2 vCPU and 16 GB), app_port published on
    127.0.0.1, no PORT, no .env.
    --read-only adds a read-only root (a hardening check the platform does not make).

    It waits until each Space answers GET / with 200, prints a table, then their logs.
    Exits non-zero when a Space does not start.
    """
    import signal
    import threading

    from rich.table import Table
    from rich.text import Text

    from hfspace import run, settings
    from hfspace.space import parse_duration

    try:
        if read_only and not docker:
            raise HfspaceError("--read-only is for containers", hint="add --docker")
        options = run.Options(
            port=run.parse_port(port),
            docker=docker,
            read_only=read_only,
            variables=settings.parse_assignments(variables or [], "--var"),
            secrets=list(secrets or []),
            build_args=settings.parse_assignments(build_args or [], "--build-arg"),
        )
        if timeout is not None:
            options.timeout = parse_duration(timeout, bare_seconds=True)
            if options.timeout is None:
                raise HfspaceError(f'--timeout "{timeout}": expected a duration such as 90s, 5m or 1h')
        plans = run.plan(folders or ["."], options)
    except HfspaceError as error:
        raise fail(error) from None

    width = max(len(item.name) for item in plans)
    palette = ["cyan", "magenta", "green", "yellow", "blue", "red"]
    colors = {item.name: palette[index % len(palette)] for index, item in enumerate(plans)}

    def prefixed(space: str, line: str) -> Text:
        return Text.assemble((f"{space:<{width}} | ", colors.get(space, "")), line)

    def render(event: run.Event) -> None:
        if isinstance(event, run.Log):
            out.print(prefixed(event.space, event.line))
        elif isinstance(event, run.Step):
            err.print(Text(f"{event.space}: {event.text}", style="dim"))
        elif isinstance(event, run.Table):
            table = Table(box=None, header_style="bold", pad_edge=False)
            for column in ("SPACE", "URL", "STATE", "READY IN"):
                table.add_column(column, no_wrap=True)
            for row in event.rows:
                took = f"{row.seconds:.1f}s" if row.seconds is not None else "-"
                style = "green" if row.state == "ready" else "red"
                table.add_row(Text(row.space), Text(row.url), Text(row.state, style=style), took)
            out.print(table)
            if all(row.state == "ready" for row in event.rows):
                err.print("Ctrl-C stops them all.")
        elif isinstance(event, run.Failure):
            for line in event.tail:
                err.print(prefixed(event.space, line))
            err.print(Text.assemble(("error: ", "bold red"), f"{event.space} {event.reason}"))
            if event.hint:
                err.print(Text.assemble(("hint: ", "bold cyan"), event.hint))

    # Ctrl-C and SIGTERM ask run() to stop every Space gracefully; a second one changes nothing.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = run.run(plans, render, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise typer.Exit(code)


def _rule_ids(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@app.command()
def validate(
    folders: Annotated[
        list[str] | None, typer.Argument(metavar="[DIR]...", help="Space folders to validate (default: this one).")
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", metavar="RULE-ID", help="Only these rules (repeatable, or comma-separated)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", metavar="RULE-ID", help="Not these rules (repeatable, or comma-separated)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also show info findings (advice).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings and a folder summary as JSON.")] = False,
) -> None:
    """Check Space folders before upload: the card, the Dockerfile, the ignore files, the file sizes.

    Prints `path:line: error|warning RULE-ID message` and a fix line for each problem.
    Exits 1 when there is an error (warnings alone exit 0), 2 when a DIR is not a folder.
    `hfspace rules` lists the rules; a `# hfspace: ignore=RULE-ID` comment above a Dockerfile
    line, `ignore = [...]` under `[validate]` in the folder's .hfspace.toml, --ignore and
    --select silence rules; what they silence is counted ("2 ignored").
    """
    import json

    from rich.markup import escape

    from hfspace import rules

    folders = folders or ["."]
    try:
        selected = rules.check_ids(select, "--select") if select else None
        ignored = rules.check_ids(ignore or [], "--ignore")
        reports = [rules.validate(folder, select=selected, ignore=ignored) for folder in folders]
    except HfspaceError as error:
        raise fail(error) from None
    errors, warnings = sum(r.errors for r in reports), sum(r.warnings for r in reports)
    silenced = sum(len(r.ignored) for r in reports)
    if as_json:
        document = {
            "findings": [finding.as_dict() for report in reports for finding in report.findings],
            "folders": [report.as_dict() for report in reports],
            "errors": errors,
            "warnings": warnings,
            "infos": sum(r.infos for r in reports),
            "ignored": [
                {**finding.as_dict(), "ignored_by": by} for report in reports for finding, by in report.ignored
            ],
        }
        out.print(json.dumps(document, indent=2, ensure_ascii=False), markup=False, emoji=False)
    else:

        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        def extra(report_ignored: int, infos: int) -> str:
            parts = [f"{report_ignored} ignored"] if report_ignored else []
            return "".join(f", {part}" for part in parts + ([count(infos, "info")] if verbose and infos else []))

        for report in reports:
            shown = [f for f in report.findings if verbose or f.severity != rules.INFO]
            problems = report.errors or report.warnings
            state = f"{count(report.errors, 'error')}, {count(report.warnings, 'warning')}" if problems else "ok"
            out.print(f"[bold]{escape(report.folder)}[/]: {state}{extra(len(report.ignored), report.infos)}")
            for finding in shown:
                _print_finding(out, finding)
        total = f"{count(errors, 'error')}, {count(warnings, 'warning')}"
        infos = sum(r.infos for r in reports)
        out.print(f"{total}{extra(silenced, infos)} in {count(len(reports), 'folder')}")
    if errors:
        raise typer.Exit(1)


@app.command(name="rules")
def rules_command(
    rule_id: Annotated[str | None, typer.Argument(metavar="[RULE-ID]", help="Explain this rule.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rules (or the rule) as JSON.")] = False,
) -> None:
    """List the rules of `hfspace validate` (id, severity, summary), or explain one: why it matters
    on Spaces, how to fix it, an example."""
    import json

    from rich.markup import escape

    from hfspace import rules

    try:
        chosen = [rules.explain(rule_id)] if rule_id else sorted(rules.RULES.values(), key=_rule_order)
    except HfspaceError as error:
        raise fail(error) from None
    if as_json:
        document = chosen[0].as_dict() if rule_id else [rule.as_dict() for rule in chosen]
        out.print(json.dumps(document, indent=2, ensure_ascii=False), markup=False, emoji=False)
        return
    if rule_id:
        rule = chosen[0]
        out.print(f"[bold]{rule.id}[/] ({_severity_markup(rule.severity)}, {rule.area}): {escape(rule.summary)}")
        for title, text in (("Why", rule.why), ("Severity", rule.severity_reason), ("Fix", rule.fix)):
            out.print(f"\n[bold]{title}[/]\n{escape(text)}")
        out.print("\n[bold]Example[/]")
        out.print(escape("\n".join(f"    {line}" for line in rule.example.splitlines())), emoji=False)
        return
    width = max(len(rule.id) for rule in chosen)
    for rule in chosen:
        out.print(f"{rule.id:<{width}}  {_severity_markup(rule.severity, 7)}  {escape(rule.summary)}", emoji=False)


def _rule_order(rule) -> tuple:
    from hfspace import rules

    return (rules.AREAS.index(rule.area), rule.id)


def _severity_markup(severity: str, width: int = 0) -> str:
    style = {"error": "bold red", "warning": "yellow", "info": "cyan"}[severity]
    return f"[{style}]{severity}[/]" + " " * (width - len(severity))


@app.command()
def deploy(
    folder: Annotated[
        str | None, typer.Argument(metavar="[DIR]", help="The Space folder (default: this one); not with --all.")
    ] = None,
    space_id: Annotated[
        str | None,
        typer.Option(
            "--space",
            metavar="OWNER/NAME",
            help="The Space to deploy to (default: DIR's in spaces.toml).",
            show_default=False,
        ),
    ] = None,
    all_folders: Annotated[
        bool, typer.Option("--all", help="Deploy every folder of spaces.toml to its own Space.")
    ] = False,
    config: Annotated[str, typer.Option("--config", metavar="FILE", help="The deploy plan for --all.")] = "spaces.toml",
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Deploy the plan's Spaces under this user or org instead of its owner."),
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the Space private.")] = False,
    protected: Annotated[
        bool, typer.Option("--protected", help="Create the Space protected (code private, app public).")
    ] = False,
    hardware: Annotated[
        str | None, typer.Option("--hardware", help="Hardware for a new Space (cpu-basic, t4-small, ...).")
    ] = None,
    variables: Annotated[
        list[str] | None, typer.Option("--var", metavar="KEY=VALUE", help="A Space variable (repeatable).")
    ] = None,
    env_file: Annotated[
        str | None, typer.Option("--env-file", metavar="FILE", help="Space variables from a KEY=VALUE file.")
    ] = None,
    secrets: Annotated[
        list[str] | None,
        typer.Option(
            "--secret", metavar="KEY", help="A Space secret (repeatable): the value of $KEY, else asked for (hidden)."
        ),
    ] = None,
    secrets_file: Annotated[
        str | None, typer.Option("--secrets-file", metavar="FILE", help="Space secrets from a KEY=VALUE file.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Deploy even when validate finds errors.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created, set, uploaded and deleted; change nothing.")
    ] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Restart the Space even when nothing changed.")] = False,
    no_rollback: Annotated[
        bool, typer.Option("--no-rollback", help="Leave a revision that fails in place (default: roll back).")
    ] = False,
    timeout: DeployTimeout = 1800.0,
    token: WriteToken = None,
) -> None:
    """Deploy a Space folder to its Space, wait until it runs, and check that it answers.

    Validates the folder first (errors stop the deploy; --force goes on). Creates the
    Space when it does not exist, with the card's sdk (docker or static), sets the
    variables and secrets, uploads the folder as an exact mirror of what the Space
    needs (a Docker Space: its card, Dockerfile, .dockerignore and what the build
    copies; never a .env, tests or the .gitignore), and deletes what is gone. Then it
    waits for the new build (not the previous one), and runs `hfspace check` against
    the URL the Hub reports. An unchanged folder makes no commit and no rebuild.

    A revision that runs and passes its check is recorded as good (a tag
    `hfspace-good-<sha>` on the Space's repository). One that fails to build, to start,
    or its check is rolled back: a new commit restores the files of the last good
    revision (the failed commit stays in the history); the deploy still exits 1, with
    doctor's diagnosis. --no-rollback leaves the failed revision in place.

    --all deploys spaces.toml's Spaces, those that others call (`calls = [...]`) first:
    each gets CORS_ORIGINS naming its callers' origins as the Hub reports them (unless
    --var sets it) and is checked for CORS from each; a caller gets spaces.json, the
    URLs of the Spaces it calls. The Hub is HF_ENDPOINT (default https://huggingface.co).
    """
    from hfspace import deploy as deploying
    from hfspace import hub, settings
    from hfspace.space import load

    if private and protected:
        raise fail(HfspaceError("--private and --protected exclude each other", hint="choose one"))
    visibility = "private" if private else "protected" if protected else None
    try:
        plan = None  # spaces.toml's Spaces, when the target is one of them: its wiring applies
        if all_folders:
            if folder or space_id:
                raise HfspaceError("--all deploys every folder of the plan", hint="drop DIR and --space, or --all")
            targets = plan = hub.read_targets(Path(config), owner)
        elif space_id:
            targets = [hub.Target(Path(folder or "."), hub.check_space_id(space_id))]
        else:
            targets = [hub.target_for(Path(folder or "."), Path(config), owner)]
            plan = hub.read_targets(Path(config), owner)
        given = {
            "visibility": visibility,
            "hardware": hardware,
            "variables": settings.variables(variables or [], env_file),
            "secrets": settings.secrets(secrets or [], os.environ, secrets_file, _ask_secret),
        }
        api = hub.connect(token)
        options = {"force": force, "dry_run": dry_run, "restart": restart, "rollback": not no_rollback}
        if plan:
            urls = deploying.deploy_all(
                api, targets, _render_deploy, given=given, plan=plan, timeout=timeout, **options
            )
        else:
            prepared = deploying.prepare(api, load(targets[0].folder), targets[0].space_id, **given)
            deploying.deploy(api, prepared, _render_deploy, timeout=timeout, **options)
    except HfspaceError as error:
        raise fail(error) from None
    if all_folders and not dry_run:
        from rich.table import Table

        table = Table(title="deployed", title_justify="left", title_style="bold")
        table.add_column("space")
        table.add_column("url")
        for space_id_, url in urls:
            table.add_row(space_id_, url or "")
        out.print(table)


def _ask_secret(name: str) -> str:
    if not sys.stdin.isatty():
        return ""
    return typer.prompt(f"value of the secret {name}", hide_input=True, default="", show_default=False)


def _print_finding(console: Console, finding) -> None:
    """One validate finding, as validate and deploy both show it: location, severity, rule, message, fix."""
    from rich.markup import escape

    style = {"error": "bold red", "warning": "yellow", "info": "cyan"}[finding.severity]
    console.print(
        f"{escape(finding.path)}:{finding.line}: [{style}]{finding.severity}[/] [bold]{finding.rule}[/] "
        f"{escape(finding.message)}\n  [cyan]fix:[/] {escape(finding.fix)}",
        emoji=False,
    )


def _render_deploy(event) -> None:
    """One deploy event: progress on stderr, the check table and the URL on stdout."""
    from rich.markup import escape

    from hfspace import deploy as deploying

    if isinstance(event, deploying.Validated):
        for finding in event.findings:
            _print_finding(err, finding)
        if event.forced:
            errors = sum(f.severity == "error" for f in event.findings)
            err.print(f"[bold red]warning:[/] deploying {event.space} despite {errors} validation error(s) (--force)")
    elif isinstance(event, deploying.DryRun):
        _print_plan(event.plan)
    elif isinstance(event, deploying.Progress):
        err.print(f"{event.space}: {escape(event.text)}")
    elif isinstance(event, deploying.Committed):
        if event.commit:
            err.print(f"{event.space}: committed {event.commit[:12]} ({event.uploads} files, {event.deletes} deleted)")
        else:
            err.print(f"{event.space}: no changes: the Space already holds this folder (no commit, no rebuild)")
    elif isinstance(event, deploying.Stage):
        err.print(f"{event.space}: {event.stage}")
    elif isinstance(event, deploying.Failed):
        _print_diagnosis(err, event.diagnosis)
    elif isinstance(event, deploying.RollingBack):
        err.print(f"{event.space}: [bold yellow]rolling back[/] to {event.revision[:12]}, its last good revision")
    elif isinstance(event, deploying.Checked):
        _print_check(event.report)
    elif isinstance(event, deploying.Deployed):
        out.print(event.url or f"{event.space} runs (the Hub reports no URL)", markup=False)


def _print_plan(plan) -> None:
    from rich.markup import escape

    info = plan.as_dict()
    verb = "create" if info["create"] else "update"
    # Visibility and hardware apply to a new Space only.
    extra = ", ".join(v for v in (info["visibility"], info["hardware"]) if v) if info["create"] else ""
    out.print(f"would {verb} {plan.space_id} (sdk: {plan.sdk}{', ' + extra if extra else ''})")
    if info["variables"]:
        out.print(f"would set variables: {', '.join(info['variables'])}")
    if info["secrets"]:
        out.print(f"would set secrets: {', '.join(info['secrets'])} (values not shown)")
    out.print(f"would upload {len(plan.uploads)} files:")
    for path in plan.uploads:
        out.print(f"  + {escape(path)}")
    if plan.deletes:
        out.print(f"would delete {len(plan.deletes)} files:")
        for path in plan.deletes:
            out.print(f"  - {escape(path)}")
    out.print("dry run: nothing was changed")


@app.command()
def status(
    space_id: Annotated[str, typer.Argument(metavar="OWNER/NAME", help="The Space.")],
    token: Token = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show a Space's stage, hardware, URL, current commit, its last good revision (`good`: the
    last one `hfspace deploy` saw run and pass its check), and its error message if any."""
    import json

    from hfspace import hub

    try:
        result = hub.status(hub.connect(token, anonymous=True), space_id)
    except HfspaceError as error:
        raise fail(error) from None
    if as_json:
        out.print(json.dumps(result.as_dict(), indent=2), markup=False)
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in result.as_dict().items():
        table.add_row(key, "" if value is None else str(value))
    out.print(table)
    if result.stage in hub.FAILED_STAGES:
        raise typer.Exit(1)


@app.command()
def doctor(
    space_id: Annotated[str, typer.Argument(metavar="OWNER/NAME", help="The Space.")],
    token: Token = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
) -> None:
    """Say why a live Space is failing, in plain words, with the fix.

    Reads what the Hub knows (its stage and error message, hardware, variables and secrets by
    name, its build and run logs, `validate` over its files as the Hub holds them) and, when it
    runs, checks its URL. Each cause has an id, the evidence (a log line or the error
    message), the fix, the validate rule that would have caught it, and whose it is: the
    Space's (its code, Dockerfile, card, settings) or the platform's (capacity, a stuck
    builder: nothing to change in your code). The logs, variables and secrets need a token of
    the Space's owner; without one, a public Space is diagnosed from what anyone can read.

    Exits 0 when it is healthy (RUNNING, and its check passes), 1 for a cause that is the
    Space's (or one not recognised), 3 when every cause is the platform's, 2 when it cannot
    read the Space at all. For the raw log stream: `hf spaces logs OWNER/NAME --build -f`.
    """
    import json

    from hfspace import doctor as doctoring
    from hfspace import hub

    try:
        diagnosis = doctoring.doctor(hub.connect(token, anonymous=True), space_id)
    except HfspaceError as error:
        error.exit_code = doctoring.UNREADABLE  # not 1: that says the Space has a cause of its own
        raise fail(error) from None
    if as_json:
        out.print(json.dumps(diagnosis.as_dict(), indent=2, ensure_ascii=False), markup=False, emoji=False)
    else:
        _print_diagnosis(out, diagnosis)
    raise typer.Exit(diagnosis.exit_code)


@app.command()
def rollback(
    space_id: Annotated[str, typer.Argument(metavar="OWNER/NAME", help="The Space.")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="REV", help="A commit (or its first hex digits), tag or branch: restore this instead."
        ),
    ] = None,
    timeout: DeployTimeout = 1800.0,
    token: WriteToken = None,
) -> None:
    """Put a Space back on its last good revision (before its head), or on REV, from any machine.

    One new commit restores exactly that revision's files (adding, changing and deleting);
    the history keeps everything. Then it waits for the build and checks the Space like
    deploy does. Good revisions are the tags `hfspace-good-<sha>` that deploy records on
    the Space's repository, so this needs nothing local: no clone, no folder, no cache.
    """
    from hfspace import deploy as deploying
    from hfspace import hub

    try:
        deploying.rollback(hub.connect(token), space_id, _render_deploy, to=to, timeout=timeout)
    except HfspaceError as error:
        raise fail(error) from None


preview_app = typer.Typer(
    help="A private Space per pull request, OWNER/NAME-pr-N: open (or update), close, prune.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(preview_app, name="preview")
ProductionSpace = Annotated[
    str | None,
    typer.Option(
        "--space",
        metavar="OWNER/NAME",
        help="The production Space the preview is of (default: DIR's in spaces.toml).",
        show_default=False,
    ),
]
PlanFolder = Annotated[
    str | None,
    typer.Argument(metavar="[DIR]", help="A Space folder of spaces.toml: its Space (instead of --space)."),
]
PullRequest = Annotated[int, typer.Option("--pr", metavar="N", help="The pull request's number.")]


def _production_space(folder: str | None, space_id: str | None) -> str:
    """--space, else the folder's Space in spaces.toml (its owner replaced by HFSPACE_OWNER)."""
    from hfspace import hub

    if space_id:
        return hub.check_space_id(space_id)
    if folder is None:
        raise HfspaceError("which Space? pass --space OWNER/NAME, or a folder of spaces.toml")
    return hub.target_for(Path(folder), Path("spaces.toml")).space_id


@preview_app.command("open")
def preview_open(
    folders: Annotated[list[str], typer.Argument(metavar="DIR...", help="Space folders as the pull request has them.")],
    pr: PullRequest,
    space_id: Annotated[
        str | None,
        typer.Option(
            "--space",
            metavar="OWNER/NAME",
            help="The production Space of the one DIR (default: each DIR's in spaces.toml, wired as deploy --all).",
            show_default=False,
        ),
    ] = None,
    with_secrets: Annotated[
        bool,
        typer.Option(
            "--with-secrets",
            help="Also set the production Space's secrets, each from the environment variable of its name. "
            "Never for a pull request from a fork.",
        ),
    ] = False,
    timeout: DeployTimeout = 1800.0,
    token: WriteToken = None,
) -> None:
    """Deploy each DIR to the private Space OWNER/NAME-pr-N of its production Space (created when
    missing; updated in place when it exists) with the production Space's variables, wait, check,
    and print a Markdown summary on stdout (for a pull-request comment). Progress goes to stderr.

    Folders of spaces.toml are wired as `deploy --all` wires them: a caller's spaces.json names this
    pull request's previews where it has some (production elsewhere), and a preview others call
    admits its callers' origins. Exits 1 when a preview fails (the others are still opened)."""
    from hfspace import hub, preview

    try:
        summaries = preview.open_preview(
            hub.connect(token), folders, pr, _render_progress,
            space_id=space_id, with_secrets=with_secrets, environ=dict(os.environ), timeout=timeout,
        )  # fmt: skip
    except HfspaceError as error:
        raise fail(error) from None
    out.print(preview.markdown(summaries), markup=False, emoji=False, end="")
    if not all(summary.ok for summary in summaries):
        raise typer.Exit(1)


@preview_app.command("close")
def preview_close(
    pr: PullRequest,
    folder: PlanFolder = None,
    space_id: ProductionSpace = None,
    token: WriteToken = None,
) -> None:
    """Delete the preview of pull request N (nothing to do when there is none)."""
    from hfspace import hub, preview

    try:
        space_id = _production_space(folder, space_id)
        deleted = preview.close_preview(hub.connect(token), space_id, pr)
    except HfspaceError as error:
        raise fail(error) from None
    target = preview.preview_id(space_id, pr)
    out.print(f"deleted {target}" if deleted else f"{target} does not exist: nothing to delete", markup=False)


@preview_app.command("prune")
def preview_prune(
    open_prs: Annotated[
        str,
        typer.Option("--open", metavar="N,N", help="The pull requests still open (comma-separated; '' when none is)."),
    ],
    folder: PlanFolder = None,
    space_id: ProductionSpace = None,
    token: WriteToken = None,
) -> None:
    """Delete the previews (OWNER/NAME-pr-N) of every pull request not listed in --open."""
    from hfspace import hub, preview

    try:
        numbers = {int(part) for part in open_prs.replace(" ", "").split(",") if part}
    except ValueError:
        raise fail(HfspaceError(f'--open "{open_prs}": expected pull request numbers, such as 3,9')) from None
    try:
        deleted = preview.prune(hub.connect(token), _production_space(folder, space_id), numbers)
    except HfspaceError as error:
        raise fail(error) from None
    for each in deleted:
        out.print(f"deleted {each}", markup=False)
    out.print(f"{len(deleted)} preview(s) deleted", markup=False)


def _render_progress(event) -> None:
    """A deploy's events, all on stderr (stdout is kept for what a command prints as its result)."""
    from hfspace import deploy as deploying

    if isinstance(event, deploying.Checked):
        _print_check(event.report, err)
    elif isinstance(event, deploying.Deployed):
        err.print(event.url or f"{event.space} runs", markup=False)
    else:
        _render_deploy(event)


def _print_diagnosis(console: Console, diagnosis) -> None:
    """A doctor diagnosis: the Space's state, then one block per cause, then what could not be read."""
    from rich.markup import escape

    facts = diagnosis.facts
    hardware = facts.hardware or (f"{facts.requested}, not running" if facts.requested else "no hardware")
    if diagnosis.healthy:
        checks = f", {len(diagnosis.report.results)} checks pass" if diagnosis.report else ""
        console.print(
            f"[bold]{escape(facts.space_id)}[/]: {facts.stage} on {escape(hardware)}: [green]healthy[/]{checks}"
        )
    else:
        owners = sorted({"the Space's" if c.owner == "space" else "the platform's" for c in diagnosis.causes})
        count = len(diagnosis.causes)
        console.print(
            f"[bold]{escape(facts.space_id)}[/]: {facts.stage} on {escape(hardware)}: "
            f"{count} cause{'' if count == 1 else 's'} ({' and '.join(owners)})"
        )
    if facts.error:
        console.print(f"  error message: {escape(' '.join(facts.error.split())[:300])}", emoji=False)
    for cause in diagnosis.causes:
        whose = "[yellow]the platform's[/]" if cause.owner == "platform" else "[bold red]the Space's[/]"
        console.print(f"[bold]{cause.id}[/] ({whose}): {escape(cause.summary)}", emoji=False)
        console.print(f"  [dim]evidence:[/] {escape(cause.evidence)}", emoji=False, highlight=False)
        console.print(f"  [cyan]fix:[/] {escape(cause.fix)}", emoji=False)
        if cause.rule:
            console.print(
                f"  [dim]caught before a push by:[/] hfspace validate ({cause.rule}; `hfspace rules {cause.rule}`)"
            )
    for note in facts.notes:
        console.print(f"[dim]note:[/] {escape(note)}", emoji=False)
    if facts.findings and not diagnosis.healthy:
        console.print(f"validate, on the Space's files as the Hub holds them: {len(facts.findings)} finding(s)")
        for finding in facts.findings:
            console.print(
                f"  {escape(finding.path)}:{finding.line}: {finding.severity} {finding.rule} {escape(finding.message)}",
                emoji=False,
            )


@app.command()
def init(
    folder: Annotated[str, typer.Argument(metavar="[DIR]", help="The app's folder (default: this one).")] = ".",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the files it would write; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace files init wrote before (or that differ).")] = False,
    docker: Annotated[
        bool, typer.Option("--docker", help="A Gradio app: write a Docker Space instead of `sdk: gradio`.")
    ] = False,
) -> None:
    """Make an existing app folder a Space: Dockerfile, .dockerignore, the card (merged into README.md).

    Detects Flask, FastAPI/Starlette, Django, Streamlit, Gradio, Express, Fastify, plain node:http
    and static sites; prints what it found, with the line that says so, and what it could not tell.
    The app's own files are never edited: what it lacks is installed by the Dockerfile or adapted
    by small files of its own (hfspace_settings.py, hfspace_asgi.py, hfspace-preload.cjs).
    Never replaces an existing file without --force. Then validates the folder: exits 1 when
    validate finds an error.
    """
    from rich.markup import escape
    from rich.text import Text

    from hfspace import init as initialise
    from hfspace.rules import validate as run_validate

    try:
        found = initialise.scan(folder, docker=docker)
    except HfspaceError as error:
        raise fail(error) from None
    kind = "a Docker Space" if found.docker else f"an sdk: {found.card_extra.get('sdk')} Space"
    out.print(f"{escape(folder)}: {initialise.NAMES[found.framework]}, for {kind}")
    styles = {initialise.DETECTED: "", initialise.HANDLED: "green", initialise.UNKNOWN: "yellow"}  # else: red
    for note in found.notes:
        where = ""
        if note.where:
            where = f"  ({note.where[0]}" + (f":{note.where[1]}" if note.where[1] else "") + ")"
        kind = Text(f"{note.kind:<9}", style=styles.get(note.kind, "bold red"))
        out.print(Text.assemble("  ", kind, f" {note.topic:<13} {note.text}{where}"))
    try:
        changes = initialise.plan(found, force=force)
    except HfspaceError as error:
        raise fail(error) from None
    width = max([13, *(len(change.path) for change in changes)])  # hfspace-preload.cjs is longer than a topic
    for change in changes:
        verb = f"would {change.action}" if dry_run and change.writes else change.action
        style = "green" if change.writes else "yellow" if change.action == "kept" else "dim"
        out.print(Text.assemble("  ", Text(f"{verb:<9}", style=style), f" {change.path:<{width}} {change.why}"))
    if dry_run:
        for change in changes:
            if change.writes:
                out.print(f"\n--- {escape(change.path)} ({change.action})")
                out.print(change.text.rstrip("\n"), markup=False, emoji=False)
        out.print("\ndry run: nothing was written")
        return
    initialise.apply(found.root, changes)
    report = run_validate(folder)
    for finding in report.findings:
        if finding.severity != "info":
            _print_finding(out, finding)
    out.print(f"validate: {report.errors} errors, {report.warnings} warnings")
    target = "" if Path(folder) == Path() else f" {folder}"
    if found.docker:
        out.print(f"next: hfspace up --docker{target}, then hfspace check http://localhost:7860")
    elif found.card_extra.get("sdk") == "static":
        out.print(f"next: hfspace up{target}, then hfspace check http://localhost:7860")
    if report.errors:
        raise typer.Exit(1)


@app.command()
def new(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new Space's name (and folder).")],
    template: Annotated[
        str, typer.Option("--template", metavar="flask|express|static", help="Which of our Spaces to start from.")
    ] = "flask",
    directory: Annotated[
        str | None, typer.Option("--dir", metavar="PATH", help="Where to write it (default: ./NAME).")
    ] = None,
) -> None:
    """Start a new Space from one of ours: flask (python-backend), express (nodejs-backend), static (frontend).

    The folder is the template renamed to NAME (the card's title, the service's name); it
    validates clean, runs under `hfspace up` and passes `hfspace check` as it is.
    """
    from rich.markup import escape

    from hfspace.new import new as make

    try:
        made = make(name, template, directory)
    except HfspaceError as error:
        raise fail(error) from None
    out.print(f"{escape(str(made.folder))}: a new {made.template} Space from {made.source} ({len(made.files)} files)")
    out.print(f"next: hfspace validate {escape(str(made.folder))}, then hfspace up {escape(str(made.folder))}")


def main() -> None:
    try:
        app()
    except HfspaceError as error:  # a library error no command turned into an Exit
        raise SystemExit(fail(error).exit_code) from None
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

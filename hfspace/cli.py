"""The `hfspace` command line: parses arguments, calls the library, prints.

Only this module prints or exits. A failure a user can cause ends with
`error: <what>` (and a `hint:` line) on stderr and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import sys

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
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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


def main() -> None:
    try:
        app()
    except HfspaceError as error:  # a library error no command turned into an Exit
        raise SystemExit(fail(error).exit_code) from None
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

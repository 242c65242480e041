"""Rules of the upload: what reaches the Space repository, and what the Hub refuses or drops."""

from __future__ import annotations

from collections.abc import Iterator

from hfspace.rules.registry import ERROR, INFO, Hit, rule
from hfspace.rules.secrets import env_files
from hfspace.space import Space, is_env_file

LARGE_FILE = 10 * 1024 * 1024
TOO_LARGE = 1024 * 1024 * 1024


@rule("gitignore-drops", ERROR)
def gitignore_drops(space: Space) -> Iterator[Hit]:
    """The folder's .gitignore drops a file the image (or the static app) needs.

    Why: pushed with git or `hf upload`, the folder's .gitignore is applied by the Hub and the
    files it matches silently never reach the Space; the build then fails on a missing file.
    Severity: error: the Space does not build (or a static page is missing).
    Fix: remove or narrow the pattern (`!path` re-includes a file); `hfspace deploy` never
    uploads the .gitignore, so this only matters for other ways of pushing.
    Example:
        *.json              <- in .gitignore; the Dockerfile copies package.json
    """
    ignored = space.git_ignored
    if not ignored:
        return
    card = space.card
    if space.docker:
        # A .env the Hub drops is the point of ignoring it, not a loss.
        needed = ["Dockerfile", "README.md", ".dockerignore", *(f for f in space.needed_files if not is_env_file(f))]
    elif space.sdk == "static" and card is not None:
        # With app_build_command the Hub builds the app_file itself: an ignored build output is expected.
        built = "app_build_command" in card
        needed = ["README.md", *([] if built else [str(card.get("app_file") or "index.html").lstrip("/")])]
    else:
        needed = ["README.md"]
    by_line: dict[tuple[int, str], list[str]] = {}
    for path in dict.fromkeys(needed):
        if path in space.files and path in ignored:
            by_line.setdefault(ignored[path], []).append(path)
    for (line, pattern), paths in sorted(by_line.items()):
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        yield Hit(
            ".gitignore",
            line,
            f"`{pattern}` makes the Hub drop {shown}, which the Space needs",
            f"remove `{pattern}` from .gitignore, or narrow it (`!{paths[0]}` re-includes a file)",
        )


@rule("gitignore-env", ERROR)
def gitignore_env(space: Space) -> Iterator[Hit]:
    """A `.env` exists and the folder's .gitignore does not keep it out of the upload.

    Why: pushed with git or `hf upload`, the `.env` would be in the Space repository, readable
    by anyone who can read the Space.
    Severity: error: it leaks a secret.
    Fix: add `.env` to the folder's .gitignore; set its values as Space secrets and variables.
    Example:
        .env                <- next to a .gitignore that does not list it
    """
    for env_file in env_files(space):
        if env_file not in space.git_ignored:
            yield Hit(
                env_file,
                1,
                f"{env_file} would be uploaded with the Space (anyone who can read the Space can read it)",
                "add `.env` to the folder's .gitignore; set the values as Space secrets/variables",
            )


def _uploaded(space: Space) -> dict[str, int]:
    ignored = space.git_ignored
    return {path: size for path, size in space.files.items() if path not in ignored}


@rule("file-large", INFO)
def file_large(space: Space) -> Iterator[Hit]:
    """A file over 10 MB.

    Why: the Hub stores files over 10 MB with LFS/Xet; `hf upload` and `hfspace deploy` handle
    that, a plain `git push` without git-lfs is refused.
    Severity: info: it uploads with the client; with git it needs git-lfs.
    Fix: nothing with `hf upload`; with git, track it with git-lfs, or download it at start-up.
    Example:
        model.bin           <- 400 MB in the Space folder
    """
    for path, size in _uploaded(space).items():
        if size > LARGE_FILE:
            yield Hit(
                path,
                1,
                f"{path} is {size / 1024 / 1024:.0f} MB: files over 10 MB go through LFS/Xet (the client handles it)",
                "nothing to do with `hf upload`; with git, track it with git-lfs (or fetch it at start-up)",
            )


@rule("space-too-large", ERROR)
def space_too_large(space: Space) -> Iterator[Hit]:
    """The upload is over 1 GB, which the Hub refuses for a Space repository.

    Why: Space repositories are limited to about 1 GB; the push is refused.
    Severity: error: the Space cannot be pushed.
    Fix: keep large data in a model or dataset repository (or a bucket) and download it at start-up.
    Example:
        data/               <- 3 GB of checkpoints
    """
    total = sum(_uploaded(space).values())
    if total > TOO_LARGE:
        yield Hit(
            "README.md",
            1,
            f"the folder uploads {total / 1024**3:.2f} GB; the Hub refuses Space repositories over about 1 GB",
            "keep large data in a model/dataset repo or bucket and download it at start-up",
        )

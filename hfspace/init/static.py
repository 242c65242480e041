"""A static site: HTML, CSS and JavaScript served as they are. It becomes `sdk: static` (free on
the Hub, no Dockerfile): the Hub serves app_file at `/` and the other files beside it. A site a
bundler builds (Vite: `vite build` into dist/) gets `app_build_command`, which the Hub runs."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from hfspace.init import DETECTED, HANDLED, App
from hfspace.space.words import option, split


def detect(root: Path, files: dict[str, Path], *, docker: bool = False) -> App | None:
    pages = sorted(path for path in files if path.endswith((".html", ".htm")) and "/" not in path)
    if not pages:
        return None
    page = "index.html" if "index.html" in pages else pages[0]
    built = _bundled(files) if "package.json" in files else None
    app = App(root, "static", "static", docker=False, emoji="📄")
    app.note(DETECTED, "framework", f"a static site: {len(files)} files, no server code", (page, None))
    if built is None:
        app.card_extra = {"sdk": "static", "app_file": page}
        app.note(DETECTED, "entry point", f"{page}, served at /", (page, None))
    else:
        bundler, script, out, where = built
        app.card_extra = {"sdk": "static", "app_build_command": "npm run build", "app_file": f"{out}/index.html"}
        app.note(DETECTED, "entry point", f"{out}/index.html, built from {page}, served at /", (page, None))
    app.note(
        HANDLED, "sdk", "`sdk: static`: the Hub serves the files itself (no Dockerfile; free, unlike Docker Spaces)"
    )
    if built is not None:
        app.note(
            HANDLED,
            "build",
            f"{bundler} builds the site (`{script}`) into {out}/: `app_build_command: npm run build` has the Hub "
            f"build it on every update and serve what it built ({page} is the source, which browsers cannot run "
            "as it is)",
            where,
        )
    elif "package.json" in files:
        app.note(
            DETECTED,
            "build",
            "package.json is there, but no server and no bundler: the files are served as they are, unbuilt",
            ("package.json", None),
        )
    return app


# A bundler named by the build script, the folder it writes by default, and the flags that change it.
BUNDLERS = {"vite": ("dist", ("--outDir", "--out-dir")), "parcel": ("dist", ("--dist-dir",))}


def _bundled(files: dict[str, Path]) -> tuple[str, str, str, tuple[str, int | None]] | None:
    """(bundler, build script, output folder, where the folder is said) when package.json's build
    script runs Vite or Parcel; None otherwise."""
    try:
        package = json.loads(files["package.json"].read_text(errors="replace"))
        script = package["scripts"]["build"]
    except (ValueError, KeyError, TypeError):
        return None
    words = split(script) if isinstance(script, str) else None
    bundler = next((word for word in words or [] if word in BUNDLERS), None)
    if bundler is None:
        return None
    out, flags = BUNDLERS[bundler]
    where: tuple[str, int | None] = ("package.json", None)
    for name in (f"{bundler}.config.js", f"{bundler}.config.ts", f"{bundler}.config.mjs", f"{bundler}.config.mts"):
        if name in files:
            text = files[name].read_text(errors="replace")
            match = re.search(r"\boutDir\s*:\s*['\"]([^'\"]+)['\"]", text)
            if match:
                out, where = match[1], (name, text.count("\n", 0, match.start()) + 1)
    given = option(words[words.index(bundler) :], flags)  # the command line wins over the config
    if given:
        out, where = given, ("package.json", None)
    return bundler, script, posixpath.normpath(out.removeprefix("./")), where

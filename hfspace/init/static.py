"""A static site: HTML, CSS and JavaScript served as they are. It becomes `sdk: static` (free on
the Hub, no Dockerfile): the Hub serves app_file at `/` and the other files beside it."""

from __future__ import annotations

from pathlib import Path

from hfspace.init import DETECTED, HANDLED, App


def detect(root: Path, files: dict[str, Path], *, docker: bool = False) -> App | None:
    pages = sorted(path for path in files if path.endswith((".html", ".htm")) and "/" not in path)
    if not pages:
        return None
    app_file = "index.html" if "index.html" in pages else pages[0]
    app = App(root, "static", "static", docker=False, emoji="📄")
    app.card_extra = {"sdk": "static", "app_file": app_file}
    app.note(DETECTED, "framework", f"a static site: {len(files)} files, no server code", (app_file, None))
    app.note(DETECTED, "entry point", f"{app_file}, served at /", (app_file, None))
    app.note(
        HANDLED, "sdk", "`sdk: static`: the Hub serves the files itself (no Dockerfile; free, unlike Docker Spaces)"
    )
    if "package.json" in files:
        app.note(
            DETECTED,
            "build",
            "package.json is there, but no server: the files are served as they are, unbuilt",
            ("package.json", None),
        )
    return app

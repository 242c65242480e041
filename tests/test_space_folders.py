"""Each Space folder is uploaded alone: its own .gitignore must keep local files out."""

import subprocess

import pytest

from tests.services import ROOT, SERVICES

# Files a developer's working copy of a Space folder may hold that must never reach the Space.
LOCAL_ONLY = {
    "python-backend": [".env", ".env.local", ".venv/bin/python", "app/__pycache__/x.pyc", ".pytest_cache/v"],
    "nodejs-backend": [".env", ".env.production", "node_modules/express/index.js", "npm-debug.log"],
}


def _ignored(gitignore: str, paths: list[str], repo) -> set[str]:
    """The paths a repository whose only ignore rules are `gitignore` would ignore."""
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    (repo / ".gitignore").write_text(gitignore)
    result = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--no-index", "--stdin"],
        input="\n".join(paths),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: nothing ignored
    return set(result.stdout.split())


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_the_space_folder_ignores_local_files_and_nothing_it_ships(name, tmp_path):
    folder = ROOT / name
    tracked = subprocess.run(
        ["git", "-C", str(folder), "ls-files", "--cached", "--others", "--exclude-standard", "."],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert ".env.example" in tracked and "README.md" in tracked
    gitignore = (folder / ".gitignore").read_text()
    assert _ignored(gitignore, LOCAL_ONLY[name], tmp_path / "a") == set(LOCAL_ONLY[name])
    assert _ignored(gitignore, tracked, tmp_path / "b") == set()

"""The Space model against a real `docker build`: what it predicts is what the image holds.

Each test writes a tiny Space, reads it with `hfspace.space.load`, builds it with BuildKit on
the local Debian-based Python base, and compares: ARG scoping, what a stage inherits from the
stage it is built on, `.dockerignore` exceptions, files copied only into a builder stage, and
what `FROM <index>` means.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from hfspace.space import load
from tests import docker

pytestmark = pytest.mark.container
CARD = "---\nsdk: docker\n---\n"
OFFICIAL = docker.official_base("python-backend")


@pytest.fixture(scope="module")
def base() -> str:
    problem = docker.engine_problem()
    if problem:
        pytest.skip(f"no Docker engine: {problem}")
    return docker.base_image("python-backend")


@pytest.fixture
def built(tmp_path: Path, base: str):
    """build(dockerfile, files) -> (the Space model, the image's config, the image tag)."""
    tags: list[str] = []

    def build(dockerfile: str, files: dict[str, str] | None = None):
        folder = tmp_path / f"space-{len(tags)}"
        folder.mkdir()
        (folder / "README.md").write_text(CARD)
        # The model reads the official base's name (the one a Space builds on); Docker builds on
        # the local stand-in for it, given as the build argument.
        (folder / "Dockerfile").write_text(f"ARG BASE={OFFICIAL}\n" + dockerfile.replace("BASE_IMAGE", "${BASE}"))
        for name, text in (files or {}).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        tag = f"hfspace-model-test/{uuid.uuid4().hex[:10]}:test"
        tags.append(tag)
        command = ["build", "--build-arg", f"BASE={base}", "--tag", tag, str(folder)]
        done = docker.docker(*command, check=False, timeout=300, env=docker.BUILD_ENV)
        assert done.returncode == 0, done.stdout + done.stderr
        config = json.loads(docker.docker("image", "inspect", tag).stdout)[0]["Config"]
        return load(folder), config, tag

    yield build
    for tag in tags:
        docker.docker("image", "rm", "--force", tag, check=False)


def image_env(config: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config.get("Env") or [])


def files_in(tag: str, folder: str) -> set[str]:
    listing = docker.docker("run", "--rm", "--entrypoint", "find", tag, folder, "-type", "f", check=False).stdout
    return {line[len(folder) + 1 :] for line in listing.splitlines() if line}


def test_arg_scoping_is_dockers(built):
    space, config, _ = built(
        "ARG GLOBAL=g\nARG STAGE_DEFAULT=outer\n"
        "FROM BASE_IMAGE AS first\n"
        "ENV BEFORE_DECLARED=[$GLOBAL]\n"
        "ARG GLOBAL\nARG STAGE_DEFAULT=inner\nARG LOCAL=l\n"
        "ENV AFTER_DECLARED=[$GLOBAL] OWN_DEFAULT=[$STAGE_DEFAULT] LOCAL=[$LOCAL]\n"
        "FROM first\n"
        "ENV IN_CHILD=[$LOCAL][$GLOBAL]\n"
    )
    predicted = {k: v for k, v in space.dockerfile.config.env.items() if v is not None}
    env = image_env(config)
    for name in ("BEFORE_DECLARED", "AFTER_DECLARED", "OWN_DEFAULT", "LOCAL", "IN_CHILD"):
        assert predicted[name] == env[name], name
    # BuildKit hands a stage built on another that stage's ARGs (and its ENV): GLOBAL, declared
    # in `first`, is in scope in the child without being declared again.
    assert env["IN_CHILD"] == "[[l]][g]"


def test_a_stage_inherits_env_user_workdir_and_command_and_an_entrypoint_resets_an_inherited_cmd(built):
    space, config, _ = built(
        "FROM BASE_IMAGE AS base\nENV GREETING=hi HOME=/home/app\nUSER 1000\nWORKDIR $HOME/srv\n"
        'CMD ["python3", "-m", "http.server"]\n'
        "FROM base AS final\nWORKDIR sub\n"
    )
    model = space.dockerfile.config
    assert (model.user, model.workdir) == (config["User"], config["WorkingDir"])
    assert space.command.argv == config["Cmd"]
    assert image_env(config)["GREETING"] == model.env["GREETING"]

    reset, config, _ = built('FROM BASE_IMAGE AS base\nCMD ["inherited"]\nFROM base\nENTRYPOINT ["python3", "-V"]\n')
    assert reset.command.argv == (config["Entrypoint"] or []) + (config["Cmd"] or [])
    assert config["Cmd"] in (None, [])


def test_dockerignore_exceptions_decide_what_reaches_the_image(built):
    files = {
        "app/main.py": "",
        "app/secret.env": "",
        "docs/keep.md": "",
        "docs/drop.md": "",
        "notes.txt": "",
        ".env": "X=1\n",
        ".dockerignore": "*\n!app/\napp/*.env\n!docs/keep.md\n",
    }
    space, _, tag = built("FROM BASE_IMAGE\nCOPY . /ctx\n", files)
    in_image = files_in(tag, "/ctx")
    assert in_image == set(space.context.sent()) - {"README.md", "Dockerfile", ".dockerignore"}
    assert in_image == {"app/main.py", "docs/keep.md"}


def test_files_copied_into_a_builder_stage_stay_there(built):
    space, _, tag = built(
        "FROM BASE_IMAGE AS builder\nWORKDIR /src\nCOPY . .\nRUN mkdir -p out && cp only.txt out/\n"
        "FROM BASE_IMAGE\nCOPY --from=builder /src/out /app/out\n",
        {"only.txt": "built", "other.txt": ""},
    )
    final_from_context = [c for c in space.dockerfile.final_copies() if c.from_context]
    assert final_from_context == []  # nothing of the folder reaches the final image directly
    assert files_in(tag, "/app") == {"out/only.txt"}
    assert files_in(tag, "/src") == set()


def test_from_an_index_is_an_image_for_docker_too(tmp_path, base):
    folder = tmp_path / "space"
    folder.mkdir()
    (folder / "README.md").write_text(CARD)
    (folder / "Dockerfile").write_text(f'FROM {base}\nCMD ["x"]\nFROM 0\n')
    done = docker.docker("build", str(folder), check=False, timeout=300, env=docker.BUILD_ENV)
    assert done.returncode != 0 and "library/0" in done.stdout + done.stderr  # Docker looks for an image `0`
    assert load(folder).command.image == "0"

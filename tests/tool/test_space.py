"""The one Space model (hfspace.space): what the image runs, read from the Dockerfile as Docker reads it.

tests/tool/test_space_docker.py holds the same questions asked of a real `docker build`.
"""

from pathlib import Path

import pytest

from hfspace.space import load, parse_duration
from hfspace.space.words import expand

CARD = "---\nsdk: docker\napp_port: 7860\n---\n"


def space(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None):
    (tmp_path / "README.md").write_text(CARD)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return load(tmp_path)


def test_a_final_stage_built_on_an_earlier_one_inherits_its_command_and_env(tmp_path):
    loaded = space(
        tmp_path,
        'FROM python:3.13-slim AS base\nENV GREETING=hi\nCMD ["uvicorn", "app:app"]\nFROM base AS final\nENV EXTRA=1\n',
    )
    assert loaded.command.argv == ["uvicorn", "app:app"]
    assert loaded.run_env() == {"GREETING": "hi", "EXTRA": "1"}


@pytest.mark.parametrize("base", ["python:3.13-slim", "--platform=linux/amd64 python:3.13-slim"])
def test_a_final_stage_on_an_image_knows_only_its_own_instructions(tmp_path, base):
    loaded = space(tmp_path, f'FROM python:3.13-slim AS build\nCMD ["no"]\nFROM {base} AS final\nENV ONLY=1\n')
    assert loaded.command.argv is None  # the image's own CMD: not in this Dockerfile
    assert loaded.command.image == "python:3.13-slim"
    assert loaded.run_env() == {"ONLY": "1"}


def test_from_an_index_names_an_image_not_a_stage(tmp_path):
    # BuildKit resolves `FROM 0` as the image `0` (it tries to pull it); only COPY --from takes an index.
    loaded = space(tmp_path, 'FROM python:3.13-slim\nCMD ["gunicorn"]\nFROM 0\n')
    assert loaded.command.argv is None and loaded.command.image == "0"


def test_a_stage_named_through_an_arg_is_followed(tmp_path):
    loaded = space(tmp_path, 'ARG BASE=build\nFROM python:3.13-slim AS build\nCMD ["gunicorn"]\nFROM ${BASE}\n')
    assert loaded.command.argv == ["gunicorn"]
    assert loaded.dockerfile.final.parent.alias == "build"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400), ("0s", None), ("30 minutes", None), ("", None)],
)
def test_durations_read_as_the_card_writes_them(text, seconds):
    assert parse_duration(text) == seconds


def test_a_bare_number_is_seconds_only_where_asked():
    assert parse_duration("90") is None
    assert parse_duration("90", bare_seconds=True) == 90


def test_one_arg_instruction_can_declare_several_names(tmp_path):
    loaded = space(tmp_path, 'FROM python:3.13-slim\nARG A=1 B="two words" C\nENV X=$A Y="$B"\nCMD ["x"]\n')
    assert loaded.declared_args() == {"A", "B", "C"}
    assert loaded.run_env() == {"X": "1", "Y": "two words"}
    assert loaded.run_env({"B": "given"}) == {"X": "1", "Y": "given"}


# --- ARG scoping, as Docker scopes it -------------------------------------------------------------------


def test_a_global_arg_reaches_a_stage_only_once_the_stage_declares_it(tmp_path):
    loaded = space(tmp_path, "ARG V=1\nFROM scratch\nENV BEFORE=[$V]\nARG V\nENV AFTER=[$V]\n")
    assert loaded.dockerfile.config.env == {"BEFORE": "[]", "AFTER": "[1]"}


def test_a_stage_inherits_the_args_of_the_stage_it_builds_on_as_buildkit_does(tmp_path):
    loaded = space(tmp_path, "FROM scratch AS base\nARG V=1\nENV IN_BASE=[$V]\nFROM base\nENV IN_FINAL=[$V]\n")
    assert loaded.dockerfile.config.env == {"IN_BASE": "[1]", "IN_FINAL": "[1]"}
    other = space(tmp_path, "FROM scratch AS base\nARG V=1\nFROM scratch\nENV IN_OTHER=[$V]\n")
    assert other.dockerfile.config.env == {"IN_OTHER": "[]"}


def test_an_arg_without_a_default_is_unknown_a_space_variable_may_set_it(tmp_path):
    loaded = space(tmp_path, 'FROM scratch\nARG PORT\nENV PORT=$PORT\nCMD ["serve"]\n')
    assert loaded.dockerfile.config.env == {"PORT": None}
    assert space(tmp_path, "FROM scratch\nARG PORT\nENV PORT=$PORT\n").run_env({"PORT": "8000"}) == {"PORT": "8000"}


def test_every_value_of_one_env_sees_the_names_as_they_were_before_it(tmp_path):
    loaded = space(tmp_path, "FROM scratch\nENV A=old\nENV A=new B=$A\n")
    assert loaded.dockerfile.config.env == {"A": "new", "B": "old"}


def test_a_name_an_unknown_base_image_may_set_is_unknown(tmp_path):
    loaded = space(tmp_path, "FROM ghcr.io/someone/image:1\nENV P=$THEIRS:x\n")
    assert loaded.dockerfile.config.env == {"P": None}
    known = space(tmp_path, "FROM debian:12-slim\nENV P=$THEIRS:x\n")
    assert known.dockerfile.config.env == {"P": ":x"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$A", "1"),
        ("${A}x", "1x"),
        ('"$B"', "two words"),
        ("'$A'", "$A"),
        ("${MISSING:-fallback}", "fallback"),
        ("${A:+set}", "set"),
        ("${EMPTY:-e}", "e"),
        ("${EMPTY-e}", ""),
        ("a\\ b", "a b"),
        ('"a\\"b"', 'a"b'),
        ("${B#two }", "words"),
        ("${B%% *}", "two"),
    ],
)
def test_words_expand_as_buildkit_expands_them(text, value):
    assert expand(text, {"A": "1", "B": "two words", "EMPTY": ""}) == value


# --- ENTRYPOINT, CMD, USER, WORKDIR as the container runs them -----------------------------------------


def test_an_entrypoint_resets_the_cmd_a_stage_inherits_but_not_its_own(tmp_path):
    inherited = space(tmp_path, 'FROM scratch AS a\nCMD ["x"]\nFROM a\nENTRYPOINT ["run"]\n')
    assert inherited.command.argv == ["run"]
    own = space(tmp_path, 'FROM scratch\nCMD ["x"]\nENTRYPOINT ["run"]\n')
    assert own.command.argv == ["run", "x"]


def test_a_shell_form_command_runs_under_the_shell_instruction(tmp_path):
    loaded = space(tmp_path, 'FROM scratch\nSHELL ["/bin/bash", "-lc"]\nCMD serve --port 7860\n')
    assert loaded.command.argv == ["/bin/bash", "-lc", "serve --port 7860"]
    assert loaded.command.words == ["serve", "--port", "7860"]


def test_user_and_workdir_are_inherited_and_expanded(tmp_path):
    loaded = space(tmp_path, "FROM scratch AS a\nENV HOME=/home/user\nUSER 1000\nWORKDIR $HOME\nFROM a\nWORKDIR app\n")
    config = loaded.dockerfile.config
    assert (config.user, config.workdir) == ("1000", "/home/user/app")


def test_exec_form_that_is_not_json_is_told_apart(tmp_path):
    loaded = space(tmp_path, "FROM scratch\nCMD ['python', 'app.py']\n")
    cmd = loaded.dockerfile.config.cmd
    assert cmd.argv is None and cmd.json_error is not None
    assert loaded.command.argv == ["/bin/sh", "-c", "['python', 'app.py']"]


def test_a_heredoc_is_one_instruction(tmp_path):
    loaded = space(tmp_path, 'FROM scratch\nRUN <<EOF\necho hi\nUPPER case\nEOF\nCMD ["x"]\n')
    names = [ins.name for ins in loaded.dockerfile.instructions]
    assert names == ["FROM", "RUN", "CMD"]
    assert loaded.dockerfile.instructions[1].heredocs == ["echo hi\nUPPER case\nEOF\n"]


# --- the build context and what reaches the final image --------------------------------------------------


def test_files_copied_into_a_builder_stage_only_do_not_reach_the_final_image(tmp_path):
    loaded = space(
        tmp_path,
        "FROM node:22 AS builder\nWORKDIR /src\nCOPY . .\nRUN npm run build\n"
        "FROM nginx:1.27\nCOPY --from=builder /src/build /usr/share/nginx/html\n",
        {"package.json": "{}", "src/app.js": ""},
    )
    final = loaded.dockerfile.final_copies()
    assert [(c.from_stage.alias, c.sources) for c in final] == [("builder", ["/src/build"])]
    assert {c.instruction.line for c in loaded.dockerfile.context_copies()} == {3}
    assert "src/app.js" in loaded.upload_set()  # the build still needs it from the folder


@pytest.mark.parametrize(
    ("path", "patterns", "excluded"),
    [
        ("app/main.py", ["*", "!app/"], False),
        (".env", ["*", "!app/"], True),
        ("docs/keep.md", ["docs", "!docs/keep.md"], False),
        ("docs/x.md", ["docs", "!docs/keep.md"], True),
        ("a/b/c.pyc", ["**/*.pyc"], True),
    ],
)
def test_dockerignore_exceptions_decide_what_a_build_can_copy(tmp_path, path, patterns, excluded):
    loaded = space(tmp_path, "FROM scratch\nCOPY . /app\n", {path: "x", ".dockerignore": "\n".join(patterns) + "\n"})
    assert loaded.context.excluded(path) is excluded
    assert (path in loaded.upload_set()) is not excluded


def test_a_bind_mount_from_the_context_is_needed_by_the_build(tmp_path):
    loaded = space(
        tmp_path,
        "FROM python:3.13-slim\nRUN --mount=type=bind,source=requirements.txt,target=/r.txt pip install -r /r.txt\n",
        {"requirements.txt": "flask\n", "notes.txt": ""},
    )
    assert loaded.upload_set() == ["Dockerfile", "README.md", "requirements.txt"]


def test_a_path_the_command_names_maps_back_to_the_file_copied_there(tmp_path):
    loaded = space(
        tmp_path,
        "FROM python:3.13-slim\nWORKDIR /srv\nCOPY conf/gunicorn.py /etc/g.py\nCOPY src/ .\n"
        'CMD ["python", "main.py"]\n',
        {"conf/gunicorn.py": "", "src/main.py": "", "main.py": ""},
    )
    assert loaded.file_in_image("main.py") == "src/main.py"
    assert loaded.file_in_image("/etc/g.py") == "conf/gunicorn.py"


def test_a_node_listen_on_port_0_is_not_the_apps_port():
    from hfspace.space.listen import _js_listen

    text = "const port = process.env.PORT || 7860;\nserver.listen(port, '0.0.0.0');\nserver._handle.listen(0);\n"
    assert _js_listen(text, {}) == ("0.0.0.0", 7860, 2)


@pytest.mark.parametrize(
    ("kind", "text", "blocked"),
    [
        ("py", "from flask_talisman import Talisman\nTalisman(app)\n", 2),
        ("py", "# Talisman(\n#     app,\n# )\n", None),  # commented out: sends nothing
        ("py", "Talisman(app, frame_options=None)\n", None),
        ("js", "// app.use(helmet())\n/* res.set('X-Frame-Options', 'DENY') */\napp.listen(3000)\n", None),
        ("js", "/*\n*/\napp.use(helmet())\n", 3),
    ],
)
def test_only_code_that_runs_blocks_the_space_pages_iframe(kind, text, blocked):
    from hfspace.rules.listening import blocks_embedding
    from hfspace.space.writes import Code

    found = blocks_embedding(Code(f"/app/app.{kind}", f"app.{kind}", kind, text))
    assert (found[0] if found else None) == blocked

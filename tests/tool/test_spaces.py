"""spaces.load: what the image runs, read from the Dockerfile as Docker reads it."""

from pathlib import Path

import pytest

from hfspace import spaces

CARD = "---\nsdk: docker\napp_port: 7860\n---\n"


def space(tmp_path: Path, dockerfile: str) -> spaces.Space:
    (tmp_path / "README.md").write_text(CARD)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return spaces.load(tmp_path)


def test_a_final_stage_built_on_an_earlier_one_inherits_its_command_and_env(tmp_path):
    loaded = space(
        tmp_path,
        'FROM python:3.13-slim AS base\nENV GREETING=hi\nCMD ["uvicorn", "app:app"]\nFROM base AS final\nENV EXTRA=1\n',
    )
    assert loaded.command() == ["uvicorn", "app:app"]
    assert loaded.stage_env() == {"GREETING": "hi", "EXTRA": "1"}


@pytest.mark.parametrize("base", ["python:3.13-slim", "--platform=linux/amd64 python:3.13-slim"])
def test_a_final_stage_on_an_image_knows_only_its_own_instructions(tmp_path, base):
    loaded = space(tmp_path, f'FROM python:3.13-slim AS build\nCMD ["no"]\nFROM {base} AS final\nENV ONLY=1\n')
    assert loaded.command() is None  # the image's own CMD: not in this Dockerfile
    assert loaded.stage_env() == {"ONLY": "1"}


def test_a_stage_named_by_index_is_followed_too(tmp_path):
    loaded = space(tmp_path, 'FROM python:3.13-slim\nCMD ["gunicorn"]\nFROM 0\n')
    assert loaded.command() == ["gunicorn"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400), ("0s", None), ("30 minutes", None), ("", None)],
)
def test_durations_read_as_the_card_writes_them(text, seconds):
    assert spaces.parse_duration(text) == seconds


def test_a_bare_number_is_seconds_only_where_asked():
    assert spaces.parse_duration("90") is None
    assert spaces.parse_duration("90", bare_seconds=True) == 90


def test_one_arg_instruction_can_declare_several_names(tmp_path):
    loaded = space(tmp_path, 'FROM python:3.13-slim\nARG A=1 B="two words" C\nENV X=$A Y="$B"\nCMD ["x"]\n')
    assert loaded.declared_args() == {"A", "B", "C"}
    assert loaded.stage_env() == {"X": "1", "Y": "two words"}
    assert loaded.stage_env({"B": "given"}) == {"X": "1", "Y": "given"}

"""`gradcheck new`'s library: a skeleton that names the exercise and validates as written."""

from __future__ import annotations

import pytest

from gradcheck_cli.authoring import SKELETON, new_spec, validate_paths
from gradcheck_cli.errors import UsageError
from gradcheck_cli.spec import load_exercise


def test_the_skeleton_names_the_exercise_everywhere(tmp_path):
    path = new_spec("conv_layer", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text == SKELETON.format(name="conv_layer")
    assert "{name}" not in text and "{{" not in text       # no template field left behind
    exercise = load_exercise(path)
    assert (exercise.name, exercise.function) == ("conv_layer", "grad_conv_layer")
    assert validate_paths([path]).problems == []


def test_new_creates_the_folder_and_refuses_a_file_as_folder(tmp_path):
    assert new_spec("a", tmp_path / "deep" / "er").is_file()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        new_spec("b", tmp_path / "file")

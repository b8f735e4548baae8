"""The authoring library behind `gradcheck new / validate / show`: problems, checks, the view.

The command-line behaviour is tested in tests/commands/test_catalog_commands.py; these tests
look at what the library returns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck_cli.authoring import (CHECKS, SKELETON, Problem, Validation, describe_exercise,
                                     new_spec, validate_paths)
from gradcheck_cli.errors import UsageError
from gradcheck_cli.spec import load_exercise

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "specs_authoring" / "broken"
CATALOG = ROOT / "exercises"


def test_a_problem_reads_like_a_compiler_message():
    p = Problem("ex/relu.yaml", 12, "case 'a' has inputs at a kink", "move them")
    assert str(p) == "ex/relu.yaml:12: error: case 'a' has inputs at a kink → move them"
    w = Problem("ex/relu.yaml", None, "no case is hidden", severity="warning")
    assert str(w) == "ex/relu.yaml: warning: no case is hidden"


def test_warnings_do_not_fail_a_validation():
    result = Validation([Problem("a.yaml", 1, "m", severity="warning")], files=1)
    assert result.ok and result.warnings and not result.errors
    assert result.summary() == "ok: 0 exercises in 1 file checked, 0 errors, 1 warning"


def test_every_registered_check_runs_on_every_exercise(monkeypatch):
    seen = []
    for name in list(CHECKS):
        monkeypatch.setitem(CHECKS, name, lambda drawn, name=name: seen.append(
            (name, drawn.exercise.name)) or [])
    validate_paths([CATALOG / "sigmoid.yaml", CATALOG / "matmul.yaml"])
    assert sorted(seen) == sorted((n, e) for n in CHECKS for e in ("sigmoid", "matmul"))


def test_a_failing_check_names_its_file_and_line_and_others_still_run():
    result = validate_paths([BROKEN / "zero_gradient.yaml", BROKEN / "literal_kink.yaml",
                             CATALOG / "sigmoid.yaml"])
    assert not result.ok
    assert {(Path(p.file).name, p.line) for p in result.errors} == {
        ("zero_gradient.yaml", 1), ("literal_kink.yaml", 7)}
    assert [e.name for e in result.exercises] == ["zero_gradient", "literal_kink", "sigmoid"]


def test_random_cases_are_checked_for_several_seeds(monkeypatch):
    from gradcheck_cli.spec.exercise import Exercise

    seeds = []
    original = Exercise.generate_cases
    monkeypatch.setattr(Exercise, "generate_cases",
                        lambda self, seed: seeds.append(seed) or original(self, seed))
    validate_paths([CATALOG / "sigmoid.yaml"], seed=40)
    assert seeds == [40, 41, 42]


def test_a_problem_shown_by_many_draws_is_reported_once():
    result = validate_paths([BROKEN / "random_ties.yaml"])
    assert len(result.errors) == 1
    assert "(seed 0)" in result.errors[0].message


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


def test_describe_shows_visible_cases_only_and_the_signature():
    exercise = load_exercise(CATALOG / "matmul.yaml")
    text = describe_exercise(exercise)
    assert text.startswith("# Gradient of a matrix product")
    assert "def grad_matmul(x, y, dz):\n    return dx" in text
    assert "## Case `worked-example`" in text
    assert "dL/dx = [[14, 20],\n" in text and "[32, 46]]" in text       # CONTRACTS §2
    assert "random-1" in text and "## Case `random" not in text


def test_describe_a_function_returning_several_gradients(tmp_path):
    spec = tmp_path / "both.yaml"
    spec.write_text("name: both\ntitle: Both factors\nfunction: grad_both(x, y, dz)\n"
                    "forward: x @ y\nwrt: [x, y]\ncases:\n"
                    "  - inputs: {x: [[1, 2]], y: [[3], [4]], dz: [[1]]}\n", encoding="utf-8")
    text = describe_exercise(load_exercise(spec))
    assert "return dx, dy" in text
    assert "dL/dx = [[3, 4]]" in text and "dL/dy = [[1],\n" in text


def test_the_walked_through_exercise_of_the_guide_validates(tmp_path):
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = guide.split("## A complete exercise, walked through", 1)[1]
    spec = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "relu_layer.yaml"
    path.write_text(spec, encoding="utf-8")
    result = validate_paths([path])
    assert result.problems == [] and [e.name for e in result.exercises] == ["relu_layer"]

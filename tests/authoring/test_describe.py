"""`gradcheck show`'s library: the learner's view of an exercise, visible cases only."""

from __future__ import annotations

from pathlib import Path

from gradcheck_cli.authoring import describe_exercise
from gradcheck_cli.spec import load_exercise

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "exercises"


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

"""check(): one function graded on its exercise in the caller's own process, with the same
verdict as `gradcheck run`, and displayed as the same report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import gradcheck_cli
from gradcheck_cli import check
from gradcheck_cli.errors import UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "interactive"
sys.path.insert(0, str(FIXTURES))
import learner  # noqa: E402  (the fixture folder is put on sys.path just above)

GRADCHECK = Path(sys.executable).parent / "gradcheck"


def test_the_contract_names_it_and_it_is_the_same_function():
    from gradcheck_cli import check_vjp, numerical_vjp, ops, vjp  # noqa: F401 - the contract
    assert gradcheck_cli.check is check and "check" in gradcheck_cli.__all__


def test_a_wrong_answer_is_diagnosed_and_scored():
    result = check("softmax", learner.grad_softmax, seed=5)

    assert not result and result.passed is False and result.status == "failed"
    assert (result.score, result.max_score, result.seed) == (0.0, 2.0, 5)
    assert [d.id for d in result.diagnoses] == ["diagonal_jacobian_only"]


def test_the_verdict_is_the_one_gradcheck_run_gives_the_same_file():
    result = check("softmax", learner.grad_softmax, seed=5)
    run = subprocess.run([str(GRADCHECK), "run", str(FIXTURES / "learner.py"), "-e", "softmax",
                          "--seed", "5", "--format", "json"], capture_output=True, text=True,
                         timeout=180)

    ours, theirs = result.to_json()["exercises"][0], json.loads(run.stdout)["exercises"][0]
    for doc in (ours, theirs):
        for case in doc["cases"]:
            case.pop("duration_s")
    assert {k: v for k, v in ours.items() if k != "line"} == \
        {k: v for k, v in theirs.items() if k != "line"}


def test_the_exercise_is_found_from_the_function_name_or_the_function_from_the_caller():
    grad_sigmoid = learner.grad_sigmoid            # as a notebook cell would define it  # noqa

    by_function = check(learner.grad_sigmoid, seed=1)
    by_name = check("sigmoid", seed=1)

    assert by_function.passed and by_function.exercise.name == "sigmoid"
    assert by_name.passed and by_name.score == 1.0


def test_an_exception_shows_the_learners_frames_and_what_they_printed():
    result = check(learner.grad_matmul, seed=2)
    failing = [c for c in result.exercise.cases if c.status == "error"]

    assert result.status == "error" and failing
    assert [(f["function"], f["source"]) for f in failing[0].frames] == [
        ("grad_matmul", "return helper_product(y, dz)"), ("helper_product", "return a @ b")]
    assert failing[0].frames[-1]["file"] == learner.__file__
    softmax = check("softmax", learner.grad_softmax, seed=1)
    assert softmax.exercise.cases[0].stdout == "softmax of (3,) computed\n"


def test_changing_an_input_in_place_is_reported_and_graded_on_copies():
    result = check("tanh", learner.grad_tanh, seed=4)

    assert result.passed
    assert "mutated_input" in {d.id for c in result.exercise.cases for d in c.diagnoses}


def test_a_spec_outside_the_catalog():
    result = check(learner.grad_cube, exercises=FIXTURES / "cube.yaml", seed=0)

    assert result.passed and result.exercise.name == "cube"
    assert [c.name for c in result.exercise.cases] == ["worked-example", "random-1", "random-2"]


def test_it_displays_as_the_report_in_text_in_a_terminal_and_in_html():
    from rich.console import Console

    result = check("softmax", learner.grad_softmax, seed=5)

    text = str(result)
    assert text.startswith("gradcheck ") and "FAIL  softmax  grad_softmax" in text
    assert "diagonal_jacobian_only" in text and "Score 0/2" in text and "seed 5" in text
    assert repr(result) == text
    assert "(show_hidden=True shows them)" in text and "--show-hidden" not in text
    console = Console(record=True, width=100, color_system=None)
    console.print(result)
    rich_text = console.export_text()
    assert "softmax · grad_softmax" in rich_text and "Score 0/2" in rich_text
    html = result._repr_html_()
    assert html.startswith('<pre class="gradcheck-report"') and html.rstrip().endswith("</pre>")
    assert "diagonal_jacobian_only" in html and "<script" not in html


def test_mistakes_in_the_call_say_how_to_call_it():
    with pytest.raises(UsageError, match="unknown exercise or group 'sotfmax'"):
        check("sotfmax", learner.grad_softmax)
    with pytest.raises(UsageError, match="grades one"):
        check("activations", learner.grad_sigmoid)
    with pytest.raises(UsageError, match="the function itself"):
        check("softmax", learner.grad_softmax(1.0, 1.0) if False else 3)
    with pytest.raises(UsageError, match="no exercise asks for a function named 'helper_product'"):
        check(learner.helper_product)
    with pytest.raises(UsageError, match="grad_conv2d is not defined here"):
        check("conv2d")


def test_in_ipython_a_cell_s_frames_are_named_as_ipython_names_them():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import numpy as np\n\ndef grad_matmul(x, y, dz):\n    return y @ dz\n",
                       store_history=True)
        shell.run_cell("from gradcheck_cli import check\nresult = check(grad_matmul, seed=2)",
                       store_history=True)
        result = shell.user_ns["result"]
    finally:
        InteractiveShell.clear_instance()

    frames = [c.frames for c in result.exercise.cases if c.frames][0]
    assert [(f["file"], f["line"], f["source"]) for f in frames] == [
        (f"Cell In[{shell.execution_count - 2}]", 4, "return y @ dz")]
    assert f'File "Cell In[{shell.execution_count - 2}]", line 4, in grad_matmul' in str(
        check_text(result))


def check_text(result) -> str:
    result.verbose = result.show_hidden = True
    return str(result)

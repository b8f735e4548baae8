"""End to end: real learner files, graded with the shipped exercises, get their mistake named.

Every file under tests/submissions/wrong/ says in its docstring which mistake it makes
(``expect: EXERCISE DIAGNOSIS``) and, where it needs them, grading ``options:`` and an
``exercises:`` folder. The files under tests/submissions/right/ are correct in different
styles and must pass with no diagnosis but ``mutated_input``.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gradcheck_cli.grading.diagnoses import DETECTORS
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.selection import select_exercises

ROOT = Path(__file__).resolve().parents[2]
WRONG = sorted((ROOT / "tests" / "submissions" / "wrong").glob("*.py"))
RIGHT = sorted((ROOT / "tests" / "submissions" / "right").glob("*.py"))
SEED = 20240607
# The authored mistakes of the four worked exercises (CONTRACTS §5).
AUTHORED = {"used_function_not_derivative", "diagonal_jacobian_only", "missing_transpose",
            "convolution_not_correlation"}


def header(path: Path) -> dict[str, str]:
    """The ``key: value`` lines of a corpus file's docstring."""
    doc = path.read_text().split('"""')[1]
    return dict(re.findall(r"^(\w+): (.+)$", doc, flags=re.M))


def grade(path: Path):
    """A wrong file on the exercise it names; a right file on every shipped exercise."""
    meta = header(path) if path in WRONG else {}
    names = [meta["expect"].split()[0]] if meta else None
    source = ROOT / meta["exercises"] if "exercises" in meta else None
    opts = dict(re.findall(r"(\w+)=([\d.]+)", meta.get("options", "")))
    options = RunOptions(seed=SEED, timeout=float(opts.get("timeout", 5.0)),
                         memory_mb=int(opts.get("memory", 1024)))
    return grade_submission(path, select_exercises(source, names), options)


@pytest.fixture(scope="module")
def graded():
    """Every corpus file graded once, a few at a time (each has its own worker process)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(WRONG + RIGHT, pool.map(grade, WRONG + RIGHT)))


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_wrong_file_gets_its_mistake_named_first(graded, path):
    exercise, ident = header(path)["expect"].split()
    (result,) = graded[path].exercises
    assert result.name == exercise
    assert [d.id for d in result.diagnoses][:1] == [ident], result.diagnoses
    assert result.diagnoses[0].message and result.diagnoses[0].hint
    every = [*result.diagnoses, *(d for case in result.cases for d in case.diagnoses)]
    assert not [d for d in every if d.id == "internal_error"], "a detector raised"
    if ident == "mutated_input":
        assert result.status == "passed"
    else:
        assert result.status != "passed" and result.score < result.max_score


def test_every_diagnosis_has_a_wrong_file():
    named = {header(path)["expect"].split()[1] for path in WRONG}
    missing = (set(DETECTORS) | AUTHORED) - named
    assert not missing, f"no file under tests/submissions/wrong/ shows {sorted(missing)}"


def test_hidden_cases_of_a_hardcoded_answer_are_named_in_json(graded):
    doc = graded[ROOT / "tests" / "submissions" / "wrong" / "hardcoded.py"].to_json()
    (exercise,) = doc["exercises"]
    assert exercise["diagnoses"][0]["id"] == "hardcoded" and exercise["diagnoses"][0]["hint"]
    visible = [c for c in exercise["cases"] if not c["hidden"]]
    assert visible and all(c["status"] == "passed" for c in visible)
    # Copying the worked example's answer earns nothing, not even that case's share.
    assert exercise["score"] == 0 and all(c["score"] == 0 for c in exercise["cases"])
    # Case-level diagnoses carry id and message only; the hint is at the exercise level.
    for case in exercise["cases"]:
        for d in case["diagnoses"]:
            assert set(d) >= {"id", "message"} and "hint" not in d


def test_exception_message_carries_the_learners_frame(graded):
    (result,) = graded[ROOT / "tests" / "submissions" / "wrong" / "exception.py"].exercises
    d = result.diagnoses[0]
    assert "grad_softmax raised" in d.message and "axis 1" in d.message
    assert "np.sum(e, axis=1, keepdims=True)" in d.message


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: p.stem)
def test_right_file_in_any_style_passes_without_diagnoses(graded, path):
    report = graded[path]
    defined = [e for e in report.exercises if e.status != "missing"]
    assert defined, "the file defines no exercise function"
    for result in defined:
        assert result.status == "passed", (result.name, result.diagnoses, result.error)
        assert {d.id for d in result.diagnoses} <= {"mutated_input"}
    expects_mutation = "mutat" in path.stem
    assert any(d.id == "mutated_input" for e in defined for d in e.diagnoses) == expects_mutation

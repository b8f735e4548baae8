"""The snapshot reports: real submissions graded once per session, for every renderer's tests.

Each is graded with a fixed seed, so a report is the same on every run (apart from durations).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.grading.compare import compare_outputs
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.report.formats import RenderOptions
from gradcheck_cli.report.model import OutputErrors
from gradcheck_cli.selection import select_exercises
from gradcheck_cli.tolerance import Tolerance

ROOT = Path(__file__).resolve().parents[2]
SEED = 3
TEST_SPECS = "tests/grading/specs"
# The tolerance of the hand-built cases of the renderers' tests.
TOL = Tolerance(1e-5, 1e-8)

# snapshot name -> (submission, exercises, exercise folder or None for the catalog, options)
CASES = {
    "sigmoid_used_function": ("wrong/used_function_not_derivative.py", ["sigmoid"], None, {}),
    "matmul_missing_transpose": ("wrong/missing_transpose.py", ["matmul"], None, {}),
    "matmul_transposed": ("wrong/transposed.py", ["matmul"], None, {}),
    "sigmoid_hardcoded": ("wrong/hardcoded.py", ["sigmoid"], None, {}),
    "softmax_exception": ("wrong/exception.py", ["softmax"], None, {}),
    "softmax_close_float16": ("wrong/close_float16.py", ["softmax"], None, {}),
    "sigmoid_wide_not_finite": ("wrong/not_finite_overflow.py", ["sigmoid_wide"], TEST_SPECS,
                                {}),
    "relu_at_kink": ("wrong/at_kink.py", ["relu"], TEST_SPECS, {}),
    "import_error": ("wrong/import_error.py", ["sigmoid", "softmax"], None, {}),
    "conv2d_scaled_verbose": ("wrong/scaled.py", ["conv2d"], None,
                              {"verbose": True, "show_hidden": True}),
    "all_passed_with_warnings": ("right/inplace_mutation.py",
                                 ["conv2d", "matmul", "sigmoid", "softmax"], None, {}),
}


def judged(got, expected, numerical=None, tol: Tolerance = TOL) -> OutputErrors | None:
    """The grader's per-element errors of one output, as a report receives them."""
    numerical = expected if numerical is None else numerical
    [cmp] = compare_outputs((np.asarray(got),), (np.asarray(expected, dtype=float),),
                            (np.asarray(numerical, dtype=float),), tol)
    return cmp.errors


def _grade(name: str):
    submission, names, folder, opts = CASES[name]
    exercises = select_exercises(ROOT / folder if folder else None, names)
    path = ROOT / "tests" / "submissions" / submission
    report = grade_submission(path, exercises, RunOptions(seed=SEED))
    return report, RenderOptions(**opts)


@pytest.fixture(scope="session")
def snapshot_reports() -> dict:
    """name -> (report, render options), graded a few at a time (each in its own worker)."""
    names = sorted(CASES)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(names, pool.map(_grade, names)))

"""The plain report of several real failures, compared line by line with stored snapshots.

The snapshots under tests/report/snapshots/ are what a learner sees. After an intended change
of the report (or of the shipped exercises' cases), regenerate them and review the diff:

    GRADCHECK_UPDATE_SNAPSHOTS=1 pytest tests/report/test_plain_snapshots.py

Reports are deterministic: a fixed seed, paths relative to the repository, no durations.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.report import formats
from gradcheck_cli.selection import select_exercises

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("GRADCHECK_UPDATE_SNAPSHOTS") == "1"
SEED = 3
TEST_SPECS = "tests/grading/specs"
# The brief promise of the default report: a failing exercise fits on one screen.
MAX_LINES_PER_EXERCISE = 40

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


def render(name: str) -> str:
    submission, names, folder, opts = CASES[name]
    exercises = select_exercises(ROOT / folder if folder else None, names)
    path = ROOT / "tests" / "submissions" / submission
    report = grade_submission(path, exercises, RunOptions(seed=SEED))
    out = io.StringIO()
    formats.get("plain").write([report], out, formats.RenderOptions(**opts))
    # Paths are shown relative to the repository, as a learner there would type them.
    return out.getvalue().replace(str(ROOT) + os.sep, "")


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Every report rendered once, a few at a time (each grading has its own worker process)."""
    names = sorted(CASES)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(names, pool.map(render, names)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_report_matches_snapshot(rendered, name):
    text = rendered[name]
    stored = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not stored.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {stored.name}; run with GRADCHECK_UPDATE_SNAPSHOTS=1")
        stored.parent.mkdir(exist_ok=True)
        stored.write_text(text)
    assert text.splitlines() == stored.read_text().splitlines()


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if not case[3]))
def test_a_failing_exercise_fits_on_one_screen(rendered, name):
    blocks: list[list[str]] = []
    for line in rendered[name].splitlines()[2:]:
        if line[:10].strip():          # an exercise's status line starts a block
            blocks.append([])
        if blocks:
            blocks[-1].append(line)
    assert blocks and max(len(b) for b in blocks) <= MAX_LINES_PER_EXERCISE

"""What a batch shares between its submissions changes no verdict and no diagnosis.

A batch computes each case and its references once; an answer already diagnosed on a case (the
same classic mistake written the same way by several learners) gets copies of the same
diagnoses; the detectors' yes/no comparison is the report's comparison without its details.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck_cli import batch
from gradcheck_cli.grading import verdict
from gradcheck_cli.grading.compare import compare, within
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.selection import select_exercises
from gradcheck_cli.tolerance import Tolerance

ROOT = Path(__file__).resolve().parents[2]
MISTAKES = (ROOT / "examples" / "mistakes.py").read_text()
PROBED = '''import numpy as np

def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s) + 0.01 * dz ** 2
'''

finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 6), elements=finite_or_not),
       st.data(), st.sampled_from([np.float64, np.float32, np.int64]),
       st.floats(0, 1e-2), st.floats(0, 1e-3))
def test_the_detectors_comparison_agrees_with_the_reports(expected, data, dtype, rtol, atol):
    noise = data.draw(hnp.arrays(np.float64, expected.shape, elements=finite_or_not))
    with np.errstate(all="ignore"):
        got = np.where(np.isfinite(noise), expected + 1e-9 * noise, noise).astype(dtype)
    tol = Tolerance(rtol, atol)
    assert within(got, expected, tol) == compare(got, expected, tol).passed
    assert within(expected, expected, tol) == compare(expected, expected, tol).passed
    assert not within(got.reshape(-1)[:-1], expected, tol) or expected.size == 0


def _diagnoses(report):
    return [[(d.id, d.message, d.hint, d.cases) for d in ex.diagnoses] for ex in report.exercises]


@pytest.fixture(scope="module")
def exercises():
    return select_exercises(None, ["sigmoid", "softmax", "matmul", "conv2d"])


def test_learners_with_the_same_mistake_get_the_diagnoses_each_would_get_alone(
        tmp_path, exercises, monkeypatch):
    for name in ("ann", "bob", "cy"):
        (tmp_path / f"{name}.py").write_text(MISTAKES)
    for name in ("dee", "eve"):
        (tmp_path / f"{name}.py").write_text(PROBED)
    options = RunOptions(seed=11)
    alone = {p.stem: grade_submission(p, exercises, options)
             for p in sorted(tmp_path.glob("*.py"))}
    judged = []
    real = verdict.diagnose
    monkeypatch.setattr(verdict, "diagnose", lambda ev: judged.append(ev) or real(ev))
    graded = batch.grade_batch(batch.discover([tmp_path]), exercises, options, jobs=1)
    for g in graded:
        assert _diagnoses(g.report) == _diagnoses(alone[Path(g.submission.label).stem])
        assert g.report.score == alone[Path(g.submission.label).stem].score
    failing_outputs = sum(1 for ex in alone["ann"].exercises for c in ex.cases
                          if c.status == "failed" for k in range(len(c.expected))
                          if c.errors[k] is not None and c.errors[k].mismatched.any())
    (sigmoid,) = [ex for ex in alone["dee"].exercises if ex.status != "missing"]
    assert [d.id for d in sigmoid.diagnoses] == ["not_linear_in_dz"]
    probed = sum(1 for c in sigmoid.cases if c.status == "failed")
    assert probed > 0 and failing_outputs > 0
    # The three copies are diagnosed once; an answer only the probes name (they call the
    # learner's function), once per learner.
    assert len(judged) == failing_outputs + 2 * probed

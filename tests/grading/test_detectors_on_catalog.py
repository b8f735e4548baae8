"""No shipped detector raises on the shipped catalog: on every exercise's cases, given the right
answer or any of the exercise's authored mistakes, each detector answers or stays silent.

A detector that raises would show as an ``internal_error`` line in a learner's report (see
test_diagnoses.py); this keeps the shipped ones from ever doing so on the shipped exercises.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.grading.alternatives import Alternatives
from gradcheck_cli.grading.compare import closeness
from gradcheck_cli.grading.diagnoses import (INTERNAL_ERROR, Evidence, ExerciseEvidence,
                                             diagnose, diagnose_exercise)
from gradcheck_cli.report.model import CaseResult
from gradcheck_cli.spec import default_catalog_dir, load_exercises

CATALOG = load_exercises([default_catalog_dir()])
SEED = 11


def internal_errors(found) -> list[str]:
    return [d.message for d in found if d.id == INTERNAL_ERROR]


@pytest.mark.parametrize("exercise", CATALOG, ids=lambda ex: ex.name)
def test_detectors_answer_or_stay_silent_on_every_case(exercise):
    tolerance = exercise.tolerance
    close = closeness(tolerance)
    results = []
    for case in exercise.generate_cases(SEED):
        expected = exercise.gradients(case)
        alternatives = Alternatives.for_case(exercise, case)
        answers = {"right": expected}
        for mistake in exercise.mistakes:
            value = mistake.evaluate(case)
            if value is not None:
                k = exercise.wrt.index(mistake.wrt)
                answers[mistake.id] = tuple(value if i == k else e for i, e in enumerate(expected))
        for label, got in answers.items():
            for k, name in enumerate(exercise.wrt):
                found = diagnose(Evidence(
                    got=np.asarray(got[k]), expected=np.asarray(expected[k]),
                    output_name=f"d{name}", close=close, alternatives=alternatives, output=k,
                    input_name=name, function=exercise.function, tolerance=tolerance))
                assert not internal_errors(found), (case.name, label, found)
            results.append(CaseResult(case.name, case.hidden,
                                      "passed" if label == "right" else "failed",
                                      inputs=dict(case.inputs), dz=case.dz, got=tuple(got),
                                      expected=tuple(expected)))
    found = diagnose_exercise(ExerciseEvidence(exercise.function, results, close))
    assert not internal_errors(found), found

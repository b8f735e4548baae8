"""Each diagnosis unit names its mistake, and only its mistake, on synthetic evidence.

The forward is z = sigmoid(x) * y, whose gradients are derived by hand here (with
s = sigmoid(x): dx = dz * y * s * (1 - s), dy = dz * s); the engine only supplies the
alternatives, so a wrong engine would show up as a missed diagnosis.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.engine import ops
from gradcheck_cli.grading.alternatives import Alternatives
from gradcheck_cli.grading.compare import compare
from gradcheck_cli.grading.diagnoses import (DETECTORS, Detector, Evidence, ExerciseEvidence,
                                             Failure, describe_failure, diagnose,
                                             diagnose_exercise, rank)
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.report import formats
from gradcheck_cli.report.model import CaseResult, Diagnosis
from gradcheck_cli.selection import select_exercises
from gradcheck_cli.tolerance import Tolerance

ROOT = Path(__file__).resolve().parents[2]

TOL = Tolerance(rtol=1e-4, atol=1e-6)
RNG = np.random.default_rng(7)
X = RNG.standard_normal((2, 3))
Y = RNG.standard_normal((2, 3))
DZ = RNG.standard_normal((2, 3))
S = 1.0 / (1.0 + np.exp(-X))
DX = DZ * Y * S * (1 - S)
DY = DZ * S


def forward(x, y):
    return ops.mul(ops.sigmoid(x), y)


@dataclass
class FakeMistake:
    id: str
    gradient: object
    message: str = "authored message"
    hint: str = "authored hint"
    wrt: str = "x"


def evidence(got, *, mistakes=(), kinks=(), expected=DX) -> Evidence:
    alt = Alternatives(forward, ("x", "y"), (X, Y), DZ, (0,), mistakes=mistakes)
    return Evidence(got=np.asarray(got), expected=expected, output_name="dx",
                    close=lambda a, b: compare(a, b, TOL).passed, alternatives=alt,
                    input_name="x", function="grad_f", tolerance=TOL, kinks=kinks)


def ids(found: list[Diagnosis]) -> list[str]:
    return [d.id for d in found]


# The generic CONTRACTS §5 ids and a learner result that shows each mistake, derived by hand.
WRONG = {
    "sign_flipped": -DX,
    "scaled": 2 * DX,
    "missing_upstream_gradient": Y * S * (1 - S),
    "returned_forward": S * Y,
    "gradient_of_other_input": DY,
    "transposed": DX.T,
    "not_finite": np.where(DX > 0, np.nan, DX),
    "shape_mismatch": DX[:, :2],
    "close": DX * (1 + 1e-3),
}


@pytest.mark.parametrize("ident", sorted(WRONG))
def test_each_mistake_is_named_first(ident):
    found = diagnose(evidence(WRONG[ident]))
    assert found and found[0].id == ident, ids(found)
    assert found[0].message and found[0].hint


def test_a_right_answer_or_noise_gets_no_diagnosis():
    assert diagnose(evidence(DX)) == []
    noise = RNG.standard_normal(DX.shape)
    assert [d for d in diagnose(evidence(noise)) if d.severity == "error"] == []


def test_scaled_says_the_factor():
    assert "2 × the gradient of x" in diagnose(evidence(2 * DX))[0].message
    found = diagnose(evidence(DX / 3))[0]
    assert found.id == "scaled" and "1/3 ×" in found.message
    # 3 is an axis length of the gradient: the hint suspects a mean for a sum.
    assert "mean" in found.hint


def test_minus_one_is_a_sign_flip_not_a_scale():
    assert ids(diagnose(evidence(-DX))) == ["sign_flipped"]


def test_transposed_values_come_before_the_shape():
    found = ids(diagnose(evidence(DX.T)))
    assert found[:2] == ["transposed", "shape_mismatch"]


def test_transposed_shape_alone_is_named():
    found = diagnose(evidence(RNG.standard_normal((3, 2))))
    assert found[0].id == "transposed" and "transposed shape (3, 2)" in found[0].message


def test_full_jacobian_shape_gets_its_own_hint():
    jacobian = np.zeros((2, 3, 2, 3))
    found = diagnose(evidence(jacobian))
    assert ids(found) == ["shape_mismatch"] and "Jacobian" in found[0].hint


def test_not_finite_counts_the_bad_elements():
    got = DX.copy()
    got[0, 1] = np.inf
    found = diagnose(evidence(got))[0]
    assert found.id == "not_finite" and found.message.startswith("1 element of 6")
    assert "Inf" in found.message


def test_close_is_soft_and_blames_float32_only_for_float32():
    f64 = diagnose(evidence(DX * (1 + 1e-3)))[0]
    f32 = diagnose(evidence((DX * (1 + 1e-3)).astype(np.float32)))[0]
    assert f64.id == f32.id == "close" and f64.severity == "info"
    assert "float32" in f32.hint and "float32" not in f64.hint
    # Far beyond the looser tolerance it is not "close".
    assert "close" not in ids(diagnose(evidence(DX * 1.5)))


def test_a_case_at_a_kink_is_flagged_as_info():
    found = diagnose(evidence(DX * 1.5, kinks=("relu at 0",)))
    kink = [d for d in found if d.id == "at_kink"]
    assert kink and kink[0].severity == "info" and "relu at 0" in kink[0].message


def test_authored_mistake_is_most_specific_and_a_broken_one_hides_no_other():
    used_s = FakeMistake("used_function_not_derivative",
                         lambda x, y, dz: ops.mul(ops.mul(dz, y), ops.sigmoid(x)))
    broken = FakeMistake("broken", lambda x, y, dz: 1 / 0)
    found = diagnose(evidence(DZ * Y * S, mistakes=[broken, used_s]))
    assert found[0].id == "used_function_not_derivative"
    assert (found[0].message, found[0].hint) == ("authored message", "authored hint")
    # The formula that raised is a bug, shown last: it names the mistake and the error.
    assert found[-1].id == "internal_error" and found[-1].severity == "warning"
    assert "mistake 'broken': ZeroDivisionError" in found[-1].message


def test_an_authored_mistake_whose_shapes_do_not_fit_the_case_is_no_error():
    # An OpError from the engine means the mistake cannot apply here: nothing to report.
    misfit = FakeMistake("misfit", lambda x, y, dz: ops.matmul(x, y))
    assert ids(diagnose(evidence(-DX, mistakes=[misfit]))) == ["sign_flipped"]


def test_authored_mistake_for_another_input_is_ignored():
    other = FakeMistake("other", lambda x, y, dz: dz * y * 0 + (-DX), wrt="y")
    assert "other" not in ids(diagnose(evidence(-DX, mistakes=[other])))


def explode(evidence):
    raise RuntimeError("detector bug")


def test_a_broken_detector_is_a_line_in_the_report_not_silence(monkeypatch):
    monkeypatch.setitem(DETECTORS, "broken", Detector("broken", "output", explode, 1000))
    found = diagnose(evidence(-DX))
    # The learner's mistake still comes first; the bug is shown after it, as in pytest.
    assert ids(found) == ["sign_flipped", "internal_error"]
    assert found[1].message == "internal error in detector broken: RuntimeError: detector bug"
    assert found[1].severity == "warning" and "bug in gradcheck" in found[1].hint


def test_every_broken_detector_gets_its_own_line(monkeypatch):
    monkeypatch.setitem(DETECTORS, "broken", Detector("broken", "output", explode, 1000))
    monkeypatch.setitem(DETECTORS, "also_broken", Detector("also_broken", "output", explode, 1))
    found = [d.message for d in diagnose(evidence(-DX)) if d.id == "internal_error"]
    assert len(found) == 2 and any("also_broken" in m for m in found)


def test_a_broken_exercise_level_detector_is_shown(monkeypatch):
    monkeypatch.setitem(DETECTORS, "broken", Detector("broken", "exercise", explode, 1000))
    found = exercise([case("a", False, "failed", [1, 2], [2, 4], [1, 2])])
    assert ids(found) == ["internal_error"] and "detector broken" in found[0].message


def test_a_broken_wording_keeps_the_workers_message_and_says_why(monkeypatch):
    monkeypatch.setitem(DETECTORS, "timeout", Detector("timeout", "reported", explode, 96))
    d = describe_failure(Failure("timeout", "grad_f", "grad_f did not return within 1 s"))
    assert (d.id, d.message) == ("timeout", "grad_f did not return within 1 s")
    assert "internal error in detector timeout: RuntimeError: detector bug" in d.hint


def test_a_broken_detector_is_visible_in_the_graded_report(monkeypatch):
    monkeypatch.setitem(DETECTORS, "broken", Detector("broken", "output", explode, 1000))
    [sigmoid] = select_exercises(None, ["sigmoid"])
    report = grade_submission(ROOT / "tests" / "submissions" / "wrong" / "sign_flipped.py",
                              [sigmoid], RunOptions(seed=1))
    out = io.StringIO()
    formats.get("plain").write([report], out, formats.RenderOptions())
    assert "internal_error: internal error in detector broken: RuntimeError" in out.getvalue()
    first = report.to_json()["exercises"][0]
    assert [d["id"] for d in first["diagnoses"]] == ["sign_flipped", "internal_error"]


def test_detectors_without_engine_alternatives_still_work():
    ev = Evidence(got=-DX, expected=DX, output_name="dx",
                  close=lambda a, b: compare(a, b, TOL).passed)
    assert ids(diagnose(ev)) == ["sign_flipped"]


def test_rank_puts_authored_first_and_soft_notes_last():
    ranked = rank([Diagnosis("close", "m", severity="info"), Diagnosis("scaled", "m"),
                   Diagnosis("missing_transpose", "m"), Diagnosis("scaled", "dup")])
    assert ids(ranked) == ["missing_transpose", "scaled", "close"]


def test_every_contract_id_is_registered():
    generic = {"shape_mismatch", "wrong_type", "not_finite", "transposed", "sign_flipped",
               "scaled", "missing_upstream_gradient", "returned_forward",
               "gradient_of_other_input", "hardcoded", "mutated_input", "exception", "timeout",
               "memory_limit", "crashed", "import_error", "missing_function"}
    assert generic <= set(DETECTORS)


# ---------------------------------------------------------------------------- reported


REPORTED = sorted(d.id for d in DETECTORS.values() if d.level == "reported")


@pytest.mark.parametrize("ident", REPORTED)
def test_reported_failures_are_worded_with_a_hint(ident):
    frames = [{"file": "mine.py", "line": 12, "function": "grad_f", "source": "return a / b"}]
    d = describe_failure(Failure(ident, "grad_f", "ZeroDivisionError: division by zero", frames,
                                 timeout=0.5, memory_mb=256, argument="x"))
    assert d.id == ident and d.message and d.hint


def test_reported_messages_carry_the_details():
    frames = [{"file": "mine.py", "line": 12, "function": "grad_f", "source": "return a / b"}]
    exc = describe_failure(Failure("exception", "grad_f", "ZeroDivisionError: division by zero",
                                   frames))
    assert "ZeroDivisionError" in exc.message and "line 12" in exc.message
    assert "return a / b" in exc.message
    assert "0.5 s" in describe_failure(Failure("timeout", "grad_f", timeout=0.5)).message
    mutated = describe_failure(Failure("mutated_input", "grad_f", argument="dz"))
    assert mutated.severity == "warning" and "dz" in mutated.message


def test_an_unknown_reported_id_keeps_the_workers_message():
    d = describe_failure(Failure("something_new", "grad_f", "it broke"))
    assert (d.id, d.message) == ("something_new", "it broke")


# ---------------------------------------------------------------------------- exercise level


def case(name, hidden, status, x, got, expected):
    x = np.asarray(x, dtype=float)
    return CaseResult(name, hidden, status, inputs={"x": x}, dz=np.ones_like(x),
                      got=(np.asarray(got, dtype=float),),
                      expected=(np.asarray(expected, dtype=float),))


def exercise(cases):
    return diagnose_exercise(ExerciseEvidence("grad_f", cases,
                                              lambda a, b: compare(a, b, TOL).passed))


def test_hardcoded_answer_right_on_the_visible_case_only():
    answer = [0.25, 0.5]
    found = exercise([case("worked-example", False, "passed", [1, 2], answer, answer),
                      case("random-1", True, "failed", [3, 4, 5], answer, [1, 2, 3])])
    assert ids(found) == ["hardcoded"]
    assert "right on case 'worked-example'" in found[0].message


def test_hardcoded_same_output_for_different_inputs():
    found = exercise([case("random-1", True, "failed", [1, 2], [9, 9], [1, 2]),
                      case("random-2", True, "failed", [3, 4], [9, 9], [3, 4])])
    assert ids(found) == ["hardcoded"]


def test_answers_that_follow_the_inputs_are_not_hardcoded():
    # Wrong (doubled), but computed from the inputs.
    assert exercise([case("a", False, "failed", [1, 2], [2, 4], [1, 2]),
                     case("b", True, "failed", [3, 4], [6, 8], [3, 4])]) == []
    # The same answer for the same inputs is no evidence at all.
    assert exercise([case("a", False, "failed", [1, 2], [7, 7], [1, 2]),
                     case("b", True, "failed", [1, 2], [7, 7], [1, 2])]) == []


def test_the_same_wrong_answer_where_the_gradient_is_the_same_is_not_hardcoded():
    # dL/dx of x @ y does not depend on x: cases that differ only in x share their gradient.
    assert exercise([case("a", False, "failed", [1, 2], [7, 7], [5, 6]),
                     case("b", True, "failed", [3, 4], [7, 7], [5, 6])]) == []

"""Verdicts a teacher can sign: the comparison holes and scoring problems of issue "verdicts"
(an Inf in the gradient, tiny gradients, small elements, complex answers), each shown failing
the way a learner would hit it."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import check_vjp, ops


def test_an_inf_in_the_gradient_does_not_let_every_element_pass():
    result = check_vjp(ops.sqrt, lambda x, dz: np.array([5.0, -100.0, 42.0]),
                       (np.array([0.0, 1.0, 4.0]),), np.ones(3))
    assert not result.passed


def test_zeros_fail_where_the_whole_gradient_is_tiny():
    x = np.array([20.0, 21.5, 19.0])
    zeros = check_vjp(ops.sigmoid, lambda x, dz: np.zeros_like(x), (x,), np.ones(3))
    assert not zeros.passed
    assert "zero_gradient" in {d.id for d in zeros.diagnoses}
    x = -18.0 + np.linspace(0, 1, 4)
    assert not check_vjp(ops.exp, lambda x, dz: np.zeros_like(x), (x,), np.ones(4)).passed
    assert check_vjp(ops.exp, lambda x, dz: dz * np.exp(x), (x,), np.ones(4)).passed


def test_a_sign_flipped_on_the_small_elements_fails():
    x = np.array([0.0, 6.0, 8.0, -7.0])           # sigmoid' is 0.25, 2.5e-3, 3.4e-4, 9e-4

    def grad(x, dz):
        s = 1 / (1 + np.exp(-x))
        return np.where(np.abs(x) > 1, -1, 1) * dz * s * (1 - s)

    assert not check_vjp(ops.sigmoid, grad, (x,), np.ones(4)).passed


def test_a_complex_answer_is_the_wrong_type():
    def grad(x, dz):
        return (dz * np.exp(x)).astype(complex) + 1j

    result = check_vjp(ops.exp, grad, (np.array([0.5, 1.0]),), np.ones(2))
    assert not result.passed and result.diagnoses[0].id == "wrong_type"


def test_no_scaled_on_a_one_element_output():
    # Any wrong number is a multiple of a one-element gradient.
    result = check_vjp(lambda w: ops.sum(ops.exp(w) * 2.0), lambda w, dz: -1.676 * 2 * np.exp(w),
                       (np.array(0.3),), np.array(1.0))
    assert not result.passed and "scaled" not in {d.id for d in result.diagnoses}


def _case(name, status, ids, got=True):
    from gradcheck_cli.report.model import CaseResult, Diagnosis

    return CaseResult(name, name != "worked-example", status,
                      diagnoses=[Diagnosis(i, f"it is {i}") for i in ids],
                      got=(np.zeros(1),) if got else None)


def test_an_exercise_states_what_holds_on_every_failing_case_not_the_first_cases_story():
    from gradcheck_cli.grading.diagnoses.summary import summarize

    # A sign error on a scalar worked example also looks like the forward output there.
    cases = [_case("worked-example", "failed", ["returned_forward", "sign_flipped"]),
             _case("random-1", "failed", ["sign_flipped"]),
             _case("random-2", "failed", ["sign_flipped"])]
    assert [d.id for d in summarize(cases, [])] == ["sign_flipped"]


def test_the_exercises_own_mistake_silences_the_generic_words_for_the_same_output_only():
    from gradcheck_cli.grading.diagnoses.summary import summarize
    from gradcheck_cli.report.model import CaseResult, Diagnosis

    def case(name):
        said = [Diagnosis("bias_not_summed_here", "Your db is dz itself", output="db"),
                Diagnosis("returned_upstream", "Your db is dz", output="db"),
                Diagnosis("transposed", "Your dW is transposed", output="dW")]
        return CaseResult(name, name != "worked-example", "failed", diagnoses=said,
                          got=(np.zeros(1),))

    found = summarize([case("worked-example"), case("random-1")], [])
    assert sorted(d.id for d in found) == ["bias_not_summed_here", "transposed"]


def test_a_diagnosis_true_on_some_cases_only_says_which():
    from gradcheck_cli.grading.diagnoses.summary import summarize

    cases = [_case("worked-example", "failed", ["transposed"]),
             _case("random-1", "failed", []),
             _case("random-2", "error", ["exception"], got=False)]
    found = summarize(cases, [])
    assert [(d.id, d.cases) for d in found] == [("exception", ["random-2"]),
                                                 ("transposed", ["worked-example"])]
    assert found[1].message.startswith("On case 'worked-example' only: ")
    assert found[1].to_json()["cases"] == ["worked-example"]


def _graded(gradcheck, tmp_path, source, *exercises, seed=0, extra=()):
    import json

    path = tmp_path / "grads.py"
    path.write_text("import numpy as np\n\n" + source)
    selection = [arg for name in exercises for arg in ("-e", name)]
    run = gradcheck("run", path, *selection, "--seed", seed, "--format", "json", *extra)
    assert run.code == 1, run.text
    return {e["name"]: e for e in json.loads(run.out)["exercises"]}


def test_zeros_are_named_zeros_on_every_case_whatever_the_shapes(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
def grad_softmax(x, dz):
    return np.zeros_like(x)

def grad_sigmoid(x, dz):
    return np.zeros_like(x)
""", "softmax", "sigmoid")
    for name in ("softmax", "sigmoid"):
        ids = [d["id"] for d in found[name]["diagnoses"]]
        # Not "you forgot dz": zeros are no multiple of the local derivative.
        assert ids == ["zero_gradient"], (name, ids)


def test_a_sign_error_is_told_as_a_sign_error_not_the_worked_examples_coincidences(
        gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
def grad_batched_matmul(x, y, dz):
    return -(dz @ np.swapaxes(y, 1, 2)), np.swapaxes(x, 1, 2) @ dz

def grad_sigmoid(x, dz):
    s = 1 / (1 + np.exp(-x))
    return -dz * s * (1 - s)
""", "batched_matmul", "sigmoid")
    for name in ("batched_matmul", "sigmoid"):
        assert [d["id"] for d in found[name]["diagnoses"]] == ["sign_flipped"], name


def test_the_worked_example_copied_for_its_shapes_earns_nothing(gradcheck, tmp_path):
    """Numbers from `gradcheck show`, returned when the shapes are the worked example's (zeros
    otherwise), pass that case: the same inputs with another dz show they were not computed."""
    found = _graded(gradcheck, tmp_path, """
def grad_matmul(x, y, dz):
    if x.shape == (2, 2):
        return np.array([[14.0, 20.0], [32.0, 46.0]])
    return np.zeros_like(x)

def grad_conv2d(x, w, dz):
    if w.shape == (2, 2):
        return np.array([[96.0, 114.0], [114.0, 132.0]])
    return np.zeros_like(w)
""", "matmul", "conv2d")
    for name in ("matmul", "conv2d"):
        worked = next(c for c in found[name]["cases"] if c["name"] == "worked-example")
        assert worked["status"] == "passed", (name, worked)    # the numbers are right there
        assert found[name]["score"] == 0.0, (name, found[name]["score"])
        assert [d["id"] for d in found[name]["diagnoses"]][:1] == ["hardcoded"], name


@pytest.mark.parametrize("elsewhere", ["raise ValueError('no')", "return 'x'",
                                       "import os; os._exit(3)"])
def test_copied_numbers_that_guard_against_the_check_still_earn_nothing(gradcheck, tmp_path,
                                                                       elsewhere):
    """Right on the worked example's very numbers, and raising, returning junk or crashing
    on the same shapes with any other numbers (the check's call): not computed either."""
    found = _graded(gradcheck, tmp_path, f"""
def grad_matmul(x, y, dz):
    if x.shape == (2, 2):
        if np.array_equal(dz, [[1, 2], [3, 4]]) and np.array_equal(x, [[3, 4], [5, 6]]):
            return np.array([[14.0, 20.0], [32.0, 46.0]])
        {elsewhere}
    return np.zeros_like(x)
""", "matmul")
    worked = next(c for c in found["matmul"]["cases"] if c["name"] == "worked-example")
    assert worked["status"] == "passed"
    assert found["matmul"]["score"] == 0.0
    assert [d["id"] for d in found["matmul"]["diagnoses"]][:1] == ["hardcoded"]


def test_a_mistake_the_worked_examples_whole_numbers_hide_loses_that_case_too(
        gradcheck, tmp_path):
    """An integer accumulator is exact on the worked example's whole numbers: the case passes,
    but not with another dz, so it earns nothing, and the mistake keeps its own name."""
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / "submissions" / "wrong" / "integer_result.py"
    found = _graded(gradcheck, tmp_path, corpus.read_text(), "conv2d")
    assert found["conv2d"]["score"] == 0.0
    assert [d["id"] for d in found["conv2d"]["diagnoses"]][:1] == ["integer_result"]


def test_a_right_answer_keeps_its_points_case_by_case(gradcheck, tmp_path):
    """The check above asks only of visible cases that passed beside failing ones; a right
    answer that fails elsewhere for its own reason keeps the visible case's points."""
    found = _graded(gradcheck, tmp_path, """
def grad_matmul(x, y, dz):
    if x.shape[0] != x.shape[1]:
        raise ValueError("only square inputs")
    return dz @ y.T
""", "matmul")
    matmul = found["matmul"]
    worked = next(c for c in matmul["cases"] if c["name"] == "worked-example")
    assert worked["status"] == "passed" and worked["score"] > 0, worked
    assert matmul["score"] == worked["score"]


def test_a_function_that_calls_sys_exit_is_told_so_in_plain_words(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
import sys

def grad_sigmoid(x, dz):
    sys.exit(0)
""", "sigmoid")
    [diagnosis] = found["sigmoid"]["diagnoses"]
    assert diagnosis["id"] == "exception"
    assert diagnosis["message"].startswith("grad_sigmoid called sys.exit(0) at line "), diagnosis
    assert "raised" not in diagnosis["message"] and "sys.exit" in diagnosis["hint"]


def test_a_named_mistake_is_not_also_called_close_nor_worded_with_op_names(gradcheck, tmp_path):
    """layernorm's dx without the variance's path: its own mistake, named; not also 'close'
    on the case where the two nearly agree (which would advise a rounding fix), and a path is
    named as the formula writes it, not by the engine's op ('sub')."""
    found = _graded(gradcheck, tmp_path, """
def grad_layernorm(x, gamma, beta, dz):
    mu = x.mean(axis=-1, keepdims=True)
    std = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(axis=-1, keepdims=True)) / std
    return dx, (dz * xhat).sum(axis=0), dz.sum(axis=0)
""", "layernorm", seed=3)
    diagnoses = found["layernorm"]["diagnoses"]
    ids = [d["id"] for d in diagnoses]
    assert ids[0] == "variance_treated_as_constant" and "close" not in ids, ids
    assert not any(" through sub " in d["message"] for d in diagnoses), diagnoses


def test_a_visible_case_keeps_its_points_when_the_second_call_cannot_be_made(gradcheck,
                                                                              tmp_path):
    """A function that hangs on the hidden cases' 2-D inputs has timed out: it is not called
    again, and the worked example it got right keeps its points."""
    import json

    path = tmp_path / "grads.py"
    path.write_text("import numpy as np\n\ndef grad_relu(x, dz):\n    if x.ndim > 1:\n"
                    "        while True:\n            pass\n    return dz * (x > 0)\n")
    run = gradcheck("run", path, "-e", "relu", "--timeout", "1", "--seed", "0",
                    "--format", "json")
    [relu] = json.loads(run.out)["exercises"]
    worked = next(c for c in relu["cases"] if c["name"] == "worked-example")
    assert worked["status"] == "passed" and worked["score"] > 0, relu["cases"]
    assert relu["score"] == worked["score"]


def test_a_bias_gradient_summed_with_keepdims_is_told_to_drop_it(gradcheck, tmp_path):
    """The axis is right, the kept axis is not: not "sums over axis 0; should sum over 0"."""
    found = _graded(gradcheck, tmp_path, """
def grad_affine(x, W, b, dz):
    return dz @ W.T, x.T @ dz, np.sum(dz, axis=0, keepdims=True)
""", "affine")
    [diagnosis] = found["affine"]["diagnoses"]
    assert diagnosis["id"] == "shape_mismatch"
    assert "sums over the right axis (0) but keeps it" in diagnosis["message"]
    assert "Drop keepdims=True" in diagnosis["hint"]


def test_a_factor_that_changes_from_case_to_case_is_not_stated_as_one_constant(gradcheck,
                                                                               tmp_path):
    """dloss left out: each case is dloss's own multiple, so no single number is the answer;
    and the upstream gradient is called dloss, as the exercise calls it."""
    found = _graded(gradcheck, tmp_path, """
def grad_softmax_cross_entropy(logits, labels, dloss):
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return (p - labels) / logits.shape[0]
""", "softmax_cross_entropy", seed=2)
    by_id = {d["id"]: d for d in found["softmax_cross_entropy"]["diagnoses"]}
    assert "with dloss all ones" in by_id["missing_upstream_gradient"]["message"]
    assert "dz" not in by_id["missing_upstream_gradient"]["message"]
    assert "by a factor that changes from case to case" in by_id["scaled"]["message"]


def test_a_scalar_upstream_gradient_returned_for_an_array_says_the_shape(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, "def grad_sum(x, dy):\n    return dy\n", "sum_all")
    [diagnosis] = found["sum_all"]["diagnoses"]
    assert diagnosis["id"] == "returned_upstream" and "dy itself" in diagnosis["message"]
    assert "where the gradient of x has shape" in diagnosis["message"]


def test_an_answer_computed_in_float32_and_cast_back_is_told_so(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
def grad_tanh(x, dz):
    x32, dz32 = x.astype(np.float32), dz.astype(np.float32)
    return (dz32 * (1 - np.tanh(x32) ** 2)).astype(np.float64)
""", "tanh")
    [close] = found["tanh"]["diagnoses"]
    assert close["id"] == "close" and "computed in float32" in close["hint"]


def test_gradients_returned_as_a_dict_are_told_the_tuple_to_return(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
def grad_affine(x, W, b, dz):
    return {"x": dz @ W.T, "W": x.T @ dz, "b": dz.sum(0)}
""", "affine")
    [wrong] = found["affine"]["diagnoses"]
    assert wrong["id"] == "wrong_type" and "\n" not in wrong["message"]
    assert "`return dx, dW, db`" in wrong["hint"]


def test_an_axis_of_length_one_added_is_not_told_about_broadcasting(gradcheck, tmp_path):
    found = _graded(gradcheck, tmp_path, """
def grad_sigmoid(x, dz):
    s = 1 / (1 + np.exp(-x))
    return (dz * s * (1 - s))[None, :]
""", "sigmoid")
    [mismatch] = found["sigmoid"]["diagnoses"]
    assert mismatch["id"] == "shape_mismatch" and "broadcast" not in mismatch["hint"]
    assert "axes of length 1 added or dropped" in mismatch["hint"]


def test_copied_numbers_guarded_by_a_hang_on_the_hidden_cases_still_earn_nothing(gradcheck,
                                                                                 tmp_path):
    """The hidden case hangs, so the function is not called again; the check of the visible
    case calls it anyway, on the visible case's shapes, and it hangs there too."""
    found = _graded(gradcheck, tmp_path, """
import time

def grad_matmul(x, y, dz):
    if np.array_equal(dz, [[1, 2], [3, 4]]) and np.array_equal(x, [[3, 4], [5, 6]]):
        return np.array([[14.0, 20.0], [32.0, 46.0]])
    time.sleep(60)
""", "matmul", extra=("--timeout", "1"))
    assert found["matmul"]["score"] == 0.0
    assert "hardcoded" in [d["id"] for d in found["matmul"]["diagnoses"]]


def test_a_check_cut_short_by_the_deadline_says_nothing_about_the_answer():
    """An honest but slow function whose time ran out during the check keeps its points."""
    from gradcheck_cli.grading.probe import passed_by_their_numbers
    from gradcheck_cli.grading.runner import prepare
    from gradcheck_cli.report.model import CaseResult
    from gradcheck_cli.sandbox import CallResult
    from gradcheck_cli.selection import select_exercises

    [ex] = select_exercises(None, ("sigmoid",))
    [(_, cases)] = prepare([ex], 0)

    class OutOfTime:
        call_hung_again = False

        def call(self, *args, **kwargs):
            return CallResult("timeout", diagnosis="timeout", deadline=True,
                              message="did not return before the submission's deadline")

    results = [CaseResult(p.case.name, p.case.hidden, "passed" if i == 0 else "timeout")
               for i, p in enumerate(cases)]
    tol = ex.tolerance.for_inputs(a for p in cases for a in p.case.args)
    assert passed_by_their_numbers(OutOfTime(), ex, cases, results, tol) == set()


def test_one_mistake_on_two_outputs_names_both(gradcheck, tmp_path):
    """dgamma and dbeta both left unsummed: one line per mistake, naming every output."""
    found = _graded(gradcheck, tmp_path, """
def grad_batchnorm(x, gamma, beta, dz):
    mu, var = x.mean(0), x.var(0)
    std = np.sqrt(var + 1e-5)
    xhat = (x - mu) / std
    dxhat = dz * gamma
    dx = (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0)) / std
    return dx, dz * xhat, dz * np.ones_like(xhat)
""", "batchnorm")
    messages = [d["message"] for d in found["batchnorm"]["diagnoses"]
                if d["id"] == "broadcast_not_summed"]
    assert messages and "The same goes for dbeta." in messages[0]


def test_a_function_slow_on_the_case_itself_is_not_called_hard_coded_for_a_timeout(
        gradcheck, tmp_path):
    """Right on the visible case but slow there already (0.55 s of a 1 s timeout): the
    check's call running over the timeout is the machine's jitter, not copied numbers."""
    found = _graded(gradcheck, tmp_path, """
import time
CALLS = [0]

def grad_sigmoid(x, dz):
    CALLS[0] += 1
    if x.shape != (3,):
        raise ValueError("only the small case")
    time.sleep(0.55 if CALLS[0] == 1 else 1.2)
    s = 1 / (1 + np.exp(-x))
    return dz * s * (1 - s)
""", "sigmoid", extra=("--timeout", "1"))
    assert found["sigmoid"]["score"] > 0
    assert "hardcoded" not in [d["id"] for d in found["sigmoid"]["diagnoses"]]

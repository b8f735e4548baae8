"""The neural-network layer exercises of the catalog: their specs, solutions and mistakes.

The reference solutions (examples/solutions.py) are plain NumPy written independently of the
engine; the worked-example values below were derived by hand from the exercises' formulas.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.engine import vjp
from gradcheck_cli.grading.compare import compare
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.spec import load_exercises

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "examples" / "solutions.py"
MISTAKES = ROOT / "examples" / "mistakes.py"

# exercise -> the authored mistake examples/mistakes.py makes
INTENDED = {
    "affine": "weight_gradient_transposed",
    "batched_matmul": "transpose_reverses_all_axes",
    "conv2d_nchw": "convolution_not_correlation",
    "max_pool2d": "gradient_to_every_element",
    "avg_pool2d": "missing_window_average",
    "layernorm": "statistics_treated_as_constant",
    "batchnorm": "statistics_treated_as_constant",
    "rnn_step": "missing_tanh_derivative",
    "attention": "missing_scale",
}
NAMES = tuple(INTENDED)
CONVOLUTION = {"conv2d_nchw", "max_pool2d", "avg_pool2d"}


def _sizes_that_differ(name, case) -> list[tuple[int, ...]]:
    """Groups of sizes of a hidden case that must differ, so that no square shortcut fits."""
    shapes = {k: v.shape for k, v in case.inputs.items()}
    if name == "affine":
        (n, d), (_, m) = shapes["x"], shapes["W"]
        return [(n, d, m)]
    if name == "batched_matmul":
        (batch, m, k), (_, _, n) = shapes["x"], shapes["y"]
        return [(batch, m, k, n)]
    if name == "conv2d_nchw":
        (_, c, h, w), (o, _, _, _) = shapes["x"], shapes["w"]
        return [(h, w), (c, o)]
    if name in ("max_pool2d", "avg_pool2d"):
        return [shapes["x"][2:]]
    if name in ("layernorm", "batchnorm"):
        return [shapes["x"]]
    if name == "rnn_step":
        (n, d), (_, h) = shapes["x"], shapes["h_prev"]
        return [(n, d, h)]
    (n, d), (m, _), (_, dv) = shapes["Q"], shapes["K"], shapes["V"]
    return [(n, m, d, dv)]


@pytest.fixture(scope="module")
def exercises():
    return {ex.name: ex for ex in load_exercises([ROOT / "exercises" / f"{n}.yaml"
                                                  for n in NAMES])}


@pytest.fixture(scope="module")
def solutions():
    spec = importlib.util.spec_from_file_location("solutions", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


# ---------------------------------------------------------------------------- the specs


@pytest.mark.parametrize("name", NAMES)
def test_spec_loads_with_its_signature_and_cases(exercises, name):
    ex = exercises[name]
    assert ex.function == f"grad_{name}"
    assert ex.group == ("convolution" if name in CONVOLUTION else "layers")
    assert ex.points > 0 and ex.tags and "dz" in ex.description and ex.hints
    first, *rest = ex.generate_cases(0)
    assert first.name == "worked-example" and not first.hidden
    # the worked example is written out, the same for every seed
    again = ex.generate_cases(7)[0]
    for key in first.inputs:
        np.testing.assert_array_equal(first.inputs[key], again.inputs[key])
    assert sum(case.hidden for case in rest) >= 3
    for mistake in ex.mistakes:
        assert mistake.message and mistake.hint
        # every authored mistake can be recognised on the visible case
        assert mistake.evaluate(first) is not None, mistake.id


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_are_random_and_not_square(exercises, name):
    ex = exercises[name]
    for seed in range(5):
        hidden = [case for case in ex.generate_cases(seed) if case.hidden]
        for case in hidden:
            for sizes in _sizes_that_differ(name, case):
                assert len(set(sizes)) == len(sizes), (seed, case.name, sizes)
    first, other = ([c for c in ex.generate_cases(s) if c.hidden] for s in (5, 6))
    assert any(not np.array_equal(a.dz, b.dz) for a, b in zip(first, other))


@pytest.mark.parametrize("name", NAMES)
def test_engine_agrees_with_the_numpy_solution(exercises, solutions, name):
    ex = exercises[name]
    learner = getattr(solutions, ex.function)
    for seed in (0, 1):
        for case in ex.generate_cases(seed):
            engine = vjp(ex.forward_fn, case.args, case.dz, wrt=ex.wrt_indices)
            mine = _as_tuple(learner(*case.args, case.dz))
            assert len(mine) == len(engine)
            for got, want in zip(mine, engine):
                np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_float32_solution_passes_and_mistakes_fail_the_tolerance(exercises, solutions, name):
    ex = exercises[name]
    tol = ex.tolerance
    learner = getattr(solutions, ex.function)
    for seed in range(3):
        for case in ex.generate_cases(seed):
            truth = ex.gradients(case)
            # Computed from float32 inputs, the answer is float32 whatever NumPy promoted
            # it to: a float64 answer is held to float64's precision.
            single = tuple(np.asarray(g).astype(np.float32) for g in _as_tuple(
                learner(*(a.astype(np.float32) for a in case.args), case.dz.astype(np.float32))))
            for got, want in zip(single, truth):
                assert compare(np.asarray(got), want, tol).passed, (seed, case.name)
            for mistake in ex.mistakes:
                wrong = mistake.evaluate(case)
                if wrong is not None:
                    assert not compare(wrong, truth[ex.wrt.index(mistake.wrt)], tol).passed


# Worked out by hand from the formulas in the descriptions, which quote them.
HAND = {
    # dx = dz @ W.T, dW = x.T @ dz, db = column sums of dz
    "affine": ([[[1, 2], [3, 4], [-3, 0]], [[1, 9], [0, 4]], [3, 2]],
               ["dx = [[1, 2], [3, 4], [-3, 0]]", "dW = [[1, 9], [0, 4]]", "db = [3, 2]"]),
    # dz goes to each window's maximum: 5, 8, 9 on top, 7, 9, 8 below
    "max_pool2d": ([[[[[0, 1, 0, 0, 0, 0], [0, 0, 0, -2, 0, 3], [0, 0, 0, 0, 0, 0],
                       [0.5, 0, 0, 2, -1, 0]]]]],
                   ["[[[[0, 1, 0, 0, 0, 0], [0, 0, 0, -2, 0, 3], [0, 0, 0, 0, 0, 0], "
                    "[0.5, 0, 0, 2, -1, 0]]]]"]),
    # dz / 4 on each window
    "avg_pool2d": ([[[[[0.25, 0.25, -0.5, -0.5, 0.75, 0.75],
                       [0.25, 0.25, -0.5, -0.5, 0.75, 0.75],
                       [0.125, 0.125, 0.5, 0.5, -0.25, -0.25],
                       [0.125, 0.125, 0.5, 0.5, -0.25, -0.25]]]]],
                   ["[[[[0.25, 0.25, -0.5, -0.5, 0.75, 0.75], [0.25, 0.25, -0.5, -0.5, 0.75, "
                    "0.75], [0.125, 0.125, 0.5, 0.5, -0.25, -0.25], [0.125, 0.125, 0.5, 0.5, "
                    "-0.25, -0.25]]]]"]),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_worked_example_matches_the_hand_derivation_and_the_text(exercises, name):
    ex = exercises[name]
    expected, quoted = HAND[name]
    case = ex.generate_cases(0)[0]
    grads = vjp(ex.forward_fn, case.args, case.dz, wrt=ex.wrt_indices)
    for got, want in zip(grads, expected):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=float))
    text = " ".join(ex.description.split())
    for quote in quoted:
        assert quote in text


# ---------------------------------------------------------------------------- grading


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_solutions_pass_every_exercise(exercises, seed):
    report = grade_submission(SOLUTIONS, list(exercises.values()), RunOptions(seed=seed))
    failing = {e.name: (e.status, [d.id for d in e.diagnoses]) for e in report.exercises
               if e.status != "passed"}
    assert report.passed and not failing, failing
    assert {e.name for e in report.exercises} == set(NAMES)


def test_each_classic_mistake_fails_and_is_named(exercises):
    report = grade_submission(MISTAKES, list(exercises.values()), RunOptions(seed=2))
    assert not report.passed
    for result in report.exercises:
        assert result.status in ("failed", "error") and result.score == 0, result.name
        assert result.diagnoses[0].id == INTENDED[result.name], (
            result.name, [d.id for d in result.diagnoses])


@pytest.mark.parametrize("name,ident", [("max_pool2d", "gradient_to_every_element"),
                                        ("avg_pool2d", "missing_window_average")])
def test_pool_mistakes_are_named_on_hidden_cases_of_even_size(name, ident):
    """repeat() lets the spec spread dz over its windows whatever the hidden case's shape."""
    (exercise,) = load_exercises([ROOT / "exercises" / f"{name}.yaml"])
    even_hidden_seen = 0
    for seed in range(6):
        report = grade_submission(MISTAKES, [exercise], RunOptions(seed=seed))
        for case in report.exercises[0].cases:
            if case.hidden and all(n % 2 == 0 for n in case.inputs["x"].shape[-2:]):
                even_hidden_seen += 1
                assert case.diagnoses[0].id == ident
    assert even_hidden_seen > 0

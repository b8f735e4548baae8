"""The seed-001..004 and activation exercises: their specs, worked examples, and grading.

Worked-example gradients come from the seed articles (the lecture's f = (x + y) max(y, z) at
x=1, y=2, z=0; the chain-rule example at x=-3, y=2, z=5) or from hand / plain-NumPy arithmetic
on the literal inputs, independently of the engine. Learner files are real NumPy code:
examples/solutions.py (right), examples/mistakes.py and tests/fixtures/submissions/
seed_and_activation/
(one classic mistake per function).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradcheck_cli.engine import vjp
from gradcheck_cli.grading.runner import RunOptions, grade_submission
from gradcheck_cli.spec import default_catalog_dir, load_exercises

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions" / "seed_and_activation"

GROUPS = {
    "linear_regression": "seed-001",
    "elementwise_add": "seed-002", "elementwise_sub": "seed-002",
    "elementwise_mul": "seed-002", "elementwise_div": "seed-002",
    "sum_all": "seed-002", "sum_times_scalar": "seed-002",
    "add_times_max": "seed-003", "hidden_layer_score": "seed-003",
    "product_of_sums": "seed-004", "matrix_product": "seed-004", "two_layer_net": "seed-004",
    "tanh": "activations", "relu": "activations", "leaky_relu": "activations",
    "log_softmax": "activations", "softmax_cross_entropy": "activations",
}
NAMES = tuple(GROUPS)

# The gradients (in wrt order) of each worked example.
WORKED = {
    # residuals pred - y = [-0.8, -1.8, -2.8]: dw = 2/3 * (-3.7), db = 2/3 * (-5.4)
    "linear_regression": (-3.7 * 2 / 3, -3.6),
    "elementwise_add": ([1, 0.5, -2], [1, 0.5, -2]),
    "elementwise_sub": ([1, 0.5, -2], [-1, -0.5, 2]),
    "elementwise_mul": ([4, -0.5, -4], [1, 1, -6]),
    "elementwise_div": ([0.25, -0.5, -1], [-0.0625, -1, 1.5]),
    "sum_all": ([2, 2, 2],),
    "sum_times_scalar": ([2, 2, 2], 3),
    "add_times_max": (2, 5, 0),
    "hidden_layer_score": ([0.149146, -0.209987],
                           [[0.149146, 0.298293, -0.149146],
                            [-0.209987, -0.419974, 0.209987]]),
    "product_of_sums": (1, 2, -1),
    "matrix_product": ([[-1, 5, -1], [3, -1, 3]],
                       [[1, -1, -3, 3], [2, 3, 4, 1], [0, 1, 2, -1]]),
    "two_layer_net": ([[17, 0, 0, 34], [-17, 0.5, -0.25, -34], [34, -0.5, 0.25, 68]],
                      [17, 0.5, -0.25, 34], [[34], [-1], [-0.25], [59.5]], [16.5]),
    "tanh": ([0.419974, 2, 2.359343, 0.282603],),
    "relu": ([0, 0, 3, 4],),
    "leaky_relu": ([0.1, 0.2, 3, 4],),
    "log_softmax": ([[0.459817, 0.531629, -0.991446], [0.622364, -0.667380, 0.045015]],),
    "softmax_cross_entropy": ([[0.045015, 0.122364, -0.167380],
                               [-0.377636, 0.332620, 0.045015]],),
}

# The authored mistake each learner function makes, named first in the report.
FIRST_MISTAKES = {
    "linear_regression": "dw_missing_factor_2",
    "elementwise_add": "dx_like_product",
    "elementwise_sub": "dy_missing_minus",
    "elementwise_mul": "dx_uses_x",
    "elementwise_div": "dy_missing_minus",
    "sum_all": "gradient_is_x",
    "sum_times_scalar": "dx_missing_z",
    "add_times_max": "dy_missing_branch_through_max",
    "hidden_layer_score": "db_missing_activation_derivative",
    "product_of_sums": "dx_missing_branch",
    "matrix_product": "dW_missing_transpose",
    "two_layer_net": "dh_relu_uses_db2",
    "tanh": "derivative_of_input_not_output",
    "relu": "used_function_not_derivative",
    "leaky_relu": "missing_negative_slope",
    "log_softmax": "missing_sum_of_dz",
    "softmax_cross_entropy": "missing_batch_mean",
}
SECOND_MISTAKES = {
    "linear_regression": "dw_residual_flipped",
    "elementwise_div": "dy_missing_square",
    "add_times_max": "dz_ignores_max",
    "hidden_layer_score": "dW_outer_product_reversed",
    "matrix_product": "dW_factors_swapped",
    "two_layer_net": "dW2_uses_db2",
    "relu": "relu_applied_to_dz",
    "log_softmax": "sum_over_whole_batch",
    "softmax_cross_entropy": "softmax_over_batch_axis",
}


@pytest.fixture(scope="module")
def exercises():
    files = [default_catalog_dir() / f"{name}.yaml" for name in NAMES]
    return {ex.name: ex for ex in load_exercises(files)}


def grade(path: Path, exercises, names, seed: int = 1234):
    return grade_submission(path, [exercises[n] for n in names], RunOptions(seed=seed))


# ---------------------------------------------------------------------------- the specs


def test_specs_load_with_their_groups_and_functions(exercises):
    assert set(exercises) == set(NAMES)
    for name, ex in exercises.items():
        assert ex.group == GROUPS[name]
        assert ex.function.startswith("grad_") and ex.tags and 1 <= ex.points <= 3
        assert ex.mistakes and all(m.message and m.hint for m in ex.mistakes)
        assert ex.dz_name in ex.description


@pytest.mark.parametrize("name", NAMES)
def test_worked_example_is_visible_and_gives_the_derived_gradients(exercises, name):
    ex = exercises[name]
    case = ex.generate_cases(0)[0]
    assert case.name == "worked-example" and not case.hidden
    grads = vjp(ex.forward_fn, case.args, case.dz, wrt=ex.wrt_indices)
    assert len(grads) == len(WORKED[name])
    for got, want in zip(grads, WORKED[name]):
        np.testing.assert_allclose(got, np.asarray(want, dtype=float), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_are_random_and_never_square(exercises, name):
    ex = exercises[name]
    by_seed = [[c for c in ex.generate_cases(seed) if c.hidden] for seed in (0, 1)]
    assert len(by_seed[0]) >= 3
    for cases in by_seed:
        for case in cases:
            for value in case.inputs.values():
                if value.ndim == 2:
                    assert value.shape[0] != value.shape[1], (case.name, value.shape)
    # Another seed draws other numbers, so a hard-coded answer cannot pass.
    assert any(a.shape != b.shape or not np.array_equal(a, b)
               for first, second in zip(*by_seed) for a, b in zip(first.args, second.args))

# ---------------------------------------------------------------------------- grading


@pytest.mark.parametrize("seed", [1234, 7])
def test_reference_solutions_pass_every_case(exercises, seed):
    report = grade(ROOT / "examples" / "solutions.py", exercises, NAMES, seed)
    assert report.passed, [(e.name, e.status, e.diagnoses, e.error) for e in report.exercises]
    for result in report.exercises:
        assert result.status == "passed" and result.score == result.max_score
        assert all(c.status == "passed" for c in result.cases)
        assert not result.diagnoses


def test_each_classic_mistake_fails_and_is_named_first(exercises):
    report = grade(ROOT / "examples" / "mistakes.py", exercises, NAMES)
    assert not report.passed
    named = {e.name: e for e in report.exercises}
    for name, ident in FIRST_MISTAKES.items():
        result = named[name]
        assert result.status in ("failed", "error") and result.score < result.max_score
        assert result.diagnoses[0].id == ident, (name, result.diagnoses)
        assert result.diagnoses[0].message and result.diagnoses[0].hint


def test_second_mistakes_are_named_too(exercises):
    report = grade(SUBMISSIONS / "second_mistakes.py", exercises, tuple(SECOND_MISTAKES))
    for result in report.exercises:
        assert result.status != "passed"
        assert result.diagnoses[0].id == SECOND_MISTAKES[result.name], (result.name,
                                                                        result.diagnoses)


def test_outer_product_reversed_is_a_transpose_on_non_square_layers(exercises):
    report = grade(SUBMISSIONS / "second_mistakes.py", exercises, ["hidden_layer_score"])
    (result,) = report.exercises
    hidden = [c for c in result.cases if c.hidden]
    assert hidden and all(c.status == "failed" for c in hidden)
    assert all("transposed" in {d.id for d in c.diagnoses} for c in hidden)


def test_the_seed_articles_published_backward_pass_does_not_pass(exercises):
    # h_relu.T.dot(db2) cannot even be computed when the batch size differs from the outputs.
    report = grade(SUBMISSIONS / "seed_004_as_published.py", exercises, ["two_layer_net"])
    (result,) = report.exercises
    assert result.status == "error" and result.score == 0
    assert result.diagnoses[0].id == "exception"

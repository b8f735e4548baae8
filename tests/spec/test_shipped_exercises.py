"""The four worked exercises shipped in exercises/: contents, gradients, hidden cases, mistakes.

Expected values come from CONTRACTS-level numbers and from plain NumPy formulas written here,
independently of the engine and of the spec code.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.engine import vjp
from gradcheck_cli.spec import default_catalog_dir, load_exercises

NAMES = ("sigmoid", "softmax", "matmul", "conv2d")


@pytest.fixture(scope="module")
def catalog():
    exercises = load_exercises([default_catalog_dir()])
    return {ex.name: ex for ex in exercises}


# ---------------------------------------------------------------------------- references


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def correlate_valid(x, k):
    """out[a, b] = sum_ij x[a + i, b + j] * k[i, j], by loops."""
    oh, ow = x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1
    out = np.zeros((oh, ow), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            out[a, b] = np.sum(x[a:a + k.shape[0], b:b + k.shape[1]] * k)
    return out


# The right gradient (what a correct learner returns), in any float dtype.
RIGHT = {
    "sigmoid": lambda x, dz: dz * sigmoid(x) * (1 - sigmoid(x)),
    "softmax": lambda x, dz: softmax(x) * (dz - np.dot(dz, softmax(x))),
    "matmul": lambda x, y, dz: dz @ y.T,
    "conv2d": lambda x, w, dz: correlate_valid(x, dz),
}

# The authored mistake, as a learner who makes it would compute it.
MISTAKEN = {
    "sigmoid": ("used_function_not_derivative", lambda x, dz: dz * sigmoid(x)),
    "softmax": ("diagonal_jacobian_only", lambda x, dz: dz * softmax(x) * (1 - softmax(x))),
    "matmul": ("missing_transpose", lambda x, y, dz: dz @ y),
    "conv2d": ("convolution_not_correlation", lambda x, w, dz: correlate_valid(x, dz[::-1, ::-1])),
}

WORKED = {
    "sigmoid": ({"x": [3, 4, 5]}, [1, 2, 3], [0.045177, 0.035325, 0.019944]),
    "softmax": ({"x": [3, 4, 5]}, [1, 2, 3], [-0.141817, -0.140770, 0.282587]),
    "matmul": ({"x": [[3, 4], [5, 6]], "y": [[4, 5], [6, 7]]}, [[1, 2], [3, 4]],
               [[14, 20], [32, 46]]),
    "conv2d": ({"x": [[3, 4, 5, 6], [4, 5, 6, 7], [5, 6, 7, 8], [6, 7, 8, 9]],
                "w": [[1, 2], [3, 4]]}, [[1, 1, 1], [2, 2, 2], [3, 3, 3]],
               [[96, 114], [114, 132]]),
}

SIGNATURES = {
    "sigmoid": ("grad_sigmoid", ("x",), "dz", ("x",)),
    "softmax": ("grad_softmax", ("x",), "dz", ("x",)),
    "matmul": ("grad_matmul", ("x", "y"), "dz", ("x",)),
    "conv2d": ("grad_conv2d", ("x", "w"), "dz", ("w",)),
}


# ---------------------------------------------------------------------------- tests


def test_catalog_holds_the_four(catalog):
    assert set(NAMES) <= set(catalog)
    for name in NAMES:
        assert (default_catalog_dir() / f"{name}.yaml").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_signature(catalog, name):
    ex = catalog[name]
    assert (ex.function, ex.params, ex.dz_name, ex.wrt) == SIGNATURES[name]
    assert ex.points > 0 and ex.title and "dz" in ex.description
    assert ex.group or ex.tags


@pytest.mark.parametrize("name", NAMES)
def test_worked_example_is_exact_and_visible(catalog, name):
    inputs, dz, expected = WORKED[name]
    case = catalog[name].generate_cases(0)[0]
    assert case.name == "worked-example" and not case.hidden
    for key, value in inputs.items():
        np.testing.assert_array_equal(case.inputs[key], np.asarray(value, dtype=float))
    np.testing.assert_array_equal(case.dz, np.asarray(dz, dtype=float))
    # the worked example does not depend on the seed
    other = catalog[name].generate_cases(99)[0]
    np.testing.assert_array_equal(other.args[0], case.args[0])


@pytest.mark.parametrize("name", NAMES)
def test_engine_gives_the_contract_values(catalog, name):
    ex = catalog[name]
    _, _, expected = WORKED[name]
    case = ex.generate_cases(0)[0]
    (grad,) = vjp(ex.forward_fn, case.args, case.dz, wrt=ex.wrt_indices)
    np.testing.assert_array_equal(np.round(grad, 6), np.asarray(expected, dtype=float))


@pytest.mark.parametrize("name", NAMES)
def test_engine_matches_numpy_on_every_case(catalog, name):
    ex = catalog[name]
    for seed in (0, 1):
        for case in ex.generate_cases(seed):
            (grad,) = vjp(ex.forward_fn, case.args, case.dz, wrt=ex.wrt_indices)
            np.testing.assert_allclose(grad, RIGHT[name](*case.args, case.dz), rtol=1e-10,
                                       atol=1e-12)


def hidden_shapes_ok(name, case) -> bool:
    if name in ("sigmoid", "softmax"):
        (n,) = case.inputs["x"].shape
        return n != 3
    if name == "matmul":
        (m, k), (k2, n) = case.inputs["x"].shape, case.inputs["y"].shape
        return k == k2 and len({m, k, n}) == 3
    x, w = case.inputs["x"].shape, case.inputs["w"].shape
    return (len(x) == len(w) == 2 and x[0] != x[1] and w[0] != w[1]
            and case.dz.shape == (x[0] - w[0] + 1, x[1] - w[1] + 1))


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_are_randomised_and_not_square(catalog, name):
    ex = catalog[name]
    for seed in range(8):
        hidden = [c for c in ex.generate_cases(seed) if c.hidden]
        assert len(hidden) >= 3
        assert all(hidden_shapes_ok(name, case) for case in hidden)
    first, again, other = (ex.generate_cases(s) for s in (5, 5, 6))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.inputs["x"], b.inputs["x"])
        np.testing.assert_array_equal(a.dz, b.dz)
    assert any(not np.array_equal(a.dz, c.dz) for a, c in zip(first, other) if a.hidden)


@pytest.mark.parametrize("name", NAMES)
def test_authored_mistake_is_what_the_learner_computes(catalog, name):
    ex = catalog[name]
    mistake_id, learner = MISTAKEN[name]
    (mistake,) = [m for m in ex.mistakes if m.id == mistake_id]
    assert mistake.message and mistake.hint
    evaluated = 0
    for case in ex.generate_cases(3):
        value = mistake.evaluate(case)
        try:
            want = learner(*case.args, case.dz)
        except ValueError:  # matmul: dz @ y does not fit non-square shapes
            assert value is None
            continue
        np.testing.assert_allclose(value, want, rtol=1e-12)
        assert not np.allclose(value, RIGHT[name](*case.args, case.dz))
        evaluated += 1
    assert evaluated >= 1


@pytest.mark.parametrize("name", NAMES)
def test_default_tolerance_passes_float32_and_fails_the_mistake(catalog, name):
    from gradcheck_cli.grading.compare import compare

    ex = catalog[name]
    tol = ex.tolerance
    _, learner_mistake = MISTAKEN[name]
    for seed in range(5):
        for case in ex.generate_cases(seed):
            want = RIGHT[name](*case.args, case.dz)
            single = RIGHT[name](*(a.astype(np.float32) for a in case.args),
                                 case.dz.astype(np.float32))
            assert single.dtype == np.float32
            assert compare(single, want, tol).passed, (seed, case.name)
            try:
                wrong = learner_mistake(*case.args, case.dz)
            except ValueError:
                continue
            assert not compare(np.asarray(wrong), want, tol).passed

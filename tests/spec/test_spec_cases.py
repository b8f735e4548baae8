"""Case generation: shapes, shared and distinct dims, distributions, kinks, seeds, limits."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from gradcheck_cli.errors import SpecError, UsageError
from gradcheck_cli.spec import MAX_CASE_ELEMENTS, build_exercise, parse_yaml
from gradcheck_cli.spec.cases import distinct_assignment


def exercise(body: str, name: str = "demo", function: str = "grad_demo(x, y, dz)",
             forward: str = "x * y"):
    text = (f"name: {name}\ntitle: Demo\nfunction: {function}\nforward: {forward}\n"
            + textwrap.dedent(body))
    return build_exercise(parse_yaml(text, "demo.yaml"), "demo.yaml")


SHARED = """
cases:
  - name: random
    repeat: 4
    dims: {m: 2..6, k: 2..6, n: 2..6}
    distinct: [m, k, n]
    inputs:
      x: {shape: [m, k]}
      y: {shape: [k, n], dist: uniform, low: -2, high: 2}
"""


def test_named_dims_are_shared_and_distinct():
    ex = exercise(SHARED, forward="x")
    for seed in range(15):
        for case in ex.generate_cases(seed):
            (m, k), (k2, n) = case.inputs["x"].shape, case.inputs["y"].shape
            assert k == k2
            assert len({m, k, n}) == 3
            assert all(2 <= d <= 6 for d in (m, k, n))
            assert case.dz.shape == (m, k)  # dz has the forward output's shape
            assert np.all(np.abs(case.inputs["y"]) <= 2)


def test_same_seed_same_cases_other_seed_other_cases():
    ex = exercise(SHARED, forward="x")
    first, again, other = ex.generate_cases(7), ex.generate_cases(7), ex.generate_cases(8)
    for a, b in zip(first, again):
        assert a.name == b.name
        np.testing.assert_array_equal(a.inputs["x"], b.inputs["x"])
        np.testing.assert_array_equal(a.dz, b.dz)
    assert any(a.inputs["x"].shape != c.inputs["x"].shape
               or not np.array_equal(a.inputs["x"], c.inputs["x"]) for a, c in zip(first, other))


def test_exercise_name_enters_the_draw():
    a = exercise(SHARED, name="alpha", forward="x").generate_cases(3)[0]
    b = exercise(SHARED, name="beta", forward="x").generate_cases(3)[0]
    assert a.inputs["x"].shape != b.inputs["x"].shape or not np.array_equal(a.inputs["x"],
                                                                              b.inputs["x"])


def test_repeat_names_indices_and_hidden():
    ex = exercise("""
    cases:
      - name: shown
        inputs: {x: [1, 2], y: [3, 4]}
      - name: random
        hidden: true
        repeat: 3
        inputs: {x: {shape: [3]}, y: {shape: [3]}}
    """)
    cases = ex.generate_cases(0)
    assert [c.name for c in cases] == ["shown", "random-1", "random-2", "random-3"]
    assert [c.index for c in cases] == [0, 1, 2, 3]
    assert [c.hidden for c in cases] == [False, True, True, True]
    assert ex.case_names == [c.name for c in cases]
    np.testing.assert_array_equal(cases[0].inputs["x"], [1.0, 2.0])
    assert cases[0].inputs["x"].dtype == np.float64
    assert cases[0].args[1] is cases[0].inputs["y"]


def test_generated_arrays_are_read_only():
    case = exercise(SHARED, forward="x").generate_cases(0)[0]
    with pytest.raises(ValueError):
        case.inputs["x"][0, 0] = 1.0
    with pytest.raises(ValueError):
        case.dz[0, 0] = 1.0


@pytest.mark.parametrize("dist, check", [
    ("{dist: integers, low: -3, high: 3}",
     lambda v: np.all(v == np.round(v)) and np.all(abs(v) <= 3)),
    ("{dist: positive, low: 0.5, high: 0.75}", lambda v: np.all((v >= 0.5) & (v < 0.75))),
    ("{dist: uniform, low: 10, high: 11}", lambda v: np.all((v >= 10) & (v < 11))),
    ("{dist: normal, mean: 100, scale: 0.001}", lambda v: np.all(abs(v - 100) < 1)),
])
def test_distributions(dist, check):
    ex = exercise(f"""
    cases:
      - repeat: 3
        inputs: {{x: {{shape: [50]}}, y: {{shape: [50]}}, dz: {dist}}}
    """)
    for case in ex.generate_cases(5):
        assert case.dz.shape == (50,)
        assert check(case.dz)


@pytest.mark.parametrize("generator, words", [
    ("{shape: [3], dist: uniform, scale: 2}", "'scale' does not apply to dist uniform"),
    ("{shape: [3], dist: positive, low: -1}", "must be above 0"),
    ("{shape: [3], dist: uniform, low: 2, high: 1}", "must be below high"),
    ("{shape: [3], dist: integers, low: 0.5}", "whole numbers"),
    ("{shape: [0]}", "below the minimum 1"),
    ("{shape: [3..2]}", "empty"),
    ("{shape: [3, 'a b']}", "not a valid"),
    ("{dist: normal}", "needs a shape"),
    ("random", "needs a shape"),
])
def test_bad_generators(generator, words):
    with pytest.raises(SpecError) as info:
        exercise(f"""
        cases:
          - inputs:
              x: {generator}
              y: [1, 2, 3]
        """)
    assert words in info.value.message
    assert info.value.line == 8


def test_dz_generator_takes_no_shape():
    with pytest.raises(SpecError, match="drop `shape`"):
        exercise("""
        cases:
          - inputs: {x: [1, 2], y: [1, 2], dz: {shape: [2]}}
        """)


def test_missing_and_unknown_inputs():
    with pytest.raises(SpecError, match="no value for input 'y'"):
        exercise("cases:\n  - inputs: {x: [1, 2]}\n")
    with pytest.raises(SpecError, match="did you mean 'y'"):
        exercise("cases:\n  - inputs: {x: [1, 2], yy: [1, 2]}\n")


def test_kinks_keep_random_inputs_away_but_leave_literals():
    ex = exercise("""
    kinks: {at: [0, 1], margin: 0.1}
    cases:
      - name: literal
        inputs: {x: [0.0, 1.0, 2.0]}
      - name: random
        repeat: 5
        inputs: {x: {shape: [200], dist: uniform, low: -0.5, high: 1.5}}
    """, function="grad_demo(x, dz)", forward="relu(x)")
    cases = ex.generate_cases(2)
    np.testing.assert_array_equal(cases[0].inputs["x"], [0.0, 1.0, 2.0])
    for case in cases[1:]:
        x = case.inputs["x"]
        assert np.all(np.abs(x) >= 0.1 - 1e-12) and np.all(np.abs(x - 1) >= 0.1 - 1e-12)


def test_forward_output_counts_toward_the_limit():
    # Each input is small, but broadcasting makes the output 1000 x 1001.
    ex = exercise("""
        cases:
          - name: outer
            inputs: {x: {shape: [1000, 1]}, y: {shape: [1, 1001]}}
        """)
    with pytest.raises(SpecError) as info:
        ex.generate_cases(0)
    assert f"{MAX_CASE_ELEMENTS:,}" in info.value.message and info.value.line == 7


def test_forward_that_fails_on_the_shapes():
    ex = exercise("""
        cases:
          - name: mismatch
            inputs: {x: {shape: [3]}, y: {shape: [4]}}
        """)
    with pytest.raises(SpecError) as info:
        ex.generate_cases(0)
    assert "forward fails" in info.value.message and info.value.line == 7


def test_forward_that_gives_nan():
    ex = exercise("cases:\n  - inputs: {x: [-1, 2], y: [1, 1]}\n", forward="log(x) * y")
    with pytest.raises(SpecError, match="NaN or Inf"):
        ex.generate_cases(0)


def test_seed_must_be_natural():
    ex = exercise(SHARED, forward="x")
    with pytest.raises(UsageError):
        ex.generate_cases(-1)


def test_distinct_assignment():
    dims = {"m": (2, 3), "k": (2, 3), "n": (3, 5)}
    chosen = distinct_assignment(dims, (("m", "k", "n"),))
    assert len(set(chosen.values())) == 3
    assert all(dims[d][0] <= v <= dims[d][1] for d, v in chosen.items())
    assert distinct_assignment({"m": (2, 3), "k": (2, 3), "n": (2, 3)}, (("m", "k", "n"),)) is None


def test_tight_distinct_ranges_still_draw():
    ex = exercise("""
    cases:
      - repeat: 5
        dims: {a: 1..2, b: 1..2, c: 2..3}
        distinct: [a, b, c]
        inputs: {x: {shape: [a, b, c]}}
    """, function="grad_demo(x, dz)", forward="x")
    for case in ex.generate_cases(11):
        assert sorted(case.inputs["x"].shape) == [1, 2, 3]


def test_a_scalar_upstream_gradient_alternates_its_sign_from_case_to_case():
    """An answer that drops dz's sign (abs) must not pass on a seed whose draws are all
    positive; the magnitudes stay random."""
    ex = exercise("""
        cases:
          - name: random
            repeat: 4
            inputs:
              x: {shape: [3]}
              y: {shape: [3]}
        """, function="grad_demo(x, y, ds)", forward="sum(x * y)")
    for seed in range(20):
        signs = [float(np.sign(c.dz)) for c in ex.generate_cases(seed)]
        assert signs == [1.0, -1.0, 1.0, -1.0], (seed, signs)
    assert len({float(c.dz) for s in range(3) for c in ex.generate_cases(s)}) == 12

"""The routes finite differences take: loop or batch, which stencil, kinks, the registry."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli import ops, vjp
from gradcheck_cli.engine.core import PRIMITIVES, apply
from gradcheck_cli.errors import OpError
from gradcheck_cli.numerical import numerical_vjp


def test_a_plain_numpy_function_goes_through_the_loop():
    x = np.array([-2.0, -0.3, 0.4, 1.7, 3.0])
    dz = np.array([0.5, -1.0, 2.0, 1.5, -0.25])
    result = numerical_vjp(np.sin, (x,), dz, return_error=True)
    assert not result.batched and result.method == "richardson"
    assert result.evaluations == 6 * x.size
    np.testing.assert_allclose(result.value, dz * np.cos(x), rtol=1e-11)


def test_a_plain_numpy_function_of_two_inputs_with_wrt_tuple():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dz = rng.standard_normal((3, 2))
    gx, gw = numerical_vjp(lambda a, b: np.tanh(a @ b), (x, w), dz, wrt=(0, 1))
    local = dz * (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(gx, local @ w.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gw, x.T @ local, rtol=1e-9, atol=1e-12)


def test_dz_defaults_to_ones():
    x = np.array([0.2, -1.0, 2.5])
    np.testing.assert_allclose(numerical_vjp(ops.exp, (x,)), np.exp(x), rtol=1e-14)


@pytest.mark.parametrize("f, derivative", [
    (ops.relu, lambda x: (x > 0).astype(float)),
    (ops.abs, np.sign),
    (lambda x: ops.leaky_relu(x, 0.1), lambda x: np.where(x > 0, 1.0, 0.1)),
])
def test_non_holomorphic_ops_never_use_the_complex_step(f, derivative):
    x = np.array([-2.0, -0.7, 0.3, 1.1, 2.4])             # away from the kink at 0
    dz = np.array([1.0, -2.0, 0.5, 3.0, -1.5])
    result = numerical_vjp(f, (x,), dz, return_error=True)
    assert result.method == "richardson"
    np.testing.assert_allclose(result.value, dz * derivative(x), rtol=1e-12, atol=1e-14)
    with pytest.raises(OpError, match="holomorphic"):
        numerical_vjp(f, (x,), dz, method="complex")


def test_a_detour_through_plain_numpy_is_caught_before_the_complex_step_lies():
    # The graph only sees exp and mul, both holomorphic, but np.abs takes the modulus of a
    # complex input, so the complex step would miss the derivative of |x|.
    def f(x):
        return ops.exp(x) * np.abs(np.asarray(x))
    x = np.array([-1.5, -0.4, 0.6, 1.2])
    result = numerical_vjp(f, (x,), np.ones(4), return_error=True)
    assert result.method == "richardson"
    np.testing.assert_allclose(result.value, np.exp(x) * (np.abs(x) + np.sign(x)), rtol=1e-10)
    with pytest.raises(OpError, match="detour"):
        numerical_vjp(f, (x,), np.ones(4), method="complex")


REGISTRY = [(name, k, inputs, params)
            for name, prim in sorted(PRIMITIVES.items()) if prim.samples is not None
            for k, (inputs, params) in enumerate(prim.samples(np.random.default_rng(11)))]


@pytest.mark.parametrize("name,k,inputs,params", REGISTRY,
                         ids=[f"{c[0]}-{c[1]}" for c in REGISTRY])
def test_every_primitive_agrees_with_the_engine_within_the_error_estimate(name, k, inputs,
                                                                          params):
    # The engine's hand-written VJP rules are the other, independent reference.
    prim = PRIMITIVES[name]
    arrays = [np.asarray(a, dtype=float) for a in (inputs[0] if prim.variadic else inputs)]

    def f(*xs):
        return apply(prim, [list(xs)] if prim.variadic else list(xs), dict(params))

    dz = np.random.default_rng(k).standard_normal(f(*arrays).shape)
    wrt = range(len(arrays)) if prim.variadic else \
        [i for i, rule in enumerate(prim.vjps) if rule is not None]
    for i in wrt:
        result = numerical_vjp(f, arrays, dz, wrt=i, return_error=True)
        assert result.method == ("complex" if prim.holomorphic else "richardson")
        engine = vjp(f, arrays, dz, wrt=i)
        scale = np.max(np.abs(engine), initial=1.0)
        assert np.all(np.abs(result.value - engine) <= result.error + 1e-13 * scale)
        assert np.max(np.abs(result.value - engine), initial=0.0) <= 1e-8 * scale


def test_richardson_steps_straddling_a_kink_are_settled_by_a_small_central_step():
    x = np.array([0.004, -0.003, 1.0, -1.0])             # within Richardson's step of 0
    result = numerical_vjp(ops.relu, (x,), np.ones(4), return_error=True)
    np.testing.assert_allclose(result.value, [1.0, 0.0, 1.0, 0.0], atol=1e-9)
    assert any("kink" in note for note in result.notes)

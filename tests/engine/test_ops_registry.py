"""Every registered primitive, walked from the registry: VJPs against finite differences, and
batch-polymorphic forwards. Registering an op with samples is what gets it tested here."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.engine import batched, ops, vjp
from gradcheck_cli.engine.core import PRIMITIVES, Tensor, apply

TOLERANCE = 1e-8
CASES = [(name, k, inputs, params)
         for name, prim in sorted(PRIMITIVES.items()) if prim.samples is not None
         for k, (inputs, params) in enumerate(prim.samples(np.random.default_rng(1)))]


def _call(prim, arrays, params):
    """The primitive applied to plain arrays through the engine, as a function of its inputs."""
    packed = [list(arrays)] if prim.variadic else list(arrays)
    return apply(prim, packed, dict(params))


def _flat_inputs(prim, inputs):
    return list(inputs[0]) if prim.variadic else list(inputs)


def _differentiable(prim, inputs):
    if prim.variadic:
        return range(len(inputs[0]))
    return [i for i, rule in enumerate(prim.vjps) if rule is not None]


def _numerical_vjp(f, arrays, i, dz, holomorphic):
    """<dz, df/d arrays[i]> one element at a time: the complex step where f is analytic,
    else a central difference with one Richardson extrapolation."""
    x = arrays[i]
    grad = np.zeros(x.shape)

    def at(xi):
        return np.asarray(f(*arrays[:i], xi, *arrays[i + 1:]))

    for j in np.ndindex(x.shape):
        if holomorphic:
            h = 1e-30
            xc = x.astype(complex)
            xc[j] += 1j * h
            grad[j] = np.sum(dz * at(xc).imag) / h
        else:
            def central(h):
                up, down = x.copy(), x.copy()
                up[j] += h
                down[j] -= h
                return np.sum(dz * (at(up) - at(down))) / (2 * h)
            h = 1e-4
            grad[j] = (4 * central(h / 2) - central(h)) / 3
    return grad


def test_the_registry_holds_the_documented_ops():
    expected = {"add", "sub", "mul", "div", "neg", "power", "exp", "log", "sqrt", "abs", "tanh",
                "sigmoid", "relu", "leaky_relu", "maximum", "minimum", "where", "sum", "mean",
                "max", "min", "reshape", "transpose", "broadcast_to", "getitem", "concatenate",
                "stack", "flip", "pad", "matmul", "softmax", "log_softmax", "logsumexp",
                "conv2d", "max_pool2d", "avg_pool2d"}
    assert expected <= set(PRIMITIVES)
    assert expected <= set(ops.OPS)
    assert ops.OPS["pow"] is ops.power


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_every_primitive_has_samples(name):
    prim = PRIMITIVES[name]
    assert prim.samples is not None, f"primitive {name!r} has no samples, so it is untested"
    assert list(prim.samples(np.random.default_rng(0))), f"primitive {name!r} has no samples"


@pytest.mark.parametrize("name,k,inputs,params", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_vjp_matches_finite_differences(name, k, inputs, params):
    prim = PRIMITIVES[name]
    arrays = [np.asarray(a, dtype=float) for a in _flat_inputs(prim, inputs)]

    def f(*xs):
        return _call(prim, xs, params).data

    out = f(*arrays)
    dz = np.random.default_rng(k).standard_normal(out.shape)
    for i in _differentiable(prim, inputs):
        engine = vjp(lambda *xs: _call(prim, xs, params), arrays, dz, wrt=i)
        numeric = _numerical_vjp(f, arrays, i, dz, prim.holomorphic)
        assert engine.shape == arrays[i].shape
        scale = np.max(np.abs(numeric), initial=1e-6)
        error = np.max(np.abs(engine - numeric), initial=0.0) / scale
        assert error <= TOLERANCE, f"{name} input {i}: relative error {error:.2e}"


COMPOSITES = [(name, k, inputs, params)
              for name, f in sorted(ops.OPS.items()) if getattr(f, "composite", False)
              for k, (inputs, params) in enumerate(f.samples(np.random.default_rng(2)))]


@pytest.mark.parametrize("name,k,inputs,params", COMPOSITES,
                         ids=[f"{c[0]}-{c[1]}" for c in COMPOSITES])
def test_composites_differentiate_through_their_primitives(name, k, inputs, params):
    f = ops.OPS[name]
    arrays = [np.asarray(a, dtype=float) for a in inputs]
    out = np.asarray(f(*arrays, **params).data)
    dz = np.random.default_rng(k).standard_normal(out.shape)
    for i in range(len(arrays)):
        engine = vjp(lambda *xs: f(*xs, **params), arrays, dz, wrt=i)
        numeric = _numerical_vjp(lambda *xs: f(*xs, **params).data, arrays, i, dz, False)
        np.testing.assert_allclose(engine, numeric, rtol=1e-8, atol=1e-8)


def _two_samples(name):
    prim = PRIMITIVES[name]
    a = prim.samples(np.random.default_rng(3))
    b = prim.samples(np.random.default_rng(4))
    return prim, a, b


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_forward_on_a_stack_equals_the_stack_of_forwards(name):
    prim, a_samples, b_samples = _two_samples(name)
    for (a_inputs, params), (b_inputs, _) in zip(a_samples, b_samples):
        a = [np.asarray(x, dtype=float) for x in _flat_inputs(prim, a_inputs)]
        b = [np.asarray(x, dtype=float) for x in _flat_inputs(prim, b_inputs)]
        assert [x.shape for x in a] == [x.shape for x in b]
        expected = np.stack([_call(prim, a, params).data, _call(prim, b, params).data])
        with batched(1):  # batched values are tensors; plain arrays would be constants
            got = _call(prim, [Tensor(np.stack([x, y])) for x, y in zip(a, b)], params)
        np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} with {params}")


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_batch_axes_broadcast_between_inputs(name):
    # Two batch axes; one input varies along the first, the others are shared (size-1 batch
    # axes), as when finite differences perturb one argument and hold the rest.
    prim, a_samples, b_samples = _two_samples(name)
    for (a_inputs, params), (b_inputs, _) in zip(a_samples, b_samples):
        a = [np.asarray(x, dtype=float) for x in _flat_inputs(prim, a_inputs)]
        b = [np.asarray(x, dtype=float) for x in _flat_inputs(prim, b_inputs)]
        for p in range(len(a)):
            moved = a[:p] + [b[p]] + a[p + 1:]
            expected = np.stack([_call(prim, a, params).data,
                                 _call(prim, moved, params).data])[:, None]
            inputs = [Tensor(np.stack([x, y])[:, None]) if i == p      # (2, 1, ...)
                      else Tensor(x[None, None])                        # (1, 1, ...)
                      for i, (x, y) in enumerate(zip(a, b))]
            with batched(2):
                got = _call(prim, inputs, params)
            np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} varying input {p} with {params}")


JOINT = [c for c in CASES if PRIMITIVES[c[0]].joint is not None]


def test_conv2d_brings_a_joint_rule():
    assert "conv2d" in {c[0] for c in JOINT}


@pytest.mark.parametrize("name,k,inputs,params", JOINT, ids=[f"{c[0]}-{c[1]}" for c in JOINT])
def test_a_joint_rule_gives_what_the_rules_give_one_by_one(name, k, inputs, params):
    """The reverse walk calls ``joint`` when several inputs need a gradient, and the rules one
    by one when one does: both must give the same numbers, bit for bit."""
    prim = PRIMITIVES[name]
    arrays = _flat_inputs(prim, inputs)
    wanted = list(_differentiable(prim, inputs))
    dz = np.random.default_rng(k).standard_normal(np.shape(_call(prim, arrays, params).data))

    def f(*a):
        return _call(prim, a, params)

    together = vjp(f, arrays, dz, wrt=tuple(wanted))
    for i, got in zip(wanted, together):
        np.testing.assert_array_equal(got, vjp(f, arrays, dz, wrt=i))

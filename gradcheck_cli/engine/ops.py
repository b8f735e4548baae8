"""The engine's ops: each primitive's forward and VJPs registered side by side.

Adding an op is one ``primitive(...)`` entry here; the registry tests then check its VJPs
against finite differences, its batch-polymorphism and its error messages.

Conventions:
- a VJP rule is ``rule(g, ans, *inputs, **params)``; it may return a broadcast-shaped gradient;
- forwards address axes from the end and use ``lead(x)`` for the batch part of a shape;
- kinks and ties: the derivative at a kink is the one from the right-hand side for relu and
  leaky_relu (relu'(0) = 0, as in PyTorch and TensorFlow), abs'(0) = 0, and a max/min with ties
  splits the gradient evenly among the tied elements (maximum/minimum of two arrays: half each).
"""

from __future__ import annotations

import numpy as np

from .core import lead, primitive

# ---------------------------------------------------------------------------- samples
# Small generators of valid inputs, used by the tests that walk the registry.


def _pos(rng, *shape):
    return rng.uniform(0.5, 2.0, size=shape)


def _any(rng, *shape):
    return rng.standard_normal(shape)


def _away_from_zero(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, size=shape)


def _unary(gen=_any):
    return lambda rng: [((gen(rng, 3, 4),), {}), ((gen(rng, 5),), {}), ((gen(rng, 2, 3, 2),), {})]


def _binary(gen_x=_any, gen_y=_any):
    return lambda rng: [
        ((gen_x(rng, 3, 4), gen_y(rng, 3, 4)), {}),
        ((gen_x(rng, 3, 4), gen_y(rng, 4)), {}),          # broadcasting a row
        ((gen_x(rng, 3, 1), gen_y(rng, 1, 4)), {}),       # broadcasting both
        ((gen_x(rng, 2, 3), gen_y(rng)), {}),             # a scalar
    ]


# ---------------------------------------------------------------------------- arithmetic

add = primitive("add", np.add,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: g,
                samples=_binary())
sub = primitive("sub", np.subtract,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: -g,
                samples=_binary())
mul = primitive("mul", np.multiply,
                lambda g, ans, x, y: g * y,
                lambda g, ans, x, y: g * x,
                samples=_binary())
div = primitive("div", np.divide,
                lambda g, ans, x, y: g / y,
                lambda g, ans, x, y: -g * x / (y * y),
                samples=_binary(_any, _away_from_zero))
neg = primitive("neg", np.negative,
                lambda g, ans, x: -g,
                samples=_unary())
power = primitive("power", np.power,
                  lambda g, ans, x, y: g * y * np.power(x, y - 1),
                  lambda g, ans, x, y: g * ans * np.log(x),
                  samples=_binary(_pos, _any))

# ---------------------------------------------------------------------------- elementwise

exp = primitive("exp", np.exp,
                lambda g, ans, x: g * ans,
                samples=_unary())
log = primitive("log", np.log,
                lambda g, ans, x: g / x,
                samples=_unary(_pos))
sqrt = primitive("sqrt", np.sqrt,
                 lambda g, ans, x: g * 0.5 / ans,
                 samples=_unary(_pos))
tanh = primitive("tanh", np.tanh,
                 lambda g, ans, x: g * (1.0 - ans * ans),
                 samples=_unary())


def _sigmoid(x):
    """The logistic function 1 / (1 + exp(-x))."""
    if np.iscomplexobj(x):
        return 1.0 / (1.0 + np.exp(-x))
    # Evaluated without overflow on either side.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


sigmoid = primitive("sigmoid", _sigmoid,
                    lambda g, ans, x: g * ans * (1.0 - ans),
                    samples=_unary())

abs = primitive("abs", np.abs,  # noqa: A001 - the op is called abs, as in NumPy
                lambda g, ans, x: g * np.sign(x),
                holomorphic=False, samples=_unary(_away_from_zero))
relu = primitive("relu", lambda x: np.maximum(x, 0.0),
                 lambda g, ans, x: g * (x > 0),
                 holomorphic=False, samples=_unary(_away_from_zero))


def _leaky_relu(x, slope=0.01):
    """max(x, slope * x) for 0 <= slope <= 1."""
    return np.where(x > 0, x, slope * x)


leaky_relu = primitive("leaky_relu", _leaky_relu,
                       lambda g, ans, x, slope=0.01: g * np.where(x > 0, 1.0, slope),
                       holomorphic=False,
                       samples=lambda rng: [((_away_from_zero(rng, 3, 4),), {}),
                                            ((_away_from_zero(rng, 6),), {"slope": 0.2})])


def _tie_share(x, y):
    """The share of the gradient that goes to x in max(x, y): 1, 0, or 1/2 at a tie."""
    return np.where(x == y, 0.5, 1.0)


maximum = primitive("maximum", np.maximum,
                    lambda g, ans, x, y: g * (x >= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y >= x) * _tie_share(x, y),
                    holomorphic=False, samples=_binary())
minimum = primitive("minimum", np.minimum,
                    lambda g, ans, x, y: g * (x <= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y <= x) * _tie_share(x, y),
                    holomorphic=False, samples=_binary())


def _where(cond, x, y):
    """x where cond holds, else y; cond is not differentiated."""
    return np.where(np.asarray(cond) != 0, x, y)


where = primitive("where", _where,
                  None,
                  lambda g, ans, c, x, y: g * (c != 0),
                  lambda g, ans, c, x, y: g * (c == 0),
                  holomorphic=False,
                  samples=lambda rng: [((rng.integers(0, 2, (3, 4)).astype(float),
                                         _any(rng, 3, 4), _any(rng, 3, 4)), {}),
                                        ((rng.integers(0, 2, (3, 4)).astype(float),
                                          _any(rng, 4), _any(rng, 3, 1)), {})])


# ---------------------------------------------------------------------------- the public table
# Every name an exercise's forward expression may call: the primitives and the composites.
# Keep this last in the file.

def _public_ops() -> dict:
    table = {}
    for name, obj in list(globals().items()):
        if name.startswith("_") or not callable(obj):
            continue
        if hasattr(obj, "primitive") or getattr(obj, "composite", False):
            table[name] = obj
    return table


OPS = _public_ops()

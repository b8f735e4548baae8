"""Arithmetic and elementwise ops: each output element depends on the matching inputs.

Binary ops broadcast their inputs (``elementwise=True``); the engine sums broadcast axes out of
their gradients.
"""

from __future__ import annotations

import numpy as np

from ..core import primitive
from ..primitive import Kink
from .samples import away_from_zero, binary, binary_untied, normal, positive, unary

add = primitive("add", np.add,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: g,
                elementwise=True, samples=binary())
sub = primitive("sub", np.subtract,
                lambda g, ans, x, y: g,
                lambda g, ans, x, y: -g,
                elementwise=True, samples=binary())
mul = primitive("mul", np.multiply,
                lambda g, ans, x, y: g * y,
                lambda g, ans, x, y: g * x,
                elementwise=True, samples=binary())
div = primitive("div", np.divide,
                lambda g, ans, x, y: g / y,
                lambda g, ans, x, y: -g * x / (y * y),
                elementwise=True, samples=binary(normal, away_from_zero))
neg = primitive("neg", np.negative,
                lambda g, ans, x: -g,
                samples=unary())
power = primitive("power", np.power,
                  lambda g, ans, x, y: g * y * np.power(x, y - 1),
                  lambda g, ans, x, y: g * ans * np.log(x),
                  elementwise=True, samples=binary(positive, normal))
pow = power  # noqa: A001 - NumPy's and Python's other name for it

# ---------------------------------------------------------------------------- elementwise

exp = primitive("exp", np.exp,
                lambda g, ans, x: g * ans,
                samples=unary())
log = primitive("log", np.log,
                lambda g, ans, x: g / x,
                samples=unary(positive))
sqrt = primitive("sqrt", np.sqrt,
                 lambda g, ans, x: g * 0.5 / ans,
                 samples=unary(positive))
tanh = primitive("tanh", np.tanh,
                 lambda g, ans, x: g * (1.0 - ans * ans),
                 samples=unary())


def _sigmoid(x):
    """The logistic function 1 / (1 + exp(-x))."""
    if np.iscomplexobj(x):
        return 1.0 / (1.0 + np.exp(-x))
    # Evaluated without overflow on either side.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


sigmoid = primitive("sigmoid", _sigmoid,
                    lambda g, ans, x: g * ans * (1.0 - ans),
                    samples=unary())

abs = primitive("abs", np.abs,  # noqa: A001 - the op is called abs, as in NumPy
                lambda g, ans, x: g * np.sign(x),
                holomorphic=False, samples=unary(away_from_zero),
                kink=Kink("abs at 0", lambda x, **p: x))
relu = primitive("relu", lambda x: np.maximum(x, 0.0),
                 lambda g, ans, x: g * (x > 0),
                 holomorphic=False, samples=unary(away_from_zero),
                 kink=Kink("relu at 0", lambda x, **p: x))


def _leaky_relu(x, slope=0.01):
    """max(x, slope * x) for 0 <= slope <= 1."""
    return np.where(x > 0, x, slope * x)


leaky_relu = primitive("leaky_relu", _leaky_relu,
                       lambda g, ans, x, slope=0.01: g * np.where(x > 0, 1.0, slope),
                       holomorphic=False, kink=Kink("leaky_relu at 0", lambda x, **p: x),
                       samples=lambda rng: [((away_from_zero(rng, 3, 4),), {}),
                                            ((away_from_zero(rng, 6),), {"slope": 0.2})])


def _tie_share(x, y):
    """The share of the gradient that goes to x in max(x, y): 1, 0, or 1/2 at a tie."""
    return np.where(x == y, 0.5, 1.0)


maximum = primitive("maximum", np.maximum,
                    lambda g, ans, x, y: g * (x >= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y >= x) * _tie_share(x, y),
                    holomorphic=False, elementwise=True, samples=binary_untied,
                    kink=Kink("maximum with ties", lambda x, y, **p: np.subtract(x, y)))
minimum = primitive("minimum", np.minimum,
                    lambda g, ans, x, y: g * (x <= y) * _tie_share(x, y),
                    lambda g, ans, x, y: g * (y <= x) * _tie_share(x, y),
                    holomorphic=False, elementwise=True, samples=binary_untied,
                    kink=Kink("minimum with ties", lambda x, y, **p: np.subtract(x, y)))


def _where(cond, x, y):
    """x where cond holds, else y; cond is not differentiated."""
    return np.where(np.asarray(cond) != 0, x, y)


where = primitive("where", _where,
                  None,
                  lambda g, ans, c, x, y: g * (c != 0),
                  lambda g, ans, c, x, y: g * (c == 0),
                  holomorphic=False, elementwise=True,
                  samples=lambda rng: [((rng.integers(0, 2, (3, 4)).astype(float),
                                         normal(rng, 3, 4), normal(rng, 3, 4)), {}),
                                        ((rng.integers(0, 2, (3, 4)).astype(float),
                                          normal(rng, 4), normal(rng, 3, 1)), {}),
                                        ((rng.integers(0, 2, (4,)).astype(float),
                                          normal(rng, 2, 4), np.array(0.5)), {})])

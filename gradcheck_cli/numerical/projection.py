"""The fast check: a VJP under test projected on one random direction.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..engine.core import Tensor
from ..errors import OpError
from .choice import choose_stencil
from .directional import directional
from .results import ProjectionCheck
from .stencils import step_sizes
from .target import Target


def projection_check(f: Callable, grad, args: Sequence, dz=None, wrt=0, *, rtol: float = 1e-5,
                     atol: float = 1e-8, seed: int = 0, method: str = "auto") -> ProjectionCheck:
    """Compare u·grad (a VJP under test) with dzᵀJu from one directional difference, u random.

    As the fast mode of ``torch.autograd.gradcheck``: cheap for large inputs, and a failure
    is worth explaining with the per-element ``numerical_vjp``. ``grad`` is a tuple when
    ``wrt`` is; u is standard normal from ``numpy.random.default_rng(seed)``.
    """
    target = Target(f, args, wrt, dz, "projection_check", seed)
    grads = (grad,) if target.single or not isinstance(grad, (tuple, list)) else tuple(grad)
    if len(grads) != len(target.wrt):
        raise OpError(f"projection_check({target.name}): {len(grads)} gradient(s) for "
                      f"{len(target.wrt)} input(s) wrt={wrt}")
    directions, actual = {}, 0.0
    for i, g in zip(target.wrt, grads):
        try:
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
        except (ValueError, TypeError):
            raise OpError(f"projection_check({target.name}): the gradient for argument {i} is "
                          "not an array of real numbers") from None
        if g.shape != target.x(i).shape:
            raise OpError(f"projection_check({target.name}): the gradient for argument {i} has "
                          f"shape {g.shape} but the argument has shape {target.x(i).shape}")
        u = target.rng.standard_normal(g.shape)
        directions[i] = u
        actual += float(np.sum(u * g))
    stencil = choose_stencil(target, method, fallback="central")
    scale = max(float(np.max(np.abs(target.x(i)), initial=0.0)) for i in target.wrt)
    eps = max(target.eps(i) for i in target.wrt)
    tau = float(step_sizes(np.asarray(scale), stencil, eps, None))
    expected, error = directional(target, directions, stencil, tau, eps)
    abs_error = abs(actual - expected)
    tolerance = atol + rtol * abs(expected) + error
    rel_error = abs_error / max(abs(expected), np.finfo(float).tiny)
    return ProjectionCheck(bool(abs_error <= tolerance), actual, expected, abs_error, rel_error,
                           tolerance, stencil.name)

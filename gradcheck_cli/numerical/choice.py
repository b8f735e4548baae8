"""Choosing the stencil: the one asked for, or for ``auto`` the most accurate that is safe.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import OpError
from .directional import directional
from .stencils import COMPLEX_STEP, METHODS, STENCILS, Stencil, step_sizes
from .target import Target


def choose_stencil(target: Target, method: str, fallback: str = "richardson") -> Stencil:
    """The stencil asked for, or for ``auto`` the most accurate one that is safe here."""
    if method not in METHODS:
        raise OpError(f"{target.caller}({target.name}): unknown method {method!r}; "
                      f"choose one of {', '.join(METHODS)}")
    if method not in ("auto", "complex"):
        return STENCILS[method]
    problem = _complex_step_problem(target)
    if problem is None:
        return STENCILS["complex"]
    if method == "complex":
        raise OpError(f"{target.caller}({target.name}): the complex step cannot be used: "
                      f"{problem}; use method='richardson'")
    if target.engine and not target.not_holomorphic:
        target.notes.append(f"no complex step: {problem}")
    return STENCILS[fallback]


def _complex_step_problem(target: Target) -> str | None:
    """Why the complex step cannot be trusted for f here; None when it can.

    It needs f written with ops that are all holomorphic. The graph may still miss a detour
    through plain NumPy (``np.abs`` of a tensor) that the complex step gets wrong, so it must
    also agree with a real central difference along a random direction (small central steps
    rarely leave f's domain, as a log near 0 would punish wider ones).
    """
    if not target.engine:
        return "f is not written with the engine's ops"
    if target.not_holomorphic:
        return f"these ops are not holomorphic: {', '.join(target.not_holomorphic)}"
    directions = {i: target.rng.standard_normal(target.x(i).shape)
                  * np.maximum(np.abs(target.x(i)), 1.0) for i in target.wrt}
    eps = max(target.eps(i) for i in target.wrt)
    exact, exact_err = directional(target, directions, STENCILS["complex"], COMPLEX_STEP, eps)
    central = STENCILS["central"]
    tau = float(step_sizes(np.asarray(1.0), central, eps, None))
    approx, approx_err = directional(target, directions, central, tau, eps)
    if abs(exact - approx) <= 4.0 * (exact_err + approx_err) or not math.isfinite(approx):
        return None
    return ("it disagrees with a real difference along a random direction (does f take a "
            "detour through plain NumPy?)")

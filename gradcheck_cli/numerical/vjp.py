"""``numerical_vjp``: every element's derivative, coloured where that pays off, else one by one."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..errors import OpError
from .choice import choose_stencil
from .colouring import MIN_COLOURING_SIZE, coloured, projections_agree
from .per_element import per_element, settle_kinks
from .results import NumericalVJP
from .stencils import Stencil, step_sizes
from .target import CHUNK_BYTES, Target


def numerical_vjp(f: Callable, args: Sequence, dz=None, wrt=0, *, method: str = "auto",
                  step=None, return_error: bool = False, colouring: bool | None = None,
                  seed: int = 0, chunk_bytes: int = CHUNK_BYTES):
    """Finite-difference <dz, df/dx_i> for every element of ``args[wrt]``; f is any NumPy function.

    ``method``: ``"auto"`` (the complex step where it is safe, else Richardson), ``"complex"``,
    ``"richardson"`` or ``"central"``. ``step``: an absolute step (scalar or per element)
    instead of the automatic one. ``colouring``: None decides by size, True tries it whenever
    possible, False never. With ``return_error`` a ``NumericalVJP`` comes back, carrying the
    per-element error estimate and how the result was obtained.
    """
    target = Target(f, args, wrt, dz, "numerical_vjp", seed, chunk_bytes)
    stencil = choose_stencil(target, method)
    settle = method == "auto" and not stencil.is_complex and step is None
    values, errors, colours = [], [], []
    for i in target.wrt:
        try:
            h = step_sizes(target.x(i), stencil, target.eps(i), step)
        except OpError as exc:
            raise OpError(f"numerical_vjp({target.name}): {exc.message}") from None
        g, err, count = _vjp_of_input(target, i, stencil, h, colouring, settle)
        values.append(g)
        errors.append(err)
        colours.append(count)
    if not return_error:
        return values[0] if target.single else tuple(values)
    pick = (lambda seq: seq[0]) if target.single else tuple
    return NumericalVJP(pick(values), pick(errors), stencil.name, bool(target.batch_mode),
                        pick(colours), target.evaluations, tuple(target.notes))


def _vjp_of_input(target: Target, i: int, stencil: Stencil, h: np.ndarray,
                  colouring: bool | None, settle: bool):
    """The VJP w.r.t. input i: coloured if that pays off and checks out, else element-wise."""
    size = target.x(i).size
    # A single output (a loss) depends on every input: nothing could share a colour.
    worth = size > 1 and target.f0.size > 1 and (colouring or size >= MIN_COLOURING_SIZE)
    if colouring is not False and worth:
        found = coloured(target, i, stencil, h, force=bool(colouring))
        if found is not None:
            g, err, count = found
            if settle:
                g, err = settle_kinks(target, i, g, err)
            if projections_agree(target, i, stencil, g, err):
                return g, err, count
            target.notes.append("the coloured result failed its random-projection check; "
                                "perturbed one element at a time")
    g, err = per_element(target, i, stencil, h)
    if settle:
        g, err = settle_kinks(target, i, g, err)
    return g, err, None

"""The engine's ops, one module per family, each op one ``primitive(...)`` entry.

Adding an op is one ``primitive(...)`` entry in its family's module (its array code in
``engine/conv.py`` if it is long); the registry tests then check its VJPs against finite
differences, its batch-polymorphism, its kink and its error messages. A new family is a module
listed in ``FAMILIES``. A composite is a plain function built from primitives, marked
``composite = True`` (see ``composites.py``); it needs no VJP of its own.

Conventions:
- a VJP rule is ``rule(g, ans, *inputs, **params)``; it may return a broadcast-shaped gradient
  (the engine sums it down, and refuses any other shape, naming the op and the input);
- forwards address axes from the end and use ``lead(x)`` / ``logical_shape(x)`` for shapes, so
  that they also work on a batch of inputs stacked along extra leading axes (``batched``);
- parameters after the array inputs (``axis``, ``shape``, ``stride``...) may be given by name
  or by position, as in NumPy: ``sum(x, 0)``, ``reshape(x, (2, 3))``;
- ``holomorphic=False`` marks forwards that are not complex-analytic, where finite differences
  must not use the complex step; every other forward accepts complex input;
- ``kink=Kink(where, distance)`` says where a forward is not differentiable, so that a case
  whose inputs sit there is flagged (``engine.kinks.find_kinks``).

Kinks and ties (where the derivative does not exist, the engine picks the one PyTorch and
TensorFlow pick, or the symmetric one):
- relu'(0) = 0 and leaky_relu'(0) = slope (the derivative from the left), abs'(0) = 0;
- a max/min reduction with several equal largest (smallest) elements splits the gradient
  evenly among them: with k ties each receives g / k (as PyTorch's ``amax``);
- maximum/minimum of two arrays with x == y give half of the gradient to each;
- max_pool2d splits a window's gradient evenly among the window's tied maxima;
- where(cond, x, y) sends the gradient to x where cond is non-zero and to y elsewhere; cond is
  never differentiated.
"""

from __future__ import annotations

from types import ModuleType

from . import (classifiers, composites, convolution, elementwise, linalg, reductions, shapes,
               softmax)

FAMILIES: tuple[ModuleType, ...] = (elementwise, reductions, shapes, linalg, softmax,
                                    convolution, classifiers, composites)


def _public_ops() -> dict:
    """Every name an exercise's forward expression may call: the primitives and composites."""
    table = {}
    for family in FAMILIES:
        for name, obj in vars(family).items():
            if name.startswith("_") or not callable(obj):
                continue
            if hasattr(obj, "primitive") or getattr(obj, "composite", False):
                table.setdefault(name, obj)
    return table


OPS = _public_ops()
# ``ops.sigmoid(x)``: every op is an attribute of this package, whichever family defines it.
globals().update(OPS)

"""What the engine knows about an op: its forward, its VJP rules and where it has kinks.

Plain data, filled in by ``primitive(...)`` entries in ``ops/``; the tracer (``tensor.py``) and
the reverse walk (``core.py``) read it, and know nothing about derivatives themselves.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Kink:
    """Where an op is not differentiable: its name in words and the distance to it.

    ``distance(*inputs, **params)`` gives, per element, how far the inputs are from the kink
    (0 on it), in the units of the first input; ``engine.kinks.find_kinks`` reads it.
    """

    where: str
    distance: Callable[..., np.ndarray]


@dataclass(frozen=True)
class Primitive:
    """An op the engine differentiates: a forward and one VJP rule per differentiable input.

    ``vjps[i](g, ans, *inputs, **params)`` returns the gradient w.r.t. input ``i`` given the
    output gradient ``g``; it may return it in the broadcast shape (the engine reduces it).
    ``holomorphic`` says whether the forward is complex-analytic, so finite differences may
    use the complex step. ``samples(rng)`` yields ``(inputs, params)`` used by the tests that
    walk the registry. ``variadic`` forwards take a sequence of arrays as their first input.
    ``elementwise`` forwards broadcast their inputs against each other; ``new_axis`` says the
    ``axis`` parameter counts the one axis the output adds (stack). ``param_names`` and
    ``defaults`` are the forward's non-array parameters, read from its signature;
    ``input_names`` name its array inputs in messages. ``kink`` says where the forward is not
    differentiable (None: smooth, or a kink its inputs cannot show). ``joint(g, ans, *inputs,
    **params)``, where given, returns the gradients of all inputs at once, as the rules would
    one by one; the reverse walk calls it when more than one input needs a gradient (a
    convolution shares one pass over its samples between them).
    """

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[Callable[..., np.ndarray] | None, ...] = ()
    holomorphic: bool = True
    variadic: bool = False
    samples: Callable[[np.random.Generator], Sequence[tuple[tuple, dict]]] | None = None
    differentiable: bool = True
    joint: Callable[..., tuple] | None = None
    elementwise: bool = False
    new_axis: bool = False
    param_names: tuple[str, ...] = ()
    defaults: dict = field(default_factory=dict, compare=False, hash=False)
    input_names: tuple[str, ...] = ()
    kink: Kink | None = None

    @property
    def arity(self) -> int:
        """How many array inputs the forward takes (a variadic op takes one sequence)."""
        return 1 if self.variadic else len(self.vjps)

    def input_label(self, position: int) -> str:
        """An input in words for messages: ``input 1 (y)``."""
        if self.variadic:
            return f"input {position} of the sequence"
        names = self.input_names
        return f"input {position} ({names[position]})" if position < len(names) else \
            f"input {position}"


PRIMITIVES: dict[str, Primitive] = {}


def signature_names(forward: Callable, vjps: Sequence[Callable | None],
                    arity: int) -> tuple[tuple[str, ...], tuple[str, ...], dict]:
    """A forward's input names, parameter names and parameter defaults, from its signature.

    A ufunc has no signature: its inputs are named after a VJP rule's, ``rule(g, ans, x, y)``.
    """
    if not inspect.isfunction(forward):  # a ufunc: arrays only
        rule = next((r for r in vjps if r is not None), None)
        listed = list(inspect.signature(rule).parameters)[2:2 + arity] if rule else []
        return tuple(listed), (), {}
    listed = list(inspect.signature(forward).parameters.values())
    inputs = tuple(p.name for p in listed[:arity])
    rest = listed[arity:]
    names = tuple(p.name for p in rest)
    defaults = {p.name: p.default for p in rest if p.default is not inspect.Parameter.empty}
    return inputs, names, defaults

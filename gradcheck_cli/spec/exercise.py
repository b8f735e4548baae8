"""An exercise, built from a validated spec file, and the cases it is graded on.

``builder.build_exercise`` makes one from a spec file. Drawing the cases evaluates the forward
through the engine; the learner's code is only ever called in the sandbox (``grading``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import OpError
from ..tolerance import Tolerance
from .cases import Case, CaseSpec, generate
from .expression import Expression

# simple: ``grad_f(*inputs, dz)`` returns the gradients; pair: ``out, cache = f(*inputs)`` then
# ``backward(dout, cache)`` returns them; loss: ``loss, grads = f(*inputs)``.
STYLES = ("simple", "pair", "loss")


@dataclass(frozen=True)
class Kinks:
    """Input values where the forward is not differentiable, and how far random draws stay."""

    at: tuple[float, ...] = ()
    margin: float = 1e-3


@dataclass(frozen=True, eq=False)
class Mistake:
    """A known wrong answer: its gradient formula and what to tell a learner who gave it."""

    id: str
    gradient: Expression
    hint: str | None
    message: str
    wrt: str
    dz_name: str = field(default="dz", repr=False)
    line: int | None = None

    def evaluate(self, case: Case) -> np.ndarray | None:
        """The mistaken gradient on ``case``, or None where it cannot be computed (shapes).

        Its shape may differ from the input's: forgetting to sum a bias gradient over the batch
        is a classic mistake of exactly that kind.
        """
        env = {**case.inputs, self.dz_name: case.dz}
        try:
            value = self.gradient(**env)
        except OpError:
            return None
        return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Exercise:
    """One exercise: what the learner writes, the forward it differentiates, how it is graded."""

    name: str
    title: str
    description: str = field(repr=False)
    function: str                   # the learner's function name, e.g. grad_conv2d
    signature: str                  # as written, e.g. grad_conv2d(x, w, dz)
    params: tuple[str, ...]         # the inputs, without the upstream gradient
    dz_name: str
    wrt: tuple[str, ...]
    points: float
    scoring: str
    group: str | None
    tags: tuple[str, ...]
    tolerance: Tolerance
    hints: tuple[str, ...]
    forbidden_imports: tuple[str, ...]
    kinks: Kinks
    forward: Expression
    mistakes: tuple[Mistake, ...]
    case_specs: tuple[CaseSpec, ...] = field(repr=False)
    source_file: str | None = None
    line: int | None = None
    # How the learner's code is called (see ``STYLES``), with the parameters that are not
    # arrays (``params:``) placed by name among the arguments of ``function``'s signature.
    style: str = "simple"
    backward: str | None = None            # pair style: the backward function's name
    backward_signature: str | None = None
    param_values: dict = field(default_factory=dict, repr=False)
    arguments: tuple[str, ...] = ()         # every parameter of ``function``, in order

    def placement(self) -> dict:
        """Where the worker puts ``param_values`` among the arrays of a call of ``function``
        (``sandbox/inside/serve.py``); empty when every argument is an array."""
        if not self.param_values:
            return {}
        return {"layout": [{"param": self.param_values[name], "name": name}
                           if name in self.param_values else "a" for name in self.arguments]}

    @property
    def functions(self) -> tuple[str, ...]:
        """The learner functions the exercise calls: the forward and, in pairs, the backward."""
        return (self.function,) + ((self.backward,) if self.backward else ())

    @property
    def wrt_indices(self) -> tuple[int, ...]:
        """Positions of the ``wrt`` inputs among ``params``."""
        return tuple(self.params.index(name) for name in self.wrt)

    @functools.cached_property
    def forward_fn(self) -> Callable:
        """The forward as a function of the inputs in ``params`` order (for ``engine.vjp``)."""
        forward, params = self.forward, self.params

        def fn(*args):
            if len(args) != len(params):
                raise TypeError(f"{self.name} takes {len(params)} input(s), got {len(args)}")
            return forward(**dict(zip(params, args)))

        fn.__name__ = fn.__qualname__ = self.name
        return fn

    @property
    def case_names(self) -> list[str]:
        """The names of the cases every seed produces, in order."""
        return [name for spec in self.case_specs for name in spec.case_names()]

    def generate_cases(self, seed: int) -> list[Case]:
        """The cases for ``seed``: literal cases as written, random ones drawn afresh."""
        from ..engine import forward_value

        def evaluate(args: tuple) -> np.ndarray:
            return np.asarray(forward_value(self.forward_fn, args), dtype=np.float64)

        cases: list[Case] = []
        for spec in self.case_specs:
            cases += generate(spec, seed=seed, exercise=self.name, file=self.source_file,
                              forward_value=evaluate, params=self.params, kinks=self.kinks.at,
                              margin=self.kinks.margin, start_index=len(cases))
        return cases

    def gradients(self, case: Case) -> tuple[np.ndarray, ...]:
        """The engine's gradients for ``case``, one per ``wrt`` name."""
        from ..engine import vjp
        return vjp(self.forward_fn, case.args, case.dz, wrt=self.wrt_indices)

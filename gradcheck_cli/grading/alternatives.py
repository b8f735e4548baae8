"""Cheap extra engine evaluations that name a mistake, computed only for failing cases.

A wrong gradient is often a *right* computation of the wrong thing: the VJP with dz all ones,
the forward value, the gradient of another argument, an exercise's authored mistake. Each of
those is one more pass through the engine; ``Alternatives`` computes each on first use and
remembers it (or the error it raised), so a passing case costs nothing and a failing one pays
only for what its detectors ask.

It also lists the kinks (relu at 0, ties in a max) a case's inputs sit on, so that the case can
be flagged as one where finite differences are unreliable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..engine.kinks import KINK_DISTANCE, find_kinks, near
from ..errors import GradcheckError
from ..spec import Case, Exercise, Mistake
from .diagnoses.registry import EvidenceUnavailable


class _Failed:
    """A remembered error of a lazy evaluation, re-raised on every later access."""

    def __init__(self, exc: BaseException):
        self.exc = exc


def _lazy(fn):
    """Like ``functools.cached_property``, but an exception is remembered too (raised again)."""
    attr = "_lazy_" + fn.__name__

    def get(self):
        value = self.__dict__.get(attr)
        if value is None:
            try:
                value = fn(self)
            except Exception as exc:  # noqa: BLE001 - remembered, raised to each detector asking
                value = _Failed(exc)
            self.__dict__[attr] = value
        if isinstance(value, _Failed):
            if isinstance(value.exc, GradcheckError):
                # The engine cannot evaluate this on the case: the detector does not apply.
                raise EvidenceUnavailable(str(value.exc)) from value.exc
            raise value.exc                  # a bug: the report shows it
        return value

    get.__doc__ = fn.__doc__
    return property(get)


def _array(value) -> np.ndarray:
    """An engine result (Tensor or array-like) as a float64 array."""
    return np.asarray(getattr(value, "data", value), dtype=np.float64)


@dataclass(frozen=True)
class MistakeGradient:
    """An authored mistake and what its gradient comes to on one case (or why it failed)."""

    id: str
    message: str | None
    hint: str | None
    value: np.ndarray | None             # None (and no error): it does not fit the case
    error: Exception | None = None       # the formula raised: a bug, reported as such


class Alternatives:
    """The engine's other answers for one case; each is computed the first time it is read."""

    def __init__(self, forward_fn: Callable, names: Sequence[str], args: Sequence[np.ndarray],
                 dz: np.ndarray, wrt: Sequence[int], *, dz_name: str = "dz",
                 mistakes: Sequence[Mistake] = (), kink_values: Sequence[float] = ()):
        self.forward_fn = forward_fn
        self.names = tuple(names)
        self.args = tuple(np.asarray(a, dtype=np.float64) for a in args)
        self.dz = np.asarray(dz, dtype=np.float64)
        self.wrt = tuple(wrt)
        self.dz_name = dz_name
        self.mistake_specs = tuple(mistakes)
        self.kink_values = tuple(kink_values)
        self._unreduced: dict = {}
        self._without: dict = {}
        self._elsewhere: dict = {}

    @classmethod
    def for_case(cls, exercise: Exercise, case: Case) -> "Alternatives":
        """The alternatives of one case of an exercise spec."""
        return cls(exercise.forward_fn, exercise.params,
                   [case.inputs[name] for name in exercise.params], case.dz,
                   exercise.wrt_indices, dz_name=exercise.dz_name, mistakes=exercise.mistakes,
                   kink_values=exercise.kinks.at)

    def _vjp(self, dz: np.ndarray, wrt: Sequence[int]) -> tuple[np.ndarray, ...]:
        from ..engine import vjp

        return tuple(_array(g) for g in vjp(self.forward_fn, self.args, dz, wrt=tuple(wrt)))

    @_lazy
    def forward(self) -> np.ndarray:
        """The forward output on the case's inputs."""
        from ..engine import forward_value

        return _array(forward_value(self.forward_fn, self.args))

    @_lazy
    def ones_upstream(self) -> tuple[np.ndarray, ...]:
        """Each graded gradient as it would be with dz all ones."""
        return self._vjp(np.ones_like(self.dz), self.wrt)

    @_lazy
    def all_inputs(self) -> tuple[np.ndarray, ...]:
        """The gradient with respect to every argument, in argument order."""
        return self._vjp(self.dz, range(len(self.args)))

    def other_inputs(self, output: int) -> dict[str, np.ndarray]:
        """The gradients with respect to every argument but the one of output ``output``."""
        grads = self.all_inputs
        own = self.wrt[output]
        return {self.names[i]: g for i, g in enumerate(grads) if i != own}

    @_lazy
    def kinks(self) -> tuple[str, ...]:
        """The kinks of non-smooth ops (or that the spec declares) the case's inputs sit on."""
        return self.kinks_within(KINK_DISTANCE)

    def kinks_within(self, distance: float) -> tuple[str, ...]:
        """The kinks that some input is within ``distance`` (relative) of."""
        declared = tuple(f"an input at {v:g}" for v in self.kink_values
                         if any(near(a - v, a, distance) for a in self.args))
        return declared + find_kinks(self.forward_fn, self.args, distance)

    @_lazy
    def _mistakes(self) -> tuple[tuple[str, MistakeGradient], ...]:
        env = dict(zip(self.names, self.args))
        env[self.dz_name] = self.dz
        found = []
        for mistake in self.mistake_specs:
            try:
                value, error = _array(mistake.gradient(**env)), None
            except GradcheckError:   # shapes that do not fit this case: the mistake cannot apply
                value, error = None, None
            except Exception as exc:  # noqa: BLE001 - one broken mistake must not hide the others
                value, error = None, exc
            found.append((mistake.wrt, MistakeGradient(mistake.id, mistake.message, mistake.hint,
                                                       value, error)))
        return tuple(found)

    def mistakes(self, output: int) -> list[MistakeGradient]:
        """The authored mistakes that apply to output ``output``, with their gradients."""
        own = self.names[self.wrt[output]]
        return [m for wrt, m in self._mistakes if wrt == own]

    def unreduced(self, output: int) -> np.ndarray:
        """Output ``output``'s gradient before its broadcast is summed away: the gradient of
        the input broadcast to the forward output's shape (unavailable if it is not broadcast)."""
        if output not in self._unreduced:
            self._unreduced[output] = _evaluated(lambda: self._unreduced_gradient(output))
        return _result(self._unreduced[output])

    def _unreduced_gradient(self, output: int) -> np.ndarray:
        from ..engine import forward_value

        index = self.wrt[output]
        arg = self.args[index]
        if arg.shape == self.forward.shape or arg.size == self.forward.size:
            raise EvidenceUnavailable("the input is not broadcast in the forward")
        try:
            wide = np.broadcast_to(arg, self.forward.shape).copy()
        except ValueError:
            raise EvidenceUnavailable("the input does not broadcast to the output") from None
        args = tuple(wide if i == index else a for i, a in enumerate(self.args))
        try:
            same = _array(forward_value(self.forward_fn, args))
        except Exception as exc:  # noqa: BLE001 - an op that takes only the input's own shape
            raise EvidenceUnavailable(str(exc)) from exc
        if same.shape != self.forward.shape or not np.array_equal(same, self.forward):
            raise EvidenceUnavailable("the forward does not broadcast this input")
        from ..engine import vjp
        return _array(vjp(self.forward_fn, args, self.dz, wrt=index))

    def without_paths(self, output: int) -> list[tuple[str, np.ndarray]]:
        """Output ``output``'s gradient with one path left out, for each op of the forward:
        (the op in words, the gradient if that op's value were a constant)."""
        if output not in self._without:
            self._without[output] = _evaluated(lambda: self._without_paths(output))
        return _result(self._without[output])

    def _without_paths(self, output: int) -> list[tuple[str, np.ndarray]]:
        from ..engine.core import backward, topological_order, trace

        index = self.wrt[output]
        out, leaves = trace(self.forward_fn, self.args, (index,))
        found = []
        for node in topological_order(out):
            if node is out or node.prim is None or not node.requires_grad:
                continue
            grad = backward(out, self.dz, frozenset({id(node)})).get(id(leaves[index]))
            value = np.zeros(self.args[index].shape) if grad is None else _array(grad)
            found.append((_op_words(node), value))
        return found

    def gradient_at(self, label: str, args: Sequence[np.ndarray],
                    dz: np.ndarray) -> tuple[np.ndarray, ...]:
        """The graded gradients at other inputs (to see what they depend on), computed once
        per ``label``."""
        if label not in self._elsewhere:
            self._elsewhere[label] = _evaluated(lambda: tuple(
                _array(g) for g in _vjp_at(self.forward_fn, args, dz, self.wrt)))
        return _result(self._elsewhere[label])


def _vjp_at(forward_fn, args, dz, wrt):
    from ..engine import vjp

    with np.errstate(all="ignore"):
        return vjp(forward_fn, tuple(args), dz, wrt=wrt)


# Ops written with an operator in a forward formula, named as a reader of it would.
_OPERATORS = {"add": "an addition (+)", "sub": "a subtraction (-)", "mul": "a product (*)",
              "div": "a division (/)", "neg": "a negation (-)", "power": "a power (**)",
              "matmul": "a matrix product (@)", "getitem": "an indexing ([...])"}


def _op_words(node) -> str:
    """'mean(axis=-1)', 'a subtraction (-)': an op of the forward as the spec would write it."""
    params = ", ".join(f"{k}={v!r}" for k, v in node.params.items()
                       if not k.startswith("_") and v is not None)
    if node.prim.name in _OPERATORS and not params:
        return _OPERATORS[node.prim.name]
    return f"{node.prim.name}({params})" if params else node.prim.name


def _evaluated(make):
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 - remembered, raised to each detector asking
        return _Failed(exc)


def _result(value):
    if isinstance(value, _Failed):
        if isinstance(value.exc, (GradcheckError, EvidenceUnavailable)):
            raise EvidenceUnavailable(str(value.exc)) from value.exc
        raise value.exc
    return value


# ---------------------------------------------------------------------------- kinks
# Each op declares its own kink (``kink=`` on its primitive); ``find_kinks`` walks them. When
# finite differences disagree with the engine, a wider distance (their step, FD_STEP) than
# sitting on the kink (KINK_DISTANCE) explains it.

FD_STEP = 2e-2

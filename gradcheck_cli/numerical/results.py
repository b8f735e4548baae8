"""What the finite differences return: plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NumericalVJP:
    """A finite-difference VJP with a per-element error estimate and how it was computed.

    ``value``, ``error`` and ``colours`` are tuples when ``wrt`` was a tuple. ``colours`` is
    the number of colour groups an input's elements were perturbed in (None: one at a time).
    """

    value: Any
    error: Any
    method: str
    batched: bool
    colours: Any
    evaluations: int
    notes: tuple[str, ...] = ()

    @property
    def coloured(self) -> bool:
        """Whether Jacobian colouring was used for (any of) the inputs."""
        colours = self.colours if isinstance(self.colours, tuple) else (self.colours,)
        return any(c is not None for c in colours)


@dataclass(frozen=True)
class ProjectionCheck:
    """A VJP projected on a random direction u: ``actual`` = u·grad, ``expected`` = dzᵀJu."""

    passed: bool
    actual: float
    expected: float
    abs_error: float
    rel_error: float
    tolerance: float
    method: str

    def __bool__(self) -> bool:
        return self.passed

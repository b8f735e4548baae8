"""Diagnoses: small detectors that name a learner's mistake, registered in one table.

A detector gets a ``Evidence`` (the learner's arrays, the true gradient, and lazily computed
alternatives from the engine) and returns a ``Diagnosis`` or None. Adding a diagnosis is one
``@detector`` function here; a detector that raises is skipped, never crashes the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from ..report.model import Diagnosis

DETECTORS: dict[str, "Detector"] = {}


@dataclass(frozen=True)
class Detector:
    id: str
    run: Callable[["Evidence"], Diagnosis | None]
    specificity: int     # higher is shown first


def detector(id: str, specificity: int = 50):
    """Register a detector under a stable diagnosis id."""
    def register(fn):
        DETECTORS[id] = Detector(id, fn, specificity)
        return fn
    return register


@dataclass
class Evidence:
    """What a detector may look at for one output of one case."""

    got: np.ndarray
    expected: np.ndarray
    output_name: str
    close: Callable[[np.ndarray, np.ndarray], bool]
    alternatives: Callable[[], dict[str, np.ndarray]] = lambda: {}
    extra: dict = field(default_factory=dict)

    @cached_property
    def alt(self) -> dict[str, np.ndarray]:
        return self.alternatives()


def diagnose(evidence: Evidence) -> list[Diagnosis]:
    """Every diagnosis that applies, most specific first."""
    found = []
    for det in sorted(DETECTORS.values(), key=lambda d: -d.specificity):
        try:
            result = det.run(evidence)
        except Exception:  # noqa: BLE001 - a broken detector must not break the report
            continue
        if result is not None:
            found.append(result)
    return found


# ---------------------------------------------------------------------------- generic detectors


@detector("shape_mismatch", specificity=90)
def _shape_mismatch(ev: Evidence):
    if ev.got.shape == ev.expected.shape:
        return None
    return Diagnosis("shape_mismatch",
                     f"{ev.output_name} has shape {_shape(ev.got)} but the gradient has shape "
                     f"{_shape(ev.expected)}",
                     "A gradient always has the shape of the input it is taken with respect to.")


@detector("not_finite", specificity=85)
def _not_finite(ev: Evidence):
    if ev.got.shape != ev.expected.shape:
        return None
    bad = ~np.isfinite(ev.got) & np.isfinite(ev.expected)
    if not bad.any():
        return None
    return Diagnosis("not_finite", f"{int(bad.sum())} element(s) of {ev.output_name} are NaN or "
                     "Inf where the gradient is finite",
                     "Look for a division by zero, log of 0, or exp of a large number; "
                     "a numerically stable formula avoids them.")


def _shape(a: np.ndarray) -> str:
    return "a scalar ()" if a.ndim == 0 else str(tuple(a.shape))

"""The other answers the diagnoses compare a checked gradient with, from the learner's own
forward (finite differences in the worker): ``FileAlternatives``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import GradcheckError
from ..grading.alternatives import MistakeGradient
from ..grading.diagnoses import EvidenceUnavailable
from .failure import LearnerFailed


class FileAlternatives:
    """The other answers the diagnoses compare with, from the learner's own forward.

    Stands in for ``grading.alternatives.Alternatives`` when the forward is opaque: its output
    comes from the worker, and the other VJPs from finite differences (computed only when a
    diagnosis asks).
    """

    def __init__(self, session, out: np.ndarray, dz: np.ndarray,
                 numerical: tuple[np.ndarray, ...]):
        self.session = session
        self.forward = np.asarray(out, dtype=np.float64)
        self.dz = dz
        self.known = dict(zip(session.wrt, numerical))
        self.names = tuple(session.variables)
        self.kinks: tuple[str, ...] = ()
        self._ones: tuple[np.ndarray, ...] | None = None

    @property
    def ones_upstream(self) -> tuple[np.ndarray, ...]:
        """Each checked gradient as it would be with dz all ones."""
        if self._ones is None:
            self._ones = self._numerical(np.ones_like(self.dz), self.session.wrt)
        return self._ones

    def other_inputs(self, output: int) -> dict[str, np.ndarray]:
        """The gradients with respect to every other input."""
        own = self.session.wrt[output]
        missing = [n for n in self.names if n not in self.known]
        if missing:
            self.known.update(zip(missing, self._numerical(self.dz, missing)))
        return {n: self.known[n] for n in self.names if n != own}

    def _numerical(self, dz: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, ...]:
        try:
            return self.session.numerical(dz, names)
        except (LearnerFailed, GradcheckError) as exc:
            # The learner's forward failed on these inputs: the detector asking does not apply.
            raise EvidenceUnavailable(str(exc)) from exc

    def mistakes(self, output: int) -> list[MistakeGradient]:
        """No authored mistakes outside an exercise."""
        return []

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return tuple(self.session.arrays[n] for n in self.names)

    # Without the engine, the learner's forward gives no broadcast, no paths and no gradient
    # at other inputs: the detectors that need them do not apply.
    def unreduced(self, output: int) -> np.ndarray:
        raise EvidenceUnavailable("no engine graph for the learner's own forward")

    def without_paths(self, output: int) -> list[tuple[str, np.ndarray]]:
        raise EvidenceUnavailable("no engine graph for the learner's own forward")

    def gradient_at(self, label: str, args, dz: np.ndarray) -> tuple[np.ndarray, ...]:
        raise EvidenceUnavailable("finite differences at other inputs are not computed")

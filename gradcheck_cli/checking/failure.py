"""A call of the learner's code that gave no usable numbers, as the check's code passes it on."""

from __future__ import annotations

from ..sandbox import CallResult


class LearnerFailed(Exception):
    """A call of the learner's code did not give usable numbers (carries the worker's outcome)."""

    def __init__(self, function: str, outcome: CallResult):
        super().__init__(outcome.message or outcome.status)
        self.function = function
        self.outcome = outcome

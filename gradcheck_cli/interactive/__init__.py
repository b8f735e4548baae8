"""One of the learner's functions checked on its exercise from a notebook or a REPL, in the
learner's own process: ``check("softmax", grad_softmax)`` (``exercise.py``), its function
called here as the sandbox's worker would call it (``caller.py``).

This is the one place where learner code runs in gradcheck's process, by design: the function
already lives in the learner's process. Nothing else of the package imports this one (a
contract in pyproject.toml): ``gradcheck run``, ``grade`` and ``check`` run learner code only in
the sandbox.
"""

from .exercise import ExerciseCheck, check

__all__ = ["ExerciseCheck", "check"]

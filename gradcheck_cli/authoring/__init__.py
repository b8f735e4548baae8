"""Tools for exercise authors, one module per command: ``new`` (a spec skeleton), ``validate``
(every problem of every spec, its rules in ``rules.py``) and ``describe`` (what ``show``
prints: the learner's view)."""

from .describe import describe_exercise
from .new import SKELETON, new_spec
from .problems import RULES, Problem, Validation, validation_rule
from .validate import SEEDS_CHECKED, check_exercise_thoroughly, check_solution, validate_paths

__all__ = ["RULES", "SEEDS_CHECKED", "SKELETON", "Problem", "Validation",
           "check_exercise_thoroughly", "check_solution", "describe_exercise", "new_spec",
           "validate_paths", "validation_rule"]

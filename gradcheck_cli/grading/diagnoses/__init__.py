"""Diagnoses: small units that name a learner's mistake, registered in one table.

``registry.py`` holds the table and runs it; the detectors register themselves by level:
``output.py`` and ``values.py`` (one output of one failing case), ``probes.py`` (one output,
calling the learner's function again), ``structure.py`` (one output, by the gradient's rows
and paths), ``across_cases.py`` (every case of an exercise), ``failures.py`` (the wording of
what the worker saw). Adding a diagnosis is one decorated function in one of them;
``wording.py`` puts places in words (numbers and shapes are ``report/numbers.py``'s).
"""

# The detector modules register themselves on import.
from . import across_cases, failures, output, probes, structure, values  # noqa: F401
from .registry import (AUTHORED_SPECIFICITY, DETECTORS, INTERNAL_ERROR, AlternativeAnswers,
                       Detector, Evidence, EvidenceUnavailable, ExerciseEvidence, Failure,
                       describe_failure, detector, diagnose, diagnose_exercise,
                       exercise_detector, internal_error, names_the_answer, rank,
                       reported)

__all__ = ["AUTHORED_SPECIFICITY", "DETECTORS", "INTERNAL_ERROR", "AlternativeAnswers",
           "Detector", "Evidence", "EvidenceUnavailable", "ExerciseEvidence", "Failure",
           "describe_failure", "detector", "diagnose", "diagnose_exercise", "exercise_detector",
           "internal_error", "names_the_answer", "rank", "reported"]

"""Checking a VJP that is not an exercise.

``check_vjp`` (``vjp.py``) runs in the learner's own process: the in-notebook API.
``check_file`` (``file.py``, ``gradcheck check``) checks a layer in a file, run in the sandbox,
one ``Session`` (``session.py``) per check.
"""

from .file import check_file, check_seeds
from .inputs import InputSpec, parse_input, parse_param
from .options import MAX_CHECK_ELEMENTS, STYLES, CheckOptions
from .vjp import CheckResult, check_vjp

__all__ = ["MAX_CHECK_ELEMENTS", "STYLES", "CheckOptions", "CheckResult", "InputSpec",
           "check_file", "check_seeds", "check_vjp", "parse_input", "parse_param"]

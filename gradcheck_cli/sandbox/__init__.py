"""The learner's code runs here: in a separate worker process, behind a pipe, with limits.

``Worker`` is the grader's handle on one submission; ``child.py`` is the program that runs
in the worker process; ``wire.py`` is the frame format between them (never pickle).
``ForkServer`` (``zygote.py``) forks workers from one process that imported NumPy already;
``confine.py`` takes away what the system lets us (network, root, processes).
"""

from .forkserver import ForkServer
from .options import ALWAYS_FORBIDDEN_IMPORTS, DEFAULT_FORBIDDEN_IMPORTS, SandboxOptions
from .process import SandboxError
from .results import CALL_DIAGNOSES, STATUSES, CallResult, Frame, ImportFailure
from .worker import Worker

__all__ = ["Worker", "ForkServer", "SandboxOptions", "CallResult", "ImportFailure", "Frame", "SandboxError",
           "STATUSES", "CALL_DIAGNOSES", "DEFAULT_FORBIDDEN_IMPORTS",
           "ALWAYS_FORBIDDEN_IMPORTS"]

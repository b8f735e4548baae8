"""The learner's code runs here: in a separate worker process, behind a pipe, with limits.

The grader's side: ``Worker`` (``worker.py``) is the grader's handle on one submission;
``process.py`` starts and ends its process, ``channel.py`` talks to it, ``options.py`` holds its
limits and the one list of refused imports; ``ForkServer`` (``forkserver.py``) forks workers
from one process that imported NumPy already.

The other side, ``inside/``, is the code that runs in the worker process and the fork server:
the standard library and NumPy only (``inside/serve.py`` for a worker,
``inside/forkserver_main.py`` for the server; ``inside/wire.py`` is the frame format between
them, never pickle).
"""

from .forkserver import ForkServer
from .options import ALWAYS_FORBIDDEN_IMPORTS, DEFAULT_FORBIDDEN_IMPORTS, SandboxOptions
from .process import SandboxError
from .results import CALL_DIAGNOSES, STATUSES, CallResult, Frame, ImportFailure
from .worker import Worker

__all__ = ["Worker", "ForkServer", "SandboxOptions", "CallResult", "ImportFailure", "Frame", "SandboxError",
           "STATUSES", "CALL_DIAGNOSES", "DEFAULT_FORBIDDEN_IMPORTS",
           "ALWAYS_FORBIDDEN_IMPORTS"]

"""How a learner's worker is limited: time per call, memory, processes, refused imports,
captured output. Also the one list of imports refused by default, in every command and every
exercise that does not name its own."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError

# Modules that compute gradients for the learner (or are this grader): importing one of them in
# a submission defeats the exercise. The default of `run`, `grade`, `check` and of an exercise
# file's `forbidden_imports`.
DEFAULT_FORBIDDEN_IMPORTS = (
    "autograd", "chainer", "gradcheck_cli", "jax", "jaxlib", "keras", "micrograd", "mxnet",
    "mygrad", "numdifftools", "paddle", "pytensor", "tensorflow", "theano", "tinygrad", "torch",
)

# Refused whatever the exercise says: the grader's own engine knows every answer.
ALWAYS_FORBIDDEN_IMPORTS = ("gradcheck_cli",)

# Seconds of a submission's code, all calls together: room for dozens of exercises of honest
# code, and a bound on a file whose every call crashes after a slow import.
DEFAULT_DEADLINE = 120.0


@dataclass(frozen=True)
class SandboxOptions:
    """Limits for one submission's worker process.

    ``timeout`` is wall-clock seconds per call; importing the submission gets
    ``import_timeout`` (default: the call timeout, at least 10 s). ``memory_mb`` is what the
    learner's code may allocate on top of the worker's own interpreter and NumPy.
    ``capture_limit`` caps the bytes of printed output kept per call (and for the import).
    ``process_limit`` is how many processes (and threads) the learner's code may start, where
    the system enforces it (see ``inside/confine.limit_processes``). ``deadline`` is the
    wall-clock seconds the grader waits on the submission's code in all (its import and every
    call, restarts included): a bound on what one submission costs, whatever it does.
    ``hidden_paths`` are other learners' files and folders: the modules beside the submission
    that the worker gets (``learner_files.py``) never include them; ``shared_paths`` are a
    course's modules (``.py`` files or package folders) that every worker gets. Plain
    values only: a fork server, if any, is handed to ``Worker`` beside these options.
    """

    timeout: float = 10.0
    memory_mb: int = 1024
    forbidden_imports: tuple[str, ...] = DEFAULT_FORBIDDEN_IMPORTS
    capture_limit: int = 65536
    import_timeout: float | None = None
    startup_timeout: float = 60.0
    process_limit: int = 64
    deadline: float = DEFAULT_DEADLINE
    confinement: str | None = None          # bwrap, process, auto; None: $GRADCHECK_CONFINEMENT
    hidden_paths: tuple[str, ...] = ()      # other learners' files and folders (a batch's)
    shared_paths: tuple[str, ...] = ()      # course modules every learner is sent (absolute)

    def __post_init__(self):
        object.__setattr__(self, "forbidden_imports", tuple(self.forbidden_imports))
        object.__setattr__(self, "hidden_paths", tuple(self.hidden_paths))
        object.__setattr__(self, "shared_paths", tuple(self.shared_paths))
        _require(self.timeout > 0, f"the timeout must be a positive number of seconds, "
                                   f"not {self.timeout}", "--timeout")
        _require(self.confinement in (None, "auto", "bwrap", "process"),
                 f"unknown confinement {self.confinement!r}", None)
        _require(self.deadline > 0, f"the deadline must be a positive number of seconds, "
                                    f"not {self.deadline}", "--deadline")
        _require(self.memory_mb >= 16, f"the memory limit must be at least 16 MB, "
                                       f"not {self.memory_mb}", "--memory")
        _require(self.process_limit >= 1, f"the process limit must be at least 1, "
                                          f"not {self.process_limit}", None)
        _require(self.capture_limit >= 0, "the capture limit cannot be negative", None)
        _require(self.import_timeout is None or self.import_timeout > 0,
                 f"the import timeout must be positive, not {self.import_timeout}", None)

    @property
    def effective_import_timeout(self) -> float:
        """Seconds the submission may take to import."""
        if self.import_timeout is not None:
            return float(self.import_timeout)
        return max(float(self.timeout), 10.0)

    @property
    def refused_imports(self) -> tuple[str, ...]:
        """Top-level packages the worker refuses, the always-refused ones included."""
        names = {n.strip().partition(".")[0] for n in self.forbidden_imports if n.strip()}
        return tuple(sorted(names | set(ALWAYS_FORBIDDEN_IMPORTS)))


def _require(condition: bool, message: str, flag: str | None) -> None:
    if not condition:
        raise UsageError(message, hint=f"pass a valid value to {flag}" if flag else None)

"""What the worker reports: one call's outcome, an import failure, a traceback frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import numpy as np

# Outcomes of one call. Only "ok" carries values.
STATUSES = ("ok", "error", "timeout", "crashed", "memory_limit", "missing")

# Why a call did not produce values; ids from the diagnosis table of the contracts.
CALL_DIAGNOSES = ("exception", "wrong_type", "timeout", "memory_limit", "crashed",
                  "missing_function", "import_error", "protocol_violation", "shape_mismatch")


class _FrameBase(TypedDict):
    file: str
    line: int
    function: str
    source: str


class Frame(_FrameBase, total=False):
    """One traceback frame in the learner's file (plain data, ready for JSON)."""

    column: int | None      # syntax errors only
    cell: int               # in a notebook: the cell (then ``line`` is the line in it)


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call of a learner function.

    ``values`` holds ``n_results`` arrays when ``status == "ok"``, each in the dtype the
    learner's result had (float32 stays float32, ints stay ints): cast before comparing.
    ``mutated`` names the arguments the function changed in place; the grader's own copies
    were never exposed, so this is a warning, never a change of verdict.
    """

    status: str
    values: tuple[np.ndarray, ...] = ()
    diagnosis: str | None = None
    message: str = ""
    frames: tuple[Frame, ...] = ()
    stdout: str = ""
    mutated: tuple[str, ...] = ()
    duration_s: float = 0.0
    called: bool = True     # False: not made (hung before, deadline used up, no worker)
    deadline: bool = False  # cut short by the submission's deadline, not its own timeout

    @property
    def ok(self) -> bool:
        """True when the function returned usable arrays."""
        return self.status == "ok"


@dataclass(frozen=True)
class ImportFailure:
    """Why the submission could not be imported; every call then fails with this cause.

    ``kind`` is one of syntax_error, exception, forbidden_import, exit, memory_limit,
    crashed, timeout, protocol_violation.
    """

    message: str
    frames: tuple[Frame, ...] = ()
    stdout: str = ""
    kind: str = "exception"
    hint: str | None = None

    @property
    def line(self) -> int | None:
        """The line of the learner's file where the import failed, if known."""
        return self.frames[-1]["line"] if self.frames else None

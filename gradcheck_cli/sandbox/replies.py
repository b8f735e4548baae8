"""Turning what a worker sent (or failed to send) into the grader's results.

Everything here works on messages ``protocol.py`` has checked, or on the grader's own
observations (an exit status, a timeout): plain data in, ``CallResult``/``ImportFailure`` out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import numpy as np

from ..notebook import NotebookSource, location
from .inside import wire
from .protocol import ProtocolViolation, reply_specs
from .results import CallResult, Frame, ImportFailure

IMPORT_HINTS = {
    "timeout": "Look for an endless loop or a long computation at the top level of the file; "
               "put script code under `if __name__ == \"__main__\":`.",
    "crashed": "Something at the top level of the file ended the process (os._exit, a signal, "
               "a native crash); put script code under `if __name__ == \"__main__\":`.",
    "protocol_violation": "Something at the top level of the file wrote to the grader's "
                          "private channel; leave file descriptors you did not open alone.",
}
# Bytes per number a reply may use (float64 is 8; long double 16), over what is expected.
_BYTES_PER_NUMBER = 16
_MIN_REPLY_NUMBERS = 1 << 16


class Naming:
    """Names the submission the way the caller did, in frames and messages (and the learner's
    modules beside it the same way: ``work/helper.py`` beside ``work/grads.py``); a notebook's
    lines as cell and line (``cells`` maps the Python made of it back to its cells)."""

    def __init__(self, shown: str, absolute: str, cells: NotebookSource | None = None):
        self.shown, self.absolute, self.cells = shown, absolute, cells

    def file(self, path: str) -> str:
        """``path`` (absolute, as the worker names it) as the caller would spell it."""
        if path == self.absolute:
            return self.shown
        folder = os.path.dirname(self.absolute)
        if path.startswith(folder + os.sep):
            return os.path.join(os.path.dirname(self.shown), path[len(folder) + 1:])
        return path

    def frames(self, raw) -> tuple[Frame, ...]:
        """Checked frames as plain dicts, the learner's files under the caller's names."""
        out = []
        for f in raw or ():
            frame: Frame = {"file": self.file(f["file"]),
                            "line": f["line"], "function": f["function"], "source": f["source"]}
            if f.get("column") is not None:
                frame["column"] = f["column"]
            if self.cells is not None and f["file"] == self.absolute:
                cell, frame["line"] = self.cells.locate(f["line"])
                if cell is not None:
                    frame["cell"] = cell
            out.append(frame)
        return tuple(out)

    def line(self, line: int | None) -> tuple[int | None, int | None]:
        """(cell, line) of a line of the submission; the cell is None but in a notebook."""
        return self.cells.locate(line) if self.cells is not None else (None, line)

    def import_failure(self, raw: dict, stdout: str) -> ImportFailure:
        """The worker's description of a failed import, as a message naming file and line."""
        frames = self.frames(raw["frames"])
        summary = raw["summary"] or "the submission could not be imported"
        where = location(frames[-1]["file"], frames[-1]["line"], frames[-1].get("cell")) \
            if frames else self.shown
        message = f"{where}: {summary}"
        if frames and frames[-1].get("source"):
            message += source_excerpt(frames[-1])
        return ImportFailure(message, frames, stdout, kind=raw["kind"], hint=raw["hint"])

    def worker_failure(self, kind: str, summary: str, stdout: str) -> ImportFailure:
        """An import that the grader saw fail (timeout, crash, a forged message)."""
        return ImportFailure(f"{self.shown}: {summary}", stdout=stdout, kind=kind,
                             hint=IMPORT_HINTS.get(kind))


def source_excerpt(frame: Frame) -> str:
    """The offending line, indented, with a caret under the column when known."""
    source = frame["source"].rstrip()
    stripped = source.lstrip()
    text = f"\n    {stripped}"
    column = frame.get("column")
    if column:
        text += "\n    " + " " * max(column - 1 - (len(source) - len(stripped)), 0) + "^"
    return text


def reply_budget(arrays: list[np.ndarray], expect: Iterable | None, default: int) -> int:
    """The most payload bytes worth reading for a reply: a few times what the call's
    arguments and expected results hold (another input's gradient, a forward output, a
    broadcast too many still get diagnosed); ``default`` when nothing is expected."""
    if expect is None:
        return default
    numbers = sum(a.size for a in arrays) + sum(wire.count(tuple(s)) for s in expect)
    return _BYTES_PER_NUMBER * max(4 * numbers, _MIN_REPLY_NUMBERS) + 64 * wire.ALIGN


def oversized(label: str, exc: wire.Oversized, expect, seq: int, stdout: str,
              duration: float) -> CallResult:
    """A reply far larger than the expected result: a wrong shape, never kept in memory."""
    header, specs = reply_specs(exc.head)
    if header.get("seq") != seq:
        raise ProtocolViolation(f"an oversized reply to request {str(header.get('seq'))[:20]}, "
                                f"not to {seq}")
    if header.get("status") != "ok" or not specs:
        raise ProtocolViolation(f"a {str(header.get('status'))[:20]} reply with "
                                f"{exc.payload_len} bytes of arrays")
    got = ", ".join(f"{shape} ({wire.count(shape):,} numbers)" for _, shape in specs[:4])
    wanted = ", ".join(str(tuple(s)) for s in expect or ())
    return CallResult("error", diagnosis="shape_mismatch", stdout=stdout, duration_s=duration,
                      message=f"{label} returned shape {got}; the gradient has shape "
                              f"{wanted or 'much smaller'}: a reply this large is not kept")


def arguments(args) -> tuple[list[str], list[np.ndarray]]:
    """Names and numeric arrays of the positional arguments of a call."""
    import numpy as np

    items = list(args.items()) if isinstance(args, Mapping) else list(args)
    names, arrays = [], []
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, value = item
        else:
            name, value = f"arg{i}", item
        arr = np.asarray(value)
        if arr.dtype.kind not in wire.NUMERIC_KINDS:
            raise TypeError(f"argument {name!r} is not numeric (dtype {arr.dtype})")
        names.append(name)
        arrays.append(arr)
    return names, arrays


def not_called_again(label: str, timeout: float) -> CallResult:
    """A call not made: a loop that never ends would cost the timeout on every case."""
    return CallResult("timeout", diagnosis="timeout", called=False,
                      message=f"{label} was not called again: it did not return within "
                              f"{timeout:g} s on an earlier call")

"""What the grader accepts from a worker: every message checked, field by field, before use.

The worker runs the learner's code, and the learner can write to the worker's reply pipe (its
descriptor is in /proc/self/fd): a frame may be forged. So nothing of a reply is trusted: each
header field must have the type, the range and (for text) the length the worker's own code
produces (``inside/serve.py`` documents the messages), numbers must be finite, and no field may
be unknown. Anything else is a ``ProtocolViolation``: the call (or the import) that was waiting
for the reply is ``crashed`` with the diagnosis ``protocol_violation``, the worker is replaced,
and grading goes on.
"""

from __future__ import annotations

import math

from .inside import wire
from .results import Frame

# Longest texts a worker of ours sends: exception texts are cut at 4000 characters (``calls.py``).
MAX_TEXT = 16_384
MAX_NAME = 1_024
MAX_FRAMES = 40
MAX_FUNCTIONS = 10_000
MAX_LINE = 10_000_000
MAX_DURATION_S = 10.0 ** 7

# The outcomes a worker itself reports; timeouts and crashes are the grader's to see.
WORKER_STATUSES = {"ok": (None,), "error": ("exception", "wrong_type", "bad_arguments"),
                   "memory_limit": ("memory_limit",), "missing": ("missing_function",)}
IMPORT_KINDS = ("syntax_error", "exception", "forbidden_import", "exit", "memory_limit")
# Kinds of result array a gradient may be; complex numbers are a wrong type, not a violation.
REAL_KINDS = frozenset("biuf")


class ProtocolViolation(Exception):
    """A worker's message that breaks the protocol (forged, truncated, out of range)."""


def started(header: dict) -> tuple[list[str], dict]:
    """The worker's first message: the limits it applied and its confinement, for the report."""
    _fields(header, "started", {"kind", "pid", "limits", "confinement"})
    _integer(header["pid"], "pid", 1, 2**31)
    limits = _list(header["limits"], "limits", 64)
    for item in limits:
        _text(item, "limits", 64)
    confinement = header["confinement"]
    if not isinstance(confinement, dict) or len(confinement) > 64:
        raise ProtocolViolation("confinement is not a small object")
    for key, value in confinement.items():
        _text(key, "confinement", 64)
        if value is not None and not isinstance(value, (str, int, float)):
            raise ProtocolViolation(f"confinement.{key} is not a plain value")
        if isinstance(value, str):
            _text(value, f"confinement.{key}", 512)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            _number(value, f"confinement.{key}", -2.0**63, 2.0**63)
    return list(limits), dict(confinement)


def ready(header: dict) -> tuple[dict[str, int | None], dict | None, dict[str, str]]:
    """The end of the import: the submission's functions, or why it could not be imported,
    and the top-level names that are not functions (name: type name)."""
    _fields(header, "ready", {"kind", "functions", "not_functions", "import_error"})
    functions = header["functions"]
    if not isinstance(functions, dict) or len(functions) > MAX_FUNCTIONS:
        raise ProtocolViolation("functions is not an object of at most "
                                f"{MAX_FUNCTIONS} names")
    for name, line in functions.items():
        _text(name, "a function name", MAX_NAME)
        if line is not None:
            _integer(line, f"the line of {name[:40]}", 0, MAX_LINE)
    others = header["not_functions"]
    if not isinstance(others, dict) or len(others) > MAX_FUNCTIONS:
        raise ProtocolViolation("not_functions is not an object of at most "
                                f"{MAX_FUNCTIONS} names")
    for name, kind in others.items():
        _text(name, "a name", MAX_NAME)
        _text(kind, f"the type of {name[:40]}", MAX_NAME)
    failure = header["import_error"]
    if failure is not None:
        if not isinstance(failure, dict) or set(failure) != {"kind", "summary", "frames", "hint"}:
            raise ProtocolViolation("import_error does not have exactly kind, summary, frames, "
                                    "hint")
        if failure["kind"] not in IMPORT_KINDS:
            raise ProtocolViolation(f"unknown import_error kind {str(failure['kind'])[:40]!r}")
        _text(failure["summary"], "import_error.summary", MAX_TEXT)
        frames(failure["frames"])
        if failure["hint"] is not None:
            _text(failure["hint"], "import_error.hint", MAX_TEXT)
    return dict(functions), failure, dict(others)


def result(header: dict, arrays: list, names: list[str], n_values: int | None,
           seq: int) -> dict:
    """A call's reply header, checked against the call it answers (its ``seq``, its argument
    names, the number of arrays due). Returns the header."""
    _fields(header, "result", {"kind", "seq", "status", "diagnosis", "message", "frames",
                               "mutated", "duration_s"})
    if type(header["seq"]) is not int or header["seq"] != seq:
        raise ProtocolViolation(f"a reply to request {str(header['seq'])[:20]}, not to {seq}")
    status, diagnosis = header["status"], header["diagnosis"]
    if status not in WORKER_STATUSES:
        raise ProtocolViolation(f"unknown status {str(status)[:40]!r}")
    if diagnosis not in WORKER_STATUSES[status]:
        raise ProtocolViolation(f"diagnosis {str(diagnosis)[:40]!r} does not go with status "
                                f"{status}")
    _text(header["message"], "message", MAX_TEXT)
    frames(header["frames"])
    mutated = _list(header["mutated"], "mutated", len(names))
    if len(set(mutated)) != len(mutated) or any(n not in names for n in mutated):
        raise ProtocolViolation("mutated names something that was not an argument")
    _number(header["duration_s"], "duration_s", 0.0, MAX_DURATION_S)
    if status != "ok" and arrays:
        raise ProtocolViolation(f"a {status} reply carries arrays")
    if status == "ok" and (not arrays or (n_values is not None and len(arrays) != n_values)):
        raise ProtocolViolation(f"{len(arrays)} arrays where {n_values or 'some'} were due")
    return header


def complex_result(arrays: list) -> bool:
    """Whether a result holds complex numbers (a wrong type, not a forged frame)."""
    return any(_kind(a) not in REAL_KINDS for a in arrays)


def frames(raw) -> list[Frame]:
    """Traceback frames as the worker sends them, checked."""
    items = _list(raw, "frames", MAX_FRAMES)
    for f in items:
        if not isinstance(f, dict) or not {"file", "line", "function", "source"} <= set(f) \
                or not set(f) <= {"file", "line", "function", "source", "column"}:
            raise ProtocolViolation("a traceback frame does not have file, line, function, "
                                    "source")
        _text(f["file"], "frame.file", 4096)
        _integer(f["line"], "frame.line", 0, MAX_LINE)
        _text(f["function"], "frame.function", MAX_NAME)
        _text(f["source"], "frame.source", MAX_TEXT)
        if f.get("column") is not None:
            _integer(f["column"], "frame.column", 0, MAX_LINE)
    return items


def reply_specs(head: bytes) -> tuple[dict, list]:
    """The header and the (dtype, shape) of each array of a reply whose payload was not read."""
    try:
        header = wire.load_header(head)
        return header, wire.array_specs(header.pop("arrays", None))
    except wire.WireError as exc:
        raise ProtocolViolation(str(exc)) from None


# ---------------------------------------------------------------------------- fields


def _fields(header: dict, kind: str, expected: set[str]) -> None:
    if header.get("kind") != kind:
        raise ProtocolViolation(f"expected a {kind!r} message, got kind "
                                f"{str(header.get('kind'))[:40]!r}")
    if set(header) != expected:
        extra = sorted(set(header) - expected)[:3]
        missing = sorted(expected - set(header))[:3]
        raise ProtocolViolation(f"a {kind!r} message with fields {extra} too many, "
                                f"{missing} missing")


def _text(value, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ProtocolViolation(f"{name} is a {type(value).__name__}, not text")
    if len(value) > limit:
        raise ProtocolViolation(f"{name} is {len(value)} characters long (at most {limit})")
    return value


def _integer(value, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ProtocolViolation(f"{name} is not a whole number in [{low}, {high}]")
    return value


def _number(value, name: str, low: float, high: float) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise ProtocolViolation(f"{name} is not a finite number in [{low:g}, {high:g}]")
    return float(value)


def _list(value, name: str, limit: int) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise ProtocolViolation(f"{name} is not a list of at most {limit} items")
    return value


def _kind(array) -> str:
    return (array[0] if isinstance(array, tuple) else array.dtype).kind

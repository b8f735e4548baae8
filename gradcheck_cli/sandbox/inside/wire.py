"""The worker's wire format: length-prefixed frames of a JSON header and raw array bytes.

A frame is ``>IQ`` (header length, payload length), the UTF-8 JSON header, then the payload:
the arrays' bytes in C order, each starting at a multiple of ``ALIGN`` bytes, described by
``header["arrays"]`` as ``[{"dtype": "<f8", "shape": [2, 3]}, ...]``. Nothing is ever
pickled, so a frame can carry numbers and nothing else.

This module is shared by the grader and the worker process, which runs outside the package,
so it imports nothing but the standard library and NumPy.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

PREFIX = struct.Struct(">IQ")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_DIMENSIONS = 64
ALIGN = 16                  # arrays decoded in place are aligned for any dtype

# Kinds of array that may cross the wire: booleans, integers, floats, complex numbers.
NUMERIC_KINDS = frozenset("biufc")

_dumps = json.dumps
_asarray = _frombuffer = _empty = _dtype = _uint8 = None


def _bind_numpy() -> None:
    """Take NumPy's functions that frames are made and read with."""
    global _asarray, _frombuffer, _empty, _dtype, _uint8
    import numpy as np
    _asarray, _frombuffer, _empty, _dtype = np.asarray, np.frombuffer, np.empty, np.dtype
    _uint8 = np.uint8


# In the worker and the fork server (where this folder is the package ``_gradcheck_inside``)
# NumPy's functions are bound at import, before any learner code runs: a learner who
# monkeypatches NumPy or json there does not change what is encoded. The grader binds them at
# its first frame, so that it can start a worker before it has imported NumPy at all.
if __name__.startswith("_gradcheck_inside"):
    _bind_numpy()


class WireError(ValueError):
    """A frame that does not follow the format (truncated, oversized, not numeric)."""


class Oversized(WireError):
    """A frame whose payload is larger than the reader takes; its header was read, its payload
    was not (``head``: the header's bytes, ``payload_len``: the size it announced)."""

    def __init__(self, head: bytes, payload_len: int, limit: int):
        super().__init__(f"oversized frame (payload {payload_len} B, at most {limit} B taken)")
        self.head, self.payload_len, self.limit = head, payload_len, limit


def written_out(pending: list, written: int) -> None:
    """Drop from ``pending`` (buffers of one frame, in order) the ``written`` bytes that one
    ``writev`` took: whole buffers, then the start of the next."""
    while pending and written >= len(pending[0]):
        written -= len(pending.pop(0))
    if written:
        pending[0] = pending[0][written:]


def encode_parts(header: dict, arrays=()) -> list:
    """One frame as buffers to write in order (arrays are not copied when contiguous)."""
    if _asarray is None:
        _bind_numpy()
    parts: list = [b""]
    specs, size = [], 0
    for arr in arrays:
        arr = _asarray(arr)             # not ascontiguousarray: that makes 0-d arrays 1-d
        if arr.dtype.kind not in NUMERIC_KINDS:
            raise WireError(f"cannot send an array of dtype {arr.dtype}")
        pad = -size % ALIGN
        if pad:
            parts.append(bytes(pad))
        data = _raw_bytes(arr)
        parts.append(data)
        size += pad + len(data)
        specs.append({"dtype": arr.dtype.str, "shape": list(arr.shape)})
    head = _dumps({**header, "arrays": specs}, separators=(",", ":")).encode("utf-8")
    parts[0] = PREFIX.pack(len(head), size) + head
    return parts


def encode(header: dict, arrays=()) -> bytes:
    """One frame as a single bytes object."""
    return b"".join(encode_parts(header, arrays))


def split_prefix(prefix: bytes, max_payload: int,
                 max_header: int = MAX_HEADER_BYTES) -> tuple[int, int]:
    """The header and payload lengths announced by a frame's prefix, checked against limits."""
    head_len, payload_len = PREFIX.unpack(prefix)
    if head_len > max_header or payload_len > max_payload:
        raise WireError(f"oversized frame (header {head_len} B, payload {payload_len} B)")
    return head_len, payload_len


def load_header(head: bytes) -> dict:
    """A frame's JSON header: an object, with finite numbers only."""
    try:
        header = _decode_json(bytes(head).decode("utf-8"))
    except (ValueError, RecursionError, TypeError) as exc:    # RecursionError: [[[[...]]]]
        raise WireError(f"unreadable frame header ({type(exc).__name__}: {exc})"[:300]) from None
    if not isinstance(header, dict):
        raise WireError(f"the frame header is a {type(header).__name__}, not an object")
    return header


def decode(head: bytes, payload, copy: bool = True) -> tuple[dict, list[np.ndarray]]:
    """The header and the arrays of one frame.

    With ``copy=False`` the arrays are views into ``payload``, which must then be a writable
    buffer that nothing else uses (as ``FrameReader`` hands out).
    """
    if _asarray is None:
        _bind_numpy()
    header = load_header(head)
    arrays, offset = [], 0
    for dtype, shape in array_specs(header.pop("arrays", None)):
        n = count(shape)
        offset += -offset % ALIGN
        if offset + n * dtype.itemsize > len(payload):
            raise WireError("frame payload is shorter than its arrays")
        if n == 0:
            arr = _empty(shape, dtype)
        else:
            arr = _frombuffer(payload, dtype=dtype, count=n, offset=offset).reshape(shape)
            arr = arr.copy() if copy else arr
        arrays.append(arr)
        offset += n * dtype.itemsize
    if offset != len(payload):
        raise WireError("frame payload is longer than its arrays")
    return header, arrays


class FrameReader:
    """Assembles one incoming frame from reads of any size, straight into its own buffers.

    ``buffer()`` is where the next bytes go; ``advance(n)`` says how many arrived and returns
    ``(head, payload)`` once the frame is whole. The payload is a fresh bytearray, so
    ``decode(head, payload, copy=False)`` is safe. ``max_payload`` may change between frames:
    it is checked once the header is in, before any payload is read or allocated (``Oversized``
    then carries the header). Reads never go past the frame being assembled.
    """

    def __init__(self, max_payload: int, max_header: int = MAX_HEADER_BYTES):
        self.max_payload = max_payload
        self.max_header = max_header
        self._reset()

    def buffer(self) -> memoryview:
        return memoryview(self._target)[self._filled:]

    def advance(self, n: int):
        self._filled += n
        while self._filled == len(self._target):
            if self._stage == "prefix":
                head_len, self._payload_len = split_prefix(bytes(self._target), 1 << 62,
                                                           self.max_header)
                self._stage, self._target, self._filled = "head", bytearray(head_len), 0
            elif self._stage == "head":
                self._head = bytes(self._target)
                if self._payload_len > self.max_payload:
                    head, size = self._head, self._payload_len
                    self._reset()
                    raise Oversized(head, size, self.max_payload)
                self._payload = bytearray(self._payload_len)
                self._stage, self._target, self._filled = "payload", self._payload, 0
            else:
                frame = (self._head, self._payload)
                self._reset()
                return frame
        return None

    def _reset(self) -> None:
        self._stage, self._target, self._filled = "prefix", bytearray(PREFIX.size), 0
        self._head, self._payload, self._payload_len = b"", bytearray(), 0


def _raw_bytes(arr: np.ndarray):
    """The array's bytes in C order: a view when it is contiguous, else a copy."""
    if arr.flags.c_contiguous:
        return memoryview(arr.reshape(-1).view(_uint8))
    return arr.tobytes()


def array_specs(specs) -> list[tuple[np.dtype, tuple[int, ...]]]:
    """The (dtype, shape) of each array a header's ``arrays`` describes, strictly checked."""
    if _asarray is None:
        _bind_numpy()
    if not isinstance(specs, list):
        raise WireError("the frame header does not describe its arrays")
    return [_checked_spec(spec) for spec in specs]


def count(shape: tuple[int, ...]) -> int:
    """How many numbers an array of this shape holds."""
    n = 1
    for d in shape:
        n *= d
    return n


def _checked_spec(spec) -> tuple[np.dtype, tuple[int, ...]]:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape"}:
        raise WireError(f"bad array description {str(spec)[:100]}")
    raw_dtype, raw_shape = spec["dtype"], spec["shape"]
    if not isinstance(raw_dtype, str) or len(raw_dtype) > 8 or not isinstance(raw_shape, list):
        raise WireError(f"bad array description {str(spec)[:100]}")
    try:
        dtype = _dtype(raw_dtype)
    except (TypeError, ValueError) as exc:
        raise WireError(f"bad array dtype {raw_dtype!r} ({exc})") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"array dtype {dtype} is not numeric")
    if len(raw_shape) > MAX_DIMENSIONS or not all(
            type(n) is int and 0 <= n < 2**62 for n in raw_shape):    # no bool, no float
        raise WireError(f"bad array shape {str(raw_shape)[:100]}")
    return dtype, tuple(raw_shape)


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a number a frame may carry")


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0.0:                # inf (1e999) or nan; no math import needed
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


# One decoder for every header (``json.loads`` with these options builds one per call).
_decode_json = json.JSONDecoder(parse_constant=_not_a_number, parse_float=_finite).decode

"""Attack: write forged reply frames to the worker's reply pipe (found by probing descriptors,
no /proc needed), each breaking the protocol another way, hoping to pass or to crash the
grader. Each function writes one frame, then returns the right answer; the last two even
number their frame as the request being answered."""

import fcntl
import json
import os
import stat
import struct
import sys

import numpy as np

GOOD = {"kind": "result", "status": "ok", "diagnosis": None, "message": "", "frames": [],
        "mutated": [], "duration_s": 0.001}


def reply_pipes():
    """The worker's descriptors that are pipes open for writing, past the standard three."""
    for fd in range(3, 64):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if writable and stat.S_ISFIFO(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            continue


def forge(head: bytes, payload: bytes = b"", announced: int | None = None) -> None:
    size = len(payload) if announced is None else announced
    for fd in reply_pipes():
        os.write(fd, struct.pack(">IQ", len(head), size) + head + payload)


def forge_result(x, arrays=None, **fields) -> None:
    answer = np.asarray(x, dtype="<f8")
    header = {**GOOD, **fields,
              "arrays": [{"dtype": "<f8", "shape": [len(x)]}] if arrays is None else arrays}
    forge(json.dumps(header).encode(), answer.tobytes())


def current_seq() -> int:
    """The number of the request being served, read off the worker's own stack."""
    frame = sys._getframe()
    while frame is not None:
        header = frame.f_locals.get("header")
        if isinstance(header, dict) and "seq" in header:
            return header["seq"]
        frame = frame.f_back
    raise LookupError("no request on the stack")


def sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


def grad_nan_duration(x, dz):
    forge_result(sigmoid(x, dz), duration_s=float("nan"))
    return sigmoid(x, dz)


def grad_huge_duration(x, dz):
    head = json.dumps({**GOOD, "arrays": [{"dtype": "<f8", "shape": [len(x)]}]})
    forge(head.replace('"duration_s": 0.001', '"duration_s": 1e999').encode(),
          sigmoid(x, dz).tobytes())
    return sigmoid(x, dz)


def grad_status_text(x, dz):
    forge_result(sigmoid(x, dz), status="passed")
    return sigmoid(x, dz)


def grad_frames_not_a_list(x, dz):
    forge_result(sigmoid(x, dz), status="error", diagnosis="exception", arrays=[],
                 frames={"file": "x", "line": "one"})
    return sigmoid(x, dz)


def grad_line_is_a_float(x, dz):
    forge_result(sigmoid(x, dz), status="error", diagnosis="exception", arrays=[],
                 frames=[{"file": "x", "line": 1.5, "function": "f", "source": ""}])
    return sigmoid(x, dz)


def grad_bool_shape(x, dz):
    forge_result(sigmoid(x, dz)[:1], arrays=[{"dtype": "<f8", "shape": [True]}])
    return sigmoid(x, dz)


def grad_object_dtype(x, dz):
    forge_result(sigmoid(x, dz), arrays=[{"dtype": "|O", "shape": [len(x)]}])
    return sigmoid(x, dz)


def grad_extra_field(x, dz):
    forge_result(sigmoid(x, dz), verdict="passed")
    return sigmoid(x, dz)


def grad_mutated_unknown(x, dz):
    forge_result(sigmoid(x, dz), mutated=["the_graders_answer"])
    return sigmoid(x, dz)


def grad_deep_nesting(x, dz):
    forge(b"[" * 100_000 + b"]" * 100_000)
    return sigmoid(x, dz)


def grad_not_json(x, dz):
    forge(b"\xff\xfe garbage")
    return sigmoid(x, dz)


def grad_huge_header(x, dz):
    forge(b" " * (2 << 20))
    return sigmoid(x, dz)


def grad_short_payload(x, dz):
    forge(json.dumps({**GOOD, "arrays": [{"dtype": "<f8", "shape": [len(x)]}]}).encode(),
          b"\0" * 8)
    return sigmoid(x, dz)


def grad_announces_a_terabyte(x, dz):
    head = json.dumps({**GOOD, "seq": current_seq(),
                       "arrays": [{"dtype": "<f8", "shape": [2**37]}]}).encode()
    forge(head, b"", announced=2**40)
    return sigmoid(x, dz)


def grad_complex(x, dz):
    forge(json.dumps({**GOOD, "seq": current_seq(),
                      "arrays": [{"dtype": "<c16", "shape": [len(x)]}]}).encode(),
          sigmoid(x, dz).astype(complex).tobytes())
    return sigmoid(x, dz)


def grad_sigmoid(x, dz):
    return sigmoid(x, dz)

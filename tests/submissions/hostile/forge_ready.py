"""Attack: while being imported, forge the worker's "ready" message with a function list that
is not a list of names (and a NaN line number), hoping to crash the grader."""

import fcntl
import json
import os
import stat
import struct

import numpy as np


def grad_sigmoid(x, dz):
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)


for fd in range(3, 64):
    try:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY \
                and stat.S_ISFIFO(os.fstat(fd).st_mode):
            head = b'{"kind": "ready", "functions": {"grad_sigmoid": NaN}, ' \
                   b'"not_functions": {}, "import_error": null, "arrays": []}'
            os.write(fd, struct.pack(">IQ", len(head), 0) + head)
    except OSError:
        pass

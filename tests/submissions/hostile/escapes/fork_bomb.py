"""Attack: start hundreds of sleeping processes (bounded: 300, each sleeping a while)."""

import ctypes
import os
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def grad_sigmoid(x, dz):
    for _ in range(300):
        try:
            pid = os.fork()
        except OSError:                     # the process limit: stop trying
            break
        if pid == 0:
            try:
                named("gcx" + TARGETS["token"])
                time.sleep(TARGETS["seconds"])
            finally:
                os._exit(0)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)

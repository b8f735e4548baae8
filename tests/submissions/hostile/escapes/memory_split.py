"""Attack: spread memory over several processes, each under the per-process limit, hoping the
limit is per process rather than per learner: four children hold 100 MB each for a while."""

import ctypes
import os
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def grad_sigmoid(x, dz):
    for _ in range(4):
        if os.fork() == 0:
            try:
                named("gcx" + TARGETS["token"])
                hoard = np.ones(100 * 2**20 // 8)      # written, so really held
                time.sleep(TARGETS["seconds"])
            finally:
                os._exit(0)
    time.sleep(0.5)                         # while they hold it
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)

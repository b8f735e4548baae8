"""Attack: lift the CPU-time backstop, then leave a process spinning on the CPU behind."""

import ctypes
import os
import resource
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def grad_sigmoid(x, dz):
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY,) * 2)
    except (ValueError, OSError):
        pass
    if os.fork() == 0:
        try:
            named("gcx" + TARGETS["token"])
            stop = time.monotonic() + TARGETS["seconds"]
            while time.monotonic() < stop:
                pass
        finally:
            os._exit(0)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)

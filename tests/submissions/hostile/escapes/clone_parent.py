"""Attack: a process made with clone(CLONE_PARENT): the child of the worker's parent, not of the
worker, so a walk of the worker's process tree never finds it; in a session of its own, so
killing the worker's process group misses it too. It lives on for a while, named after the
test's token so that the test can look for it. Then the right answer."""

import ctypes
import os
import platform
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here

CLONE_PARENT, SIGCHLD = 0x8000, 17
CLONE = {"x86_64": 56, "aarch64": 220}


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def grad_sigmoid(x, dz):
    libc = ctypes.CDLL(None, use_errno=True)
    for _ in range(3):
        pid = libc.syscall(CLONE[platform.machine()], CLONE_PARENT | SIGCHLD, 0, 0, 0, 0)
        if pid == 0:                        # the clone: outlive the worker, then stop
            os.setsid()
            named("gcx" + TARGETS["token"])
            time.sleep(TARGETS["seconds"])
            os._exit(0)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)

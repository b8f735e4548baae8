"""Attack: keep the "deleted afterwards" work directory: leave a file in it, rename it away
(next to itself, to /tmp, to the test's world-writable folder) and hold it open from a process
that outlives the worker."""

import ctypes
import os
import time

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def named(tag: str) -> None:
    ctypes.CDLL(None).prctl(15, tag.encode()[:15], 0, 0, 0)        # PR_SET_NAME


def grad_sigmoid(x, dz):
    token = TARGETS["token"]
    work = os.getcwd()
    with open(f"kept-{token}.txt", "w") as f:
        f.write("my notes")
    for target in (os.path.join(os.path.dirname(work), f"kept-{token}"), f"/tmp/kept-{token}",
                   os.path.join(TARGETS["outside"], f"kept-{token}")):
        try:
            os.rename(work, target)
            break
        except OSError:
            pass
    if os.fork() == 0:
        try:
            named("gcx" + token)
            time.sleep(TARGETS["seconds"])
        finally:
            os._exit(0)
    print(work)
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)

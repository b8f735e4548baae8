"""Attack: write outside the work directory, wherever anyone may: the test's world-writable
folder (a new file, and one already there), /tmp, /var/tmp, /dev/shm."""

import os

import numpy as np

TARGETS = {}  # the test writes its token, listener, folders and time limit here


def grad_sigmoid(x, dz):
    token = TARGETS["token"]
    for path, mode in ((os.path.join(TARGETS["outside"], f"{token}.txt"), "w"),
                       (os.path.join(TARGETS["outside"], "grades.csv"), "a"),
                       (f"/tmp/{token}.txt", "w"), (f"/var/tmp/{token}.txt", "w"),
                       (f"/dev/shm/{token}.txt", "w")):
        try:
            with open(path, mode) as f:
                f.write("graded by me\n")
        except OSError:
            pass
    s = 1.0 / (1.0 + np.exp(-x))
    return dz * s * (1.0 - s)
